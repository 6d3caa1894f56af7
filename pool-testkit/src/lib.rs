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
#![forbid(unsafe_code)]

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod error;
mod fleet;
mod resp;
mod server;

pub use error::{RedisError, RedisErrorKind};
pub use fleet::{FleetBuilder, RedisFleet};
pub use resp::Reply;

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The environment variable that turns a missing `redis-server` from a skip into a failure.
pub const REQUIRE_ENV: &str = "POOL_REQUIRE_REDIS";

/// The environment variable naming the server binary to run (default `redis-server` from `PATH`).
pub const BINARY_ENV: &str = "POOL_REDIS_SERVER";

/// The environment variable naming the `redis-cli` binary used to form clusters
/// (default `redis-cli` from `PATH`).
pub const CLI_ENV: &str = "POOL_REDIS_CLI";

/// How long a freshly spawned server gets to answer `PING` before the start counts as failed.
/// A local redis-server answers within ~10 ms; 10 s leaves room for a loaded 2-core CI box.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);

/// How many times a start is retried with a new port when the chosen port was taken in between
/// (the free-port probe and the server's bind are not atomic).
const START_ATTEMPTS: usize = 5;

/// The server binary: `$POOL_REDIS_SERVER` if set, else `redis-server` from `PATH`.
pub(crate) fn binary() -> std::ffi::OsString {
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

/// Writes a line straight to the process's stderr. libtest captures only the `print!` family, so
/// this stays visible in `cargo test` output: CI logs show whether Redis tests ran or were skipped.
pub(crate) fn notice(line: &str) {
    let _ = writeln!(io::stderr().lock(), "[pool-testkit] {line}");
}
