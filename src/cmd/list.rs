//! `mfaexec list`: every profile, what it reaches, and the state of its cached session.

use aws_config::profile::ProfileSet;

use crate::cli::ListArgs;
use crate::config::limits;
use crate::config::profile::{self, Request};
use crate::error::Result;
use crate::session::cache::{self, Cache};
use crate::sys::environ::Environment;

struct Row {
    name: String,
    kind: &'static str,
    target: String,
    source: String,
    /// Where the keys at the end of the chain come from, and their id when known without
    /// unlocking anything: `file AKIA…`, `secret-service AKIA…`, `credential_process`.
    keys: String,
    state: State,
    /// The credentials daemon (`mfaexec serve`) holds a session of this profile.
    served: bool,
}

enum State {
    Valid {
        expiration: i64,
        left: u64,
    },
    Expired {
        expiration: i64,
    },
    None,
    /// The profile cannot be planned (the reason), or the cache is off or unusable.
    Unknown(String),
}

pub fn run(args: &ListArgs, env: &Environment) -> Result<()> {
    let selected = env.get("AWS_PROFILE").unwrap_or("default");
    let set = profile::load(env, selected)?;
    let names = profile::names(&set);
    if args.names {
        let mut out = names
            .iter()
            .map(|n| crate::error::visible(n))
            .collect::<Vec<_>>()
            .join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        return crate::output::print_stdout(&out);
    }
    let cache = Cache::open(env);
    // A daemon that cannot be asked (none runs, a loose directory) serves nothing.
    let served = crate::run::daemon::client::running(env)
        .ok()
        .flatten()
        .map(|daemon| daemon.served())
        .unwrap_or_default();
    let rows: Vec<Row> = names
        .iter()
        .map(|name| Row {
            served: served.contains(name),
            ..row(&set, name, env, &cache)
        })
        .collect();
    if args.json {
        let items: Vec<serde_json::Value> = rows.iter().map(to_json).collect();
        let mut out = serde_json::to_string_pretty(&items).unwrap_or_default();
        out.push('\n');
        return crate::output::print_stdout(&out);
    }
    crate::output::print_stdout(&table(&rows))
}

