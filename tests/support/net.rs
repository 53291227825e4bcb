//! The real things a network test needs, on loopback: Debian's `tinyproxy` (with and without
//! basic auth) whose log proves what went through it, a test certificate authority made at test
//! time (rcgen), and a TLS front (rustls) that serves the fake STS and federation endpoint over
//! https with a certificate from that CA, as a load balancer in front of them would.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::Sandbox;

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A free port on 127.0.0.1 (bound, then released for the program that will listen there).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `tinyproxy` in the foreground on a free loopback port, with its own config and log; it is
/// stopped when dropped.
pub struct Tinyproxy {
    pub port: u16,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    /// A proxy that lets everyone through.
    pub fn start() -> Tinyproxy {
        Tinyproxy::with_config("")
    }

    /// A proxy that wants `Proxy-Authorization: Basic` with this user and password.
    pub fn with_basic_auth(user: &str, password: &str) -> Tinyproxy {
        Tinyproxy::with_config(&format!("BasicAuth {user} {password}\n"))
    }

    fn with_config(extra: &str) -> Tinyproxy {
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = dir.path().join("tinyproxy.log");
        let conf = dir.path().join("tinyproxy.conf");
        // Several tries: the free port may be taken between finding it and tinyproxy binding it.
        for _ in 0..5 {
            let port = free_port();
            // No ConnectPort line: CONNECT is allowed to every port (the test servers' too).
            std::fs::write(
                &conf,
                format!(
                    "Port {port}\nListen 127.0.0.1\nTimeout 15\nLogFile \"{}\"\nLogLevel Connect\nMaxClients 20\nAllow 127.0.0.1\n{extra}",
                    log.display()
                ),
            )
            .unwrap();
            let mut child = Command::new("tinyproxy")
                .arg("-d")
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("run tinyproxy (scripts/test installs it)");
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Tinyproxy {
                        port,
                        child,
                        log,
                        _dir: dir,
                    };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("tinyproxy did not start");
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://USERINFO@127.0.0.1:PORT`: the URL with a user name and password in it.
    pub fn url_as(&self, userinfo: &str) -> String {
        format!("http://{userinfo}@127.0.0.1:{}", self.port)
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The request lines it received (`CONNECT localhost:4443 HTTP/1.1`, `POST http://... HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|l| l.split_once("): ").map(|(_, r)| r.to_owned()))
            .filter(|r| r.ends_with("HTTP/1.1") || r.ends_with("HTTP/1.0"))
            .collect()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test certificate authority: its root in PEM (what AWS_CA_BUNDLE names), and server
/// certificates it issues.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa { issuer }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// Writes the root to `path` (a CA bundle of one certificate).
    pub fn write_bundle(&self, path: &Path) {
        std::fs::write(path, self.pem()).unwrap();
    }

    /// A server certificate for these host names, and its key.
    pub fn server_cert(
        &self,
        names: &[&str],
    ) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        self.server_cert_with(names, |_| {})
    }

    /// A server certificate that expired on 2020-01-02.
    pub fn expired_server_cert(
        &self,
        names: &[&str],
    ) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        self.server_cert_with(names, |params| {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 2);
        })
    }

    fn server_cert_with(
        &self,
        names: &[&str],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap();
        adjust(&mut params);
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().copied().unwrap_or("server"),
        );
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }
}

/// Serves https on 127.0.0.1 with a certificate, passing each request to a plain http backend
/// (the fake STS, which also serves `/federation`) and its answer back. It counts the TLS
/// handshakes that completed, so a test can tell "refused by the client" from "served".
pub struct TlsFront {
    pub addr: SocketAddr,
    handshakes: Arc<std::sync::atomic::AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl TlsFront {
    pub fn start(
        backend: SocketAddr,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> TlsFront {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let handshakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        {
            let stop = Arc::clone(&stop);
            let handshakes = Arc::clone(&handshakes);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let config = Arc::clone(&config);
                    let handshakes = Arc::clone(&handshakes);
                    thread::spawn(move || {
                        let _ = serve_tls(stream, config, backend, &handshakes);
                    });
                }
            });
        }
        TlsFront {
            addr,
            handshakes,
            stop,
        }
    }

    /// `https://HOST:PORT` for a host name that resolves to 127.0.0.1 (`localhost`).
    pub fn url(&self, host: &str) -> String {
        format!("https://{host}:{}", self.addr.port())
    }

    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

impl Sandbox {
    /// Puts a TLS front with `chain` and `key` before the fake STS (and its federation
    /// endpoint), and points every later run at it as `https://HOST:PORT`.
    pub fn sts_behind_tls(
        &mut self,
        host: &str,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> TlsFront {
        let backend: SocketAddr = self
            .sts
            .url()
            .trim_start_matches("http://")
            .parse()
            .unwrap();
        let front = TlsFront::start(backend, chain, key);
        self.set("AWS_ENDPOINT_URL_STS", &front.url(host));
        front
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn serve_tls(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    backend: SocketAddr,
    handshakes: &std::sync::atomic::AtomicUsize,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let connection = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    handshakes.fetch_add(1, Ordering::SeqCst);
    // One request: the head up to the blank line, then Content-Length bytes of body.
    let mut reader = BufReader::new(&mut tls);
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let length = String::from_utf8_lossy(&head)
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    drop(reader);
    let mut upstream = TcpStream::connect(backend)?;
    upstream.set_read_timeout(Some(IO_TIMEOUT))?;
    upstream.write_all(&head)?;
    upstream.write_all(&body)?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer)?;
    tls.write_all(&answer)?;
    tls.flush()?;
    tls.conn.send_close_notify();
    let _ = tls.conn.complete_io(&mut tls.sock);
    let _ = tls.sock.shutdown(Shutdown::Write);
    Ok(())
}

/// A "proxy" that reads the CONNECT request and closes the connection without answering, as a
/// proxy that drops tunnels does. Counts the requests it saw.
pub struct ClosingProxy {
    pub port: u16,
    seen: Arc<std::sync::atomic::AtomicUsize>,
    targets: Arc<std::sync::Mutex<Vec<String>>>,
}

impl ClosingProxy {
    pub fn start() -> ClosingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        let targets = Arc::new(std::sync::Mutex::new(Vec::new()));
        let asked = Arc::clone(&targets);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                if reader.read_line(&mut line).is_ok() && line.starts_with("CONNECT ") {
                    if let Some(target) = line.split_whitespace().nth(1) {
                        asked.lock().unwrap().push(target.to_owned());
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                let _ = stream.shutdown(Shutdown::Both);
            }
        });
        ClosingProxy {
            port,
            seen,
            targets,
        }
    }

    /// The `HOST:PORT` of each CONNECT it was sent.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn connects(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }
}

/// How a [`StandInProxy`] answers.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// Reads the request and says nothing, holding the connection open: a proxy (or a server
    /// in a TLS handshake) that never answers.
    Nothing,
    /// Answers `200 Connection established` to a CONNECT, then says nothing more: the tunnel is
    /// open but nothing comes back through it.
    TunnelThenNothing,
    /// Answers this HTTP status to every request, as a proxy does (`Server: stand-in`, a short
    /// text body, no AWS request id), and closes.
    Status(u16),
}

/// A stand-in for a misbehaving proxy (or server) on 127.0.0.1, for what tinyproxy cannot be
/// made to do. It records the head of every request it reads. A connection it holds open is
/// let go after [`HOLD`] or when the stand-in is dropped, so nothing waits forever.
pub struct StandInProxy {
    pub port: u16,
    heads: Arc<std::sync::Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

/// The longest a stand-in holds a connection it does not answer.
pub const HOLD: Duration = Duration::from_secs(90);

impl StandInProxy {
    pub fn start(answer: Answer) -> StandInProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let heads = Arc::clone(&heads);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let heads = Arc::clone(&heads);
                    let stop = Arc::clone(&stop);
                    thread::spawn(move || stand_in(stream, answer, &heads, &stop));
                }
            });
        }
        StandInProxy { port, heads, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://USERINFO@127.0.0.1:PORT`: the URL with a user name and password in it.
    pub fn url_as(&self, userinfo: &str) -> String {
        format!("http://{userinfo}@127.0.0.1:{}", self.port)
    }

    /// The heads of the requests read so far (request line and headers, CRLFs kept).
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    /// The request lines read so far (`CONNECT localhost:4443 HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.heads()
            .iter()
            .map(|h| h.lines().next().unwrap_or("").to_owned())
            .collect()
    }
}

impl Drop for StandInProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], self.port)),
            Duration::from_secs(1),
        );
    }
}

