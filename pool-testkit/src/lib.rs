//! Test support for the pool workspace: real `redis-server` processes on loopback ports.
//!
//! Tests that need Redis start their own servers with [`RedisFleet::start_or_skip`]. Each server
//! listens on a free port of `127.0.0.1`, keeps nothing on disk (`--save '' --appendonly no`), and
//! is killed when the fleet is dropped — also when the test panics, because `Drop` runs while the
//! stack unwinds, so no `redis-server` outlives its test.
//!
//! When `redis-server` is not on `PATH` the test prints a notice and is skipped (the function
//! returns `None`), unless the environment sets `POOL_REQUIRE_REDIS=1` (CI does, after installing
//! the server), in which case the test fails.
//!
//! ```
//! use pool_testkit::RedisFleet;
//!
//! let Some(fleet) = RedisFleet::start_or_skip("doc_example", 1) else { return };
//! let reply = fleet.command(0, &["SET", "k", "v"]).expect("server answers");
//! assert_eq!(reply, "+OK");
//! assert!(fleet.url(0).starts_with("redis://127.0.0.1:"));
//! ```
//!
//! This crate is `publish = false`: a dev-dependency of the workspace's crates only.

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The environment variable that turns a missing `redis-server` from a skip into a failure.
pub const REQUIRE_ENV: &str = "POOL_REQUIRE_REDIS";

/// The environment variable naming the server binary to run (default `redis-server` from `PATH`).
pub const BINARY_ENV: &str = "POOL_REDIS_SERVER";

/// How long a freshly spawned server gets to answer `PING` before the start counts as failed.
/// A local redis-server answers within ~10 ms; 10 s leaves room for a loaded 2-core CI box.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);

/// How many times a start is retried with a new port when the chosen port was taken in between
/// (the free-port probe and the server's bind are not atomic).
const START_ATTEMPTS: usize = 5;

/// Why a fleet could not be started or a command could not be sent.
#[derive(Debug)]
pub struct RedisError {
    kind: RedisErrorKind,
}

/// The kind of a [`RedisError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum RedisErrorKind {
    /// `redis-server` is not on `PATH`.
    NotInstalled,
    /// The server process could not be spawned or did not answer `PING` in time.
    StartFailed(String),
    /// Talking to a running server failed.
    Io(io::Error),
    /// The index does not name a server of this fleet.
    NoSuchServer {
        /// The index asked for.
        index: usize,
        /// How many servers the fleet has.
        len: usize,
    },
}

impl RedisError {
    /// What went wrong.
    ///
    /// ```
    /// # use pool_testkit::{RedisFleet, RedisErrorKind};
    /// # let Some(fleet) = RedisFleet::start_or_skip("kind_doc", 1) else { return };
    /// let err = fleet.command(7, &["PING"]).unwrap_err();
    /// assert!(matches!(err.kind(), RedisErrorKind::NoSuchServer { index: 7, len: 1 }));
    /// ```
    pub fn kind(&self) -> &RedisErrorKind {
        &self.kind
    }
}

impl fmt::Display for RedisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RedisErrorKind::NotInstalled => {
                write!(f, "redis-server is not on PATH; install it (apt-get install redis-server)")
            }
            RedisErrorKind::StartFailed(why) => write!(f, "redis-server did not start: {why}"),
            RedisErrorKind::Io(e) => write!(f, "talking to redis-server failed: {e}"),
            RedisErrorKind::NoSuchServer { index, len } => {
                write!(f, "no server {index} in a fleet of {len}")
            }
        }
    }
}

impl std::error::Error for RedisError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RedisErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for RedisError {
    fn from(e: io::Error) -> Self {
        RedisError { kind: RedisErrorKind::Io(e) }
    }
}

fn err(kind: RedisErrorKind) -> RedisError {
    RedisError { kind }
}

/// The server binary: `$POOL_REDIS_SERVER` if set, else `redis-server` from `PATH`.
fn binary() -> std::ffi::OsString {
    std::env::var_os(BINARY_ENV).unwrap_or_else(|| "redis-server".into())
}

