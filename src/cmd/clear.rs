//! `mfaexec clear [PROFILE...]`: deletes cached sessions and says how many.

use crate::cli::ClearArgs;
use crate::config::profile::{self, Request};
use crate::error::{Error, Result};
use crate::session::cache::{self, Cache};
use crate::sys::environ::Environment;

pub fn run(args: &ClearArgs, env: &Environment) -> Result<()> {
    let Some(cache) = Cache::open(env)? else {
        return Err(Error::new(
            "the session cache is off (MFAEXEC_CACHE=off): nothing to clear",
        ));
    };
    let entries = cache.entries();
    let mut removed = 0usize;
    if args.profiles.is_empty() {
        for (path, _) in &entries {
            if std::fs::remove_file(path).is_ok() {
                removed += 1;
            }
        }
    } else {
        let set = profile::load(env, &args.profiles[0])?;
        for name in &args.profiles {
            let known = set.get_profile(name).is_some();
            // The entry the profile's current config leads to, and any written for it earlier
            // (before a config change gave it another key).
            let mut paths: Vec<&std::path::PathBuf> = entries
                .iter()
                .filter(|(_, e)| e.as_ref().is_some_and(|e| &e.profile == name))
                .map(|(p, _)| p)
                .collect();
            let request = Request {
                profile: name,
                duration: None,
                region: None,
                console: false,
            };
            let current = profile::plan(env, &request)
                .ok()
                .map(|plan| cache::key(&plan));
            if let Some(key) = &current {
                paths.extend(
                    entries
                        .iter()
                        .filter(|(p, _)| p.file_stem().is_some_and(|s| s == key.as_str()))
                        .map(|(p, _)| p),
                );
            }
            if !known && paths.is_empty() {
                let names = profile::names(&set);
                let close = profile::closest(&names, name);
                let hint = if close.is_empty() {
                    "`mfaexec list --names` lists the profiles".to_owned()
                } else {
                    format!("did you mean {}?", close.join(" or "))
                };
                return Err(Error::new(format!("profile `{name}` does not exist")).hint(hint));
            }
            paths.sort();
            paths.dedup();
            for path in paths {
                if std::fs::remove_file(path).is_ok() {
                    removed += 1;
                }
            }
        }
    }
    let noun = if removed == 1 { "session" } else { "sessions" };
    crate::output::print_stdout(&format!("cleared {removed} cached {noun}\n"))
}