fn row(set: &ProfileSet, name: &str, env: &Environment, cache: &Result<Option<Cache>>) -> Row {
    let p = set.get_profile(name);
    let get = |k: &str| {
        p.and_then(|p| p.get(k))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let (kind, target) = match (get("role_arn"), get("mfa_serial"), get("aws_access_key_id")) {
        (Some(role), _, _) => ("role", role.to_owned()),
        (None, Some(serial), _) => ("session", serial.to_owned()),
        (None, None, Some(_)) => ("static", "-".to_owned()),
        _ => ("other", "-".to_owned()),
    };
    let source = get("source_profile")
        .map(str::to_owned)
        .or_else(|| get("credential_source").map(|c| format!("credential_source={c}")))
        .unwrap_or_else(|| "-".to_owned());
    let request = Request {
        profile: name,
        duration: None,
        region: None,
        console: false,
    };
    let plan = profile::plan(env, &request);
    // Keys in a store or from a credential_process make a profile as static as keys in the
    // files do.
    let sso = match &plan {
        Ok(plan) => match &plan.source.kind {
            profile::SourceKind::Sso(sso) => Some(sso.clone()),
            _ => None,
        },
        Err(_) => None,
    };
    let login = match &plan {
        Ok(p) if p.hops.is_empty() => match &p.source.kind {
            profile::SourceKind::Login(l) => Some(l.clone()),
            _ => None,
        },
        _ => None,
    };
    let web_identity = plan.as_ref().is_ok_and(|p| {
        p.hops.is_empty() && matches!(p.source.kind, profile::SourceKind::WebIdentity(_))
    });
    let (kind, target) = match (&plan, kind, &sso) {
        (Ok(_), _, _) if web_identity => ("web-identity", target),
        (Ok(_), _, _) if let Some(l) = &login => ("login", l.session_arn.clone()),
        (Ok(_), "other", Some(sso)) => ("sso", format!("{} in {}", sso.role_name, sso.account_id)),
        (Ok(_), "other", None) => ("static", target),
        (_, kind, _) => (kind, target),
    };
    let keys = match (&plan, &sso) {
        // The token's own expiry, read from its file: nothing is refreshed for a listing.
        (Ok(_), Some(sso)) => token_text(
            "sso",
            crate::config::sso_token::state(env, sso).map(|t| (t.expires, t.refreshable)),
        ),
        // The credentials' expiry, read from the file: nothing is renewed for a listing.
        (Ok(_), None) if let Some(l) = &login => token_text(
            "login",
            crate::config::login_token::state(env, l).map(|t| (t.expires, t.refreshable)),
        ),
        (Ok(plan), None) => match plan.source.access_key_id() {
            Some(id) => format!("{} {id}", plan.source.origin()),
            None => plan.source.origin(),
        },
        (Err(_), _) => "-".to_owned(),
    };
    let state = match (cache, plan) {
        (Ok(None), _) => State::Unknown("cache off".into()),
        (Err(e), _) => State::Unknown(format!("cache unusable: {}", e.message())),
        (Ok(Some(_)), Err(e)) => State::Unknown(e.message().to_owned()),
        (Ok(Some(cache)), Ok(plan)) => match cache.peek(&cache::key(&plan)) {
            None => State::None,
            Some(entry) => {
                let left = entry
                    .session
                    .expiration
                    .saturating_sub(crate::sys::time::now());
                if left > 0 {
                    State::Valid {
                        expiration: entry.session.expiration,
                        left: left as u64,
                    }
                } else {
                    State::Expired {
                        expiration: entry.session.expiration,
                    }
                }
            }
        },
    };
    Row {
        name: name.to_owned(),
        kind,
        target,
        source,
        keys,
        state,
        served: false,
    }
}

/// The KEYS cell of a profile signed in with a token (`sso`, `login`): its expiry and whether
/// it can be refreshed, as read from its file.
fn token_text(kind: &str, token: Option<(i64, bool)>) -> String {
    let at = crate::sys::time::local_time;
    match token {
        None => format!("{kind}, no token"),
        Some((expires, _)) if expires > crate::sys::time::now() => {
            format!("{kind}, token until {}", at(expires))
        }
        Some((expires, true)) => format!("{kind}, token expired {} (refreshable)", at(expires)),
        Some((expires, false)) => format!("{kind}, token expired {}", at(expires)),
    }
}

fn state_text(state: &State) -> String {
    match state {
        State::Valid { left, .. } => format!("valid, {} left", short(*left)),
        State::Expired { .. } => "expired".to_owned(),
        State::None => "none".to_owned(),
        State::Unknown(why) => format!("- ({why})"),
    }
}

/// `11h42m` rather than `11h42m17s`: minutes are enough at a glance.
fn short(secs: u64) -> String {
    if secs >= 60 {
        limits::format(secs - secs % 60)
    } else {
        limits::format(secs)
    }
}

fn table(rows: &[Row]) -> String {
    let header = ["PROFILE", "KIND", "TARGET", "SOURCE", "KEYS", "SESSION"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            // Escaped as stderr is: a profile's values (a role ARN, an error text) may hold
            // control characters.
            [
                r.name.clone(),
                r.kind.to_owned(),
                r.target.clone(),
                r.source.clone(),
                r.keys.clone(),
                if r.served {
                    format!("{}, served", state_text(&r.state))
                } else {
                    state_text(&r.state)
                },
            ]
            .map(|cell| crate::error::visible(&cell).into_owned())
        })
        .collect();
    crate::output::table(header, &cells)
}

fn to_json(r: &Row) -> serde_json::Value {
    let session = match &r.state {
        State::Valid { expiration, left } => serde_json::json!({
            "state": "valid",
            "expiration": crate::sys::time::rfc3339(*expiration),
            "seconds_left": left,
        }),
        State::Expired { expiration } => serde_json::json!({
            "state": "expired",
            "expiration": crate::sys::time::rfc3339(*expiration),
        }),
        State::None => serde_json::json!({ "state": "none" }),
        State::Unknown(why) => serde_json::json!({ "state": "unknown", "reason": why }),
    };
    serde_json::json!({
        "name": r.name,
        "kind": r.kind,
        "target": if r.target == "-" { serde_json::Value::Null } else { r.target.clone().into() },
        "source": if r.source == "-" { serde_json::Value::Null } else { r.source.clone().into() },
        "keys": if r.keys == "-" { serde_json::Value::Null } else { r.keys.clone().into() },
        "session": session,
        "served": r.served,
    })
}
