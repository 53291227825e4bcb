//! `mfaexec serve` (issue 19): one credentials endpoint per user that outlives any command and
//! serves many shells and profiles. A client (`env --server`, `PROFILE --server -- CMD`,
//! `warm`) gets the session as it always does, prompting in its own terminal, and hands it over
//! the control socket; the daemon renews it as `--server` does (`Asking::Never`: the daemon
//! holds no `Terminal`, has no controlling terminal, and its stdin is /dev/null) and answers on
//! one loopback port, each client's token reaching the one profile it was granted for.
//!
//! The control socket lives in `$XDG_RUNTIME_DIR/mfaexec/` (else the cache directory), a
//! directory of this user's closed to everyone else; the socket is 0600 and a peer of another
//! uid is refused (SO_PEERCRED). A lock file there keeps it to one daemon per user, and tells a
//! stale socket (of a killed daemon) from a live one.

pub mod client;
mod control;
pub mod notices;

use std::fs::File;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{SigSet, Signal};

use crate::config::limits;
use crate::error::{Error, Result};
use crate::run::server::{Held, Shared};
use crate::sys::environ::Environment;

/// Set in the daemon: its lines on stderr (the log) carry the time.
static DAEMON: AtomicBool = AtomicBool::new(false);

/// A line on stderr, stamped with the time in the daemon, whose stderr is its log.
pub fn log_line(line: &str) {
    if DAEMON.load(Ordering::Relaxed) {
        crate::say!(
            "{} {line}",
            crate::sys::time::rfc3339(crate::sys::time::now())
        );
    } else {
        crate::say!("{line}");
    }
}

/// Where the daemon's files are.
pub struct Paths {
    pub dir: PathBuf,
    pub socket: PathBuf,
    lock: PathBuf,
    pub notices: PathBuf,
}

/// The setting that moves the daemon's directory, named in hints.
const DIR_VARIABLE: &str = "XDG_RUNTIME_DIR";

/// A Unix socket's path must fit in `sun_path` (108 bytes on Linux, 104 on macOS).
const MAX_SOCKET_PATH: usize = 100;

impl Paths {
    /// `$XDG_RUNTIME_DIR/mfaexec` (a directory that ends with the user's login), else the
    /// session cache's directory. Computed without touching the disk.
    pub fn of(env: &Environment) -> Result<Paths> {
        let dir = match env.get("XDG_RUNTIME_DIR") {
            Some(runtime) if runtime.starts_with('/') => Path::new(runtime).join("mfaexec"),
            _ => crate::session::cache::Cache::dir(env)?,
        };
        Ok(Paths {
            socket: dir.join("serve.sock"),
            lock: dir.join("serve.lock"),
            notices: dir.join("notices"),
            dir,
        })
    }

    fn check_socket_length(&self) -> Result<()> {
        if self.socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(Error::new(format!(
                "the daemon's socket path {} is longer than a Unix socket allows ({MAX_SOCKET_PATH} bytes)",
                self.socket.display()
            ))
            .hint("set XDG_RUNTIME_DIR to a shorter directory of your own"));
        }
        Ok(())
    }
}

/// `$XDG_STATE_HOME/mfaexec/serve.log`, where `serve --background` writes its lines.
pub fn log_path(env: &Environment) -> Result<PathBuf> {
    Ok(
        crate::sys::environ::xdg_dir(env, "XDG_STATE_HOME", ".local/state", "the daemon's log")?
            .join("serve.log"),
    )
}

/// What `serve` was asked to do.
pub enum Action {
    Foreground { verbose: bool },
    Background { verbose: bool },
    Status,
    Stop,
    Revoke,
}

