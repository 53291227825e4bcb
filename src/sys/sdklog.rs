//! The AWS SDK's own messages: `tracing` events, which vanish without a subscriber. This tiny
//! subscriber prints the SDK's warnings and errors (a profile section the SDK ignores, a file
//! it could not read) as one `mfaexec: warning:` line on stderr, and, with `-v`, its
//! informational events too. Debug and trace events are never printed: they are the SDK's
//! internals, and some carry request details.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Installs the subscriber for the whole run. Called once, from `main`.
pub fn install(verbose: bool) {
    let _ = tracing::subscriber::set_global_default(SdkMessages {
        verbose,
        held: false,
    });
}

/// As `install(false)`, keeping the warnings until `print_held`: `mfaexec` says them only if
/// it runs the command itself, as mfaexec-core would say them again.
pub fn install_held() {
    let _ = tracing::subscriber::set_global_default(SdkMessages {
        verbose: false,
        held: true,
    });
}

/// Prints the warnings `install_held` kept.
pub fn print_held() {
    for text in SAID.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        crate::say!("{text}");
    }
}

/// Every line said (or held) in this run.
static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

struct SdkMessages {
    verbose: bool,
    held: bool,
}

impl SdkMessages {
    fn wanted(&self, level: &Level) -> bool {
        *level <= Level::WARN || (self.verbose && *level <= Level::INFO)
    }
}

impl Subscriber for SdkMessages {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && self.wanted(metadata.level())
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(if self.verbose {
            tracing::level_filters::LevelFilter::INFO
        } else {
            tracing::level_filters::LevelFilter::WARN
        })
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // Spans are never enabled, so this is not called; an id is still required.
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        // The profile provider runs only over the config mfaexec makes for a provider source
        // (aws/profile_provider.rs), and its warning repeats the error mfaexec reports itself.
        if !self.wanted(metadata.level())
            || metadata
                .target()
                .starts_with("aws_config::profile::credentials")
        {
            return;
        }
        let mut line = OneLine::default();
        event.record(&mut line);
        let what = if *metadata.level() <= Level::WARN {
            "warning"
        } else {
            "info"
        };
        // The same file may be parsed twice in a run (a quick parse of the sections a plan
        // reads, then the whole file for an error's context): each warning is said once.
        let text = format!("mfaexec: {what}: {}", line.text());
        let mut said = SAID.lock().unwrap_or_else(|p| p.into_inner());
        if !said.contains(&text) {
            if !self.held {
                crate::say!("{text}");
            }
            said.push(text);
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// An event's message, then its other fields as `name: value`, on one line.
#[derive(Default)]
struct OneLine {
    message: String,
    fields: String,
}

impl OneLine {
    fn text(&self) -> String {
        let text = if self.fields.is_empty() {
            self.message.clone()
        } else {
            format!("{} ({})", self.message, self.fields)
        };
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

impl Visit for OneLine {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            if !self.fields.is_empty() {
                self.fields.push_str(", ");
            }
            let _ = write!(self.fields, "{}: {value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            if !self.fields.is_empty() {
                self.fields.push_str(", ");
            }
            let _ = write!(self.fields, "{}: {value}", field.name());
        }
    }
}
