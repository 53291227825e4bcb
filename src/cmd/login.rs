//! `mfaexec login`: the AWS console, signed in with the profile's session, for up to 12 hours.
//!
//! Switching role inside the console gives at most 1 hour; a sign-in URL made from a session of
//! AssumeRole with long-term keys can ask for up to 12 (AWS-RULES §5). The session is the same
//! one exec and env use: from the cache, or new with one MFA code.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::aws::federation;
use crate::cli::LoginArgs;
use crate::config::limits::{self, Call, Origin};
use crate::config::profile::Plan;
use crate::error::Result;
use crate::sys::environ::Environment;

/// What `SessionDuration` the sign-in gets, and why.
enum ConsoleDuration {
    /// Sent: a role session from AssumeRole with long-term keys.
    Sent,
    /// Not sent: AWS refuses it for these credentials; the console ends with them.
    NotSent(&'static str),
}

fn console_duration(plan: &Plan) -> ConsoleDuration {
    match plan.call {
        Call::AssumeRole => ConsoleDuration::Sent,
        Call::AssumeRoleChained => ConsoleDuration::NotSent(
            "AWS accepts no console duration for a chained role session, so the console session ends with the credentials (at most 1h)",
        ),
        Call::SsoRoleCredentials | Call::WebIdentity | Call::LoginSession => {
            ConsoleDuration::NotSent(
                "the console session ends with the role credentials it is made from",
            )
        }
        _ => ConsoleDuration::NotSent(
            "a federation token's console session lasts as long as the token",
        ),
    }
}

/// The duration asked for (flag, MFAEXEC_DURATION, duration_seconds), else what the session has
/// left; within the 15m..12h AWS accepts.
fn session_duration_secs(plan: &Plan, expiration: i64) -> u64 {
    let wanted = if plan.duration.origin == Origin::Default {
        expiration.saturating_sub(crate::sys::time::now()).max(0) as u64
    } else {
        plan.duration.secs
    };
    wanted.clamp(limits::MIN, limits::ASSUME_ROLE_MAX)
}

pub fn run(args: &LoginArgs, env: &Environment, terminal: crate::sys::tty::Terminal) -> Result<()> {
    let plan = super::console_plan(&args.session, env)?;
    let region = plan.sts_region().to_owned();
    let destination = federation::destination(&region, args.destination.as_deref())?;
    let endpoint = federation::endpoint(&region, env)?;
    let duration_kind = console_duration(&plan);

    if args.session.dry_run {
        let mut report = crate::output::report::dry_run_report(&plan, &args.session, env)?;
        let duration_text = match &duration_kind {
            ConsoleDuration::Sent if plan.duration.origin == Origin::Default => {
                "SessionDuration = what the session has left".to_owned()
            }
            ConsoleDuration::Sent => format!(
                "SessionDuration = {}",
                limits::format(
                    plan.duration
                        .secs
                        .clamp(limits::MIN, limits::ASSUME_ROLE_MAX)
                )
            ),
            ConsoleDuration::NotSent(why) => format!("no SessionDuration: {why}"),
        };
        report.push_str(&format!(
            "{:<11} POST getSigninToken to {} (from {}); {duration_text}\n{:<11} {destination}\n",
            "sign-in", endpoint.value, endpoint.from, "console"
        ));
        let net = crate::aws::net::Network::load(&plan.net)?;
        report.push_str(&format!(
            "{:<11} sign-in: {}\n",
            "proxy",
            net.route(&endpoint.value).describe()
        ));
        return crate::output::print_stdout(&report);
    }

    if let ConsoleDuration::NotSent(why) = &duration_kind
        && plan.call == Call::AssumeRoleChained
    {
        crate::say!("mfaexec: profile `{}`: {why}", plan.profile);
    }
    // Before the session: a bad proxy or CA bundle costs no MFA code.
    let net = crate::aws::net::Network::load(&plan.net)?;
    let session = crate::session::session(
        &plan,
        &args.session,
        env,
        crate::sys::tty::Asking::Terminal(terminal),
    )?;
    let session_duration = match duration_kind {
        ConsoleDuration::Sent => Some(session_duration_secs(&plan, session.expiration)),
        ConsoleDuration::NotSent(_) => None,
    };
    if args.session.verbose {
        crate::say!(
            "mfaexec: reaching {} {}; trusting {}",
            endpoint.value,
            net.route(&endpoint.value).describe(),
            net.describe_roots()
        );
        crate::say!(
            "mfaexec: asking {} for a sign-in token{}",
            endpoint.value,
            session_duration
                .map(|s| format!(" with a console session of {}", limits::format(s)))
                .unwrap_or_default()
        );
    }
    let token = federation::signin_token(
        &endpoint.value,
        &session,
        session_duration,
        crate::session::sts_timeout(env)?,
        &net,
    )?;
    let url = federation::login_url(&endpoint.value, &destination, &token);
    if args.session.verbose {
        crate::say!("mfaexec: sign-in URL {}", federation::masked(&url));
    }
    if args.print {
        return crate::output::print_stdout(&format!("{url}\n"));
    }
    match open_browser(&url, env) {
        Ok(how) => {
            crate::say!(
                "mfaexec: opened the AWS console for {} with {how}",
                plan.profile
            );
            Ok(())
        }
        Err(why) => {
            crate::say!(
                "mfaexec: {why}; open the sign-in URL below within {}",
                federation::URL_LIFETIME
            );
            crate::output::print_stdout(&format!("{url}\n"))
        }
    }
}

/// Opens `url` with `$BROWSER` (a `:`-separated list of commands; `%s` stands for the URL,
/// else it is appended), else the desktop's opener. Never through a shell, so nothing in the
/// URL is interpreted. Returns what opened it, or why nothing could.
fn open_browser(url: &str, env: &Environment) -> std::result::Result<String, String> {
    if let Some(browser) = env.get("BROWSER") {
        for entry in browser.split(':').filter(|e| !e.trim().is_empty()) {
            let Ok(mut words) = shell_words::split(entry) else {
                continue;
            };
            if words.is_empty() {
                continue;
            }
            if words.iter().any(|w| w.contains("%s")) {
                words = words.into_iter().map(|w| w.replace("%s", url)).collect();
            } else {
                words.push(url.to_owned());
            }
            if launch(&words, env) {
                return Ok(format!("$BROWSER ({})", words[0]));
            }
        }
        return Err("$BROWSER could not open the console".to_owned());
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if env.get("DISPLAY").is_some() || env.get("WAYLAND_DISPLAY").is_some() {
        "xdg-open"
    } else {
        return Err("no desktop to open a browser on (DISPLAY is not set)".to_owned());
    };
    if launch(&[opener.to_owned(), url.to_owned()], env) {
        Ok(opener.to_owned())
    } else {
        Err(format!("{opener} could not open the console"))
    }
}

/// Starts a browser command and waits briefly: a failure to start or a quick non-zero exit is a
/// failure; a command still running (a browser staying open) is a success.
fn launch(words: &[String], env: &Environment) -> bool {
    let child = Command::new(&words[0])
        .args(&words[1..])
        .env_clear()
        .envs(env.for_children())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}