pub fn run(action: Action, env: &Environment, detached: bool) -> Result<()> {
    match action {
        Action::Foreground { verbose } => {
            if detached {
                // The child of `--background`: a session of its own, no controlling terminal.
                let _ = nix::unistd::setsid();
            }
            serve(env, verbose)
        }
        Action::Background { verbose } => client::start(env, verbose).map(|daemon| {
            crate::say!(
                "mfaexec: serve is running (pid {}); socket {}; log {}",
                daemon.pid,
                daemon.socket.display(),
                log_path(env).map_or_else(|_| "-".to_owned(), |p| p.display().to_string())
            );
        }),
        Action::Status => {
            let Some(daemon) = client::running(env)? else {
                return Err(Error::new("mfaexec serve is not running")
                    .hint("start it with `mfaexec serve --background`, or let `mfaexec env PROFILE --server` start it"));
            };
            crate::output::print_stdout(&client::status_text(&daemon.status))
        }
        Action::Stop => {
            let Some(daemon) = client::running(env)? else {
                crate::say!("mfaexec: serve is not running");
                return Ok(());
            };
            daemon.stop()?;
            crate::say!("mfaexec: serve (pid {}) has stopped", daemon.pid);
            Ok(())
        }
        Action::Revoke => {
            let Some(token) = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN") else {
                return Err(Error::new(
                    "serve --revoke revokes the token in AWS_CONTAINER_AUTHORIZATION_TOKEN, which is not set",
                ));
            };
            match client::running(env)? {
                Some(daemon) => daemon.revoke(token).map(drop),
                None => Ok(()),
            }
        }
    }
}

/// The lock that makes this the one daemon of the user: held (by the open file) until the
/// process ends, however it ends.
fn take_lock(paths: &Paths) -> Result<Option<Flock<File>>> {
    let file = crate::sys::files::open_lock_file(&paths.lock)
        .map_err(|e| Error::new(format!("cannot open {}: {e}", paths.lock.display())))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(lock)),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(Error::new(format!(
            "cannot lock {}: {e}",
            paths.lock.display()
        ))),
    }
}

/// A socket left by a daemon that died (the lock is ours, so nobody listens on it) is removed;
/// anything else at that path is not mfaexec's, and is left alone.
fn remove_stale_socket(paths: &Paths) -> Result<bool> {
    match std::fs::symlink_metadata(&paths.socket) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::new(format!(
            "cannot read {}: {e}",
            paths.socket.display()
        ))),
        Ok(meta) if meta.file_type().is_socket() => {
            std::fs::remove_file(&paths.socket).map_err(|e| {
                Error::new(format!(
                    "cannot remove the stale socket {}: {e}",
                    paths.socket.display()
                ))
            })?;
            Ok(true)
        }
        Ok(_) => Err(Error::new(format!(
            "{} is not a socket, and mfaexec does not replace it",
            paths.socket.display()
        ))
        .hint("move it away, then start `mfaexec serve` again")),
    }
}