fn stand_in(
    mut stream: TcpStream,
    answer: Answer,
    heads: &std::sync::Mutex<Vec<String>>,
    stop: &AtomicBool,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    // The head, up to the blank line; a client in a TLS handshake sends no such thing, and is
    // held all the same.
    let started = Instant::now();
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && started.elapsed() < IO_TIMEOUT {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if matches!(answer, Answer::Nothing) && !head.is_empty() {
                    break;
                }
            }
            Err(_) => return,
        }
    }
    if !head.is_empty() {
        heads
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(&head).into_owned());
    }
    let reply = match answer {
        Answer::Nothing => None,
        Answer::TunnelThenNothing => Some("HTTP/1.1 200 Connection established\r\n\r\n".to_owned()),
        Answer::Status(status) => {
            let body = format!("stand-in proxy: {status}\n");
            let challenge = if status == 407 {
                "Proxy-Authenticate: Basic realm=\"stand-in\"\r\n"
            } else {
                ""
            };
            Some(format!(
                "HTTP/1.1 {status} Stand-in\r\nServer: stand-in\r\n{challenge}Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ))
        }
    };
    if let Some(reply) = reply {
        if stream.write_all(reply.as_bytes()).is_err() {
            return;
        }
        if matches!(answer, Answer::Status(_)) {
            let _ = stream.shutdown(Shutdown::Write);
            return;
        }
    }
    // Hold the connection, reading and dropping whatever comes, until dropped or HOLD passes.
    while started.elapsed() < HOLD && !stop.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// A server on 127.0.0.1 that accepts connections and never says anything (a TLS endpoint
/// whose handshake never completes).
pub fn silent_server() -> StandInProxy {
    StandInProxy::start(Answer::Nothing)
}