/// Whether the server binary (`$POOL_REDIS_SERVER`, default `redis-server` on `PATH`) runs.
///
/// ```
/// let _ = pool_testkit::redis_installed();
/// ```
pub fn redis_installed() -> bool {
    Command::new(binary())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether the environment demands real Redis tests (`POOL_REQUIRE_REDIS=1`).
///
/// ```
/// let _ = pool_testkit::redis_required();
/// ```
pub fn redis_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// A port on `127.0.0.1` that was free a moment ago.
///
/// ```
/// let port = pool_testkit::free_port().expect("a free port");
/// assert!(port > 0);
/// ```
///
/// # Errors
/// When no loopback socket can be bound.
pub fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Whether something accepts TCP connections on `127.0.0.1:port` (within 200 ms).
///
/// ```
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let port = listener.local_addr().unwrap().port();
/// assert!(pool_testkit::port_open(port));
/// drop(listener);
/// assert!(!pool_testkit::port_open(port));
/// ```
pub fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// One running `redis-server` child process.
#[derive(Debug)]
struct Server {
    port: u16,
    child: Option<Child>,
}

impl Server {
    fn spawn(port: u16, dir: &std::path::Path) -> Result<Self, RedisError> {
        let child = Command::new(binary())
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--protected-mode", "yes"])
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    err(RedisErrorKind::NotInstalled)
                } else {
                    err(RedisErrorKind::StartFailed(format!("spawn: {e}")))
                }
            })?;
        let mut server = Server { port, child: Some(child) };
        server.wait_ready(DEFAULT_START_TIMEOUT)?;
        Ok(server)
    }

    /// Polls `PING` until the server answers `+PONG`, its process exits, or the timeout passes.
    fn wait_ready(&mut self, timeout: Duration) -> Result<(), RedisError> {
        let deadline = Instant::now() + timeout;
        let mut backoff = Duration::from_millis(2);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(err(RedisErrorKind::StartFailed(format!(
                    "port {} exited early with {status}",
                    self.port
                ))));
            }
            if let Ok(reply) = command(self.port, &["PING"])
                && reply == "+PONG"
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(err(RedisErrorKind::StartFailed(format!(
                    "port {} did not answer PING within {timeout:?}",
                    self.port
                ))));
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_millis(100));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The process may already be gone; either way we reap it so no zombie is left.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A set of real `redis-server` processes on loopback ports, all killed on drop.
///
/// ```
/// use pool_testkit::RedisFleet;
///
/// let Some(mut fleet) = RedisFleet::start_or_skip("fleet_doc", 2) else { return };
/// assert_eq!(fleet.len(), 2);
/// fleet.kill(1).unwrap();
/// assert!(!pool_testkit::port_open(fleet.port(1).unwrap()));
/// fleet.restart(1).unwrap();
/// assert_eq!(fleet.command(1, &["PING"]).unwrap(), "+PONG");
/// ```
#[derive(Debug)]
pub struct RedisFleet {
    servers: Vec<Server>,
    dir: PathBuf,
}

impl RedisFleet {
    /// Starts `n` servers and waits until each answers `PING`.
    ///
    /// ```
    /// # if !pool_testkit::redis_installed() { return; }
    /// let fleet = pool_testkit::RedisFleet::start(1).unwrap();
    /// assert_eq!(fleet.urls().len(), 1);
    /// ```
    ///
    /// # Errors
    /// [`RedisErrorKind::NotInstalled`] when `redis-server` is not on `PATH`;
    /// [`RedisErrorKind::StartFailed`] when a server does not come up after a few ports were tried.
    pub fn start(n: usize) -> Result<Self, RedisError> {
        if !redis_installed() {
            return Err(err(RedisErrorKind::NotInstalled));
        }
        // One directory per fleet: fleets of parallel tests must not remove each other's.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pool-testkit-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        let mut fleet = RedisFleet { servers: Vec::with_capacity(n), dir };
        for _ in 0..n {
            let server = fleet.spawn_on_some_port()?;
            fleet.servers.push(server);
        }
        Ok(fleet)
    }