/// What the daemon's tasks share.
pub(crate) struct Daemon {
    shared: Arc<Shared>,
    /// The sessions held, each with the cache key of its plan (one per profile and settings).
    held: std::sync::Mutex<Vec<(String, Arc<Held>)>>,
    paths: Paths,
    idle: Duration,
    started: i64,
    verbose: bool,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Daemon {
    fn held(&self) -> std::sync::MutexGuard<'_, Vec<(String, Arc<Held>)>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Revokes the tokens unused for the idle time, and drops the sessions that no token
    /// reaches once they have expired.
    fn sweep(&self) {
        let mut grants = self.shared.grants();
        grants.retain(|grant| {
            let idle = grant.last_used.elapsed() >= self.idle;
            if idle {
                log_line(&format!(
                    "mfaexec: revoked the token of {} for profile `{}`: unused for {}",
                    grant.client,
                    grant.held.renewal.plan.profile,
                    limits::format(self.idle.as_secs())
                ));
            }
            !idle
        });
        let now = crate::sys::time::now();
        self.held().retain(|(_, held)| {
            grants.iter().any(|g| Arc::ptr_eq(&g.held, held)) || held.expiration() > now
        });
    }
}

/// The daemon in the foreground, until `serve --stop`, SIGTERM, SIGINT or SIGHUP.
fn serve(env: &Environment, verbose: bool) -> Result<()> {
    let idle = Duration::from_secs(limits::setting(env, &limits::SERVE_IDLE)?);
    let paths = Paths::of(env)?;
    paths.check_socket_length()?;
    crate::sys::files::prepare_private_dir(&paths.dir, DIR_VARIABLE)?;
    let Some(lock) = take_lock(&paths)? else {
        // Another daemon holds the lock: say where it is, and leave it be.
        return match client::running(env)? {
            Some(daemon) => {
                crate::say!(
                    "mfaexec: serve is already running (pid {}) at {}",
                    daemon.pid,
                    daemon.socket.display()
                );
                Ok(())
            }
            None => Err(Error::new(format!(
                "another mfaexec serve holds {} but does not answer on {}",
                paths.lock.display(),
                paths.socket.display()
            ))
            .hint("it may be starting or stopping: try again in a moment")),
        };
    };
    let stale = remove_stale_socket(&paths)?;
    let failed = |e: std::io::Error| Error::new(format!("cannot start mfaexec serve: {e}"));
    let control = std::os::unix::net::UnixListener::bind(&paths.socket)
        .map_err(|e| Error::new(format!("cannot listen on {}: {e}", paths.socket.display())))?;
    std::fs::set_permissions(&paths.socket, std::fs::Permissions::from_mode(0o600))
        .map_err(failed)?;
    control.set_nonblocking(true).map_err(failed)?;
    let (listener, port) = crate::run::server::bind_loopback()?;

    // Before any other thread starts, so that none of them can die of these signals; one
    // thread takes them with sigwait.
    let mut signals = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(s);
    }
    signals
        .thread_block()
        .map_err(|e| Error::new(format!("cannot block signals: {e}")))?;
    // Renewals run mfa_process in a session of its own, never on a terminal.
    crate::sys::process::detach_from_terminal();
    DAEMON.store(true, Ordering::Relaxed);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(failed)?;
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let daemon = Arc::new(Daemon {
        shared: Arc::new(Shared::new(port, verbose)),
        held: std::sync::Mutex::new(Vec::new()),
        paths,
        idle,
        started: crate::sys::time::now(),
        verbose,
        stop,
    });
    {
        let stop = daemon.stop.clone();
        std::thread::Builder::new()
            .name("mfaexec-signals".into())
            .spawn(move || {
                if let Ok(signal) = signals.wait() {
                    log_line(&format!("mfaexec: serve stops on {signal}"));
                }
                let _ = stop.send(true);
            })
            .map_err(failed)?;
    }
    log_line(&format!(
        "mfaexec: serve started (pid {}): control socket {}{}, endpoint 127.0.0.1:{port}",
        std::process::id(),
        daemon.paths.socket.display(),
        if stale {
            " (replacing a stale one)"
        } else {
            ""
        }
    ));
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(failed)?;
        let control = tokio::net::UnixListener::from_std(control).map_err(failed)?;
        tokio::spawn(crate::run::server::accept(
            listener,
            Arc::clone(&daemon.shared),
        ));
        tokio::spawn(control::accept(control, Arc::clone(&daemon)));
        let sweeper = Arc::clone(&daemon);
        tokio::spawn(async move {
            let every = (sweeper.idle / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
            loop {
                tokio::time::sleep(every).await;
                sweeper.sweep();
            }
        });
        let _ = stopped.wait_for(|stop| *stop).await;
        Ok::<(), Error>(())
    })?;
    runtime.shutdown_timeout(Duration::from_millis(200));
    // Only while the lock is still ours: a new daemon may bind the path the moment it is free.
    let _ = std::fs::remove_file(&daemon.paths.socket);
    log_line(&format!(
        "mfaexec: serve (pid {}) stopped after {}",
        std::process::id(),
        limits::format(
            crate::sys::time::now()
                .saturating_sub(daemon.started)
                .max(0) as u64
        )
    ));
    drop(lock);
    Ok(())
}