    /// Starts `n` servers, or returns `None` after printing that `test` was skipped when
    /// `redis-server` is not installed.
    ///
    /// ```
    /// let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("my_test", 1) else { return };
    /// assert_eq!(fleet.len(), 1);
    /// ```
    ///
    /// # Panics
    /// When the servers cannot be started, and when `redis-server` is missing while
    /// `POOL_REQUIRE_REDIS=1` — a test that must talk to Redis fails rather than passing silently.
    pub fn start_or_skip(test: &str, n: usize) -> Option<Self> {
        match Self::start(n) {
            Ok(fleet) => {
                notice(&format!(
                    "{test}: started {n} redis-server(s) on ports {:?}",
                    fleet.ports()
                ));
                Some(fleet)
            }
            Err(e) if matches!(e.kind, RedisErrorKind::NotInstalled) && !redis_required() => {
                notice(&format!(
                    "SKIPPED {test}: redis-server is not on PATH \
                     (set {REQUIRE_ENV}=1 to make this a failure)"
                ));
                None
            }
            Err(e) => panic!("{test}: {e}"),
        }
    }

    fn spawn_on_some_port(&self) -> Result<Server, RedisError> {
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            match Server::spawn(port, &self.dir) {
                Ok(server) => return Ok(server),
                Err(e) if matches!(e.kind, RedisErrorKind::NotInstalled) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| err(RedisErrorKind::StartFailed("no attempt made".into()))))
    }

    fn server(&self, index: usize) -> Result<&Server, RedisError> {
        self.servers
            .get(index)
            .ok_or_else(|| err(RedisErrorKind::NoSuchServer { index, len: self.servers.len() }))
    }

    fn server_mut(&mut self, index: usize) -> Result<&mut Server, RedisError> {
        let len = self.servers.len();
        self.servers.get_mut(index).ok_or_else(|| err(RedisErrorKind::NoSuchServer { index, len }))
    }

    /// How many servers the fleet has (running or killed).
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("len_doc", 3) else { return };
    /// assert_eq!(fleet.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// Whether the fleet has no servers.
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("empty_doc", 0) else { return };
    /// assert!(fleet.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// The loopback port of server `index`.
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("port_doc", 1) else { return };
    /// assert!(fleet.port(0).is_ok());
    /// assert!(fleet.port(1).is_err());
    /// ```
    ///
    /// # Errors
    /// [`RedisErrorKind::NoSuchServer`] for an index past the end.
    pub fn port(&self, index: usize) -> Result<u16, RedisError> {
        Ok(self.server(index)?.port)
    }

    /// The ports of all servers, in index order.
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("ports_doc", 2) else { return };
    /// assert_eq!(fleet.ports().len(), 2);
    /// ```
    pub fn ports(&self) -> Vec<u16> {
        self.servers.iter().map(|s| s.port).collect()
    }

    /// The `redis://127.0.0.1:PORT/` URL of server `index`.
    ///
    /// # Panics
    /// For an index past the end (a bug in the test).
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("url_doc", 1) else { return };
    /// assert_eq!(fleet.url(0), format!("redis://127.0.0.1:{}/", fleet.port(0).unwrap()));
    /// ```
    pub fn url(&self, index: usize) -> String {
        match self.port(index) {
            Ok(port) => format!("redis://127.0.0.1:{port}/"),
            Err(e) => panic!("{e}"),
        }
    }

    /// The URLs of all servers, in index order.
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("urls_doc", 2) else { return };
    /// assert!(fleet.urls().iter().all(|u| u.starts_with("redis://127.0.0.1:")));
    /// ```
    pub fn urls(&self) -> Vec<String> {
        self.servers.iter().map(|s| format!("redis://127.0.0.1:{}/", s.port)).collect()
    }

    /// Whether server `index` is running (not killed).
    ///
    /// ```
    /// # let Some(mut fleet) = pool_testkit::RedisFleet::start_or_skip("running_doc", 1) else { return };
    /// assert!(fleet.is_running(0));
    /// fleet.kill(0).unwrap();
    /// assert!(!fleet.is_running(0));
    /// ```
    pub fn is_running(&self, index: usize) -> bool {
        self.server(index).is_ok_and(Server::running)
    }

    /// Kills server `index` (SIGKILL, like a crash) and reaps it. Killing a killed server is a
    /// no-op.
    ///
    /// ```
    /// # let Some(mut fleet) = pool_testkit::RedisFleet::start_or_skip("kill_doc", 1) else { return };
    /// fleet.kill(0).unwrap();
    /// assert!(fleet.command(0, &["PING"]).is_err());
    /// ```
    ///
    /// # Errors
    /// [`RedisErrorKind::NoSuchServer`] for an index past the end.
    pub fn kill(&mut self, index: usize) -> Result<(), RedisError> {
        self.server_mut(index)?.kill();
        Ok(())
    }

    /// Restarts server `index` on the same port (killing it first if it runs), empty.
    ///
    /// ```
    /// # let Some(mut fleet) = pool_testkit::RedisFleet::start_or_skip("restart_doc", 1) else { return };
    /// let port = fleet.port(0).unwrap();
    /// fleet.restart(0).unwrap();
    /// assert_eq!(fleet.port(0).unwrap(), port);
    /// ```
    ///
    /// # Errors
    /// [`RedisErrorKind::NoSuchServer`] for an index past the end; [`RedisErrorKind::StartFailed`]
    /// when the port was taken by another process meanwhile or the server does not come up.
    pub fn restart(&mut self, index: usize) -> Result<(), RedisError> {
        let dir = self.dir.clone();
        let server = self.server_mut(index)?;
        server.kill();
        *server = Server::spawn(server.port, &dir)?;
        Ok(())
    }

    /// Sends one command to server `index` and returns its reply line in RESP form
    /// (`+OK`, `$3` followed by the bulk string's text, `:1`, `-ERR ...`).
    ///
    /// Bulk replies come back as their text (`"v"`), a nil bulk as `"(nil)"`. This is enough to
    /// prepare and check state in tests without a client library.
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("command_doc", 1) else { return };
    /// fleet.command(0, &["SET", "a", "1"]).unwrap();
    /// assert_eq!(fleet.command(0, &["GET", "a"]).unwrap(), "1");
    /// assert_eq!(fleet.command(0, &["GET", "missing"]).unwrap(), "(nil)");
    /// ```
    ///
    /// # Errors
    /// [`RedisErrorKind::NoSuchServer`] for an index past the end; [`RedisErrorKind::Io`] when
    /// the server is down or the connection breaks.
    pub fn command(&self, index: usize, args: &[&str]) -> Result<String, RedisError> {
        command(self.server(index)?.port, args)
    }
}

impl Drop for RedisFleet {
    fn drop(&mut self) {
        self.servers.clear(); // each Server kills and reaps its process
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes a line straight to the process's stderr. libtest captures only the `print!` family, so
/// this stays visible in `cargo test` output: CI logs show whether Redis tests ran or were skipped.
fn notice(line: &str) {
    let _ = writeln!(io::stderr().lock(), "[pool-testkit] {line}");
}

/// Sends one RESP command to `127.0.0.1:port` over a fresh connection and reads one reply.
fn command(port: u16, args: &[&str]) -> Result<String, RedisError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{}\r\n", arg.len(), arg));
    }
    (&stream).write_all(request.as_bytes())?;
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed").into());
    }
    let line = line.trim_end().to_owned();
    if let Some(len) = line.strip_prefix('$') {
        let Ok(len) = len.parse::<i64>() else {
            return Err(io::Error::new(io::ErrorKind::InvalidData, line).into());
        };
        if len < 0 {
            return Ok("(nil)".to_owned());
        }
        let mut body = String::new();
        reader.read_line(&mut body)?;
        return Ok(body.trim_end_matches("\r\n").to_owned());
    }
    Ok(line)
}
