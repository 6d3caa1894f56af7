//! A fleet of `redis-server` processes and its builder.

use crate::error::{RedisError, RedisErrorKind, err};
use crate::resp::{self, Auth, Reply};
use crate::server::{Server, ServerConfig};
use crate::{
    CLI_ENV, REQUIRE_ENV, START_ATTEMPTS, free_port, notice, redis_installed, redis_required,
};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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
    config: ServerConfig,
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
        Self::builder(n).start()
    }

    /// A builder for a fleet of `n` servers with extra arguments, a password or ACL user, or
    /// cluster mode.
    ///
    /// ```
    /// let Some(fleet) = pool_testkit::RedisFleet::builder(1)
    ///     .password("s3cret")
    ///     .start_or_skip("builder_doc")
    /// else {
    ///     return;
    /// };
    /// // The kit authenticates its own commands.
    /// assert_eq!(fleet.command(0, &["PING"]).unwrap(), "+PONG");
    /// assert!(fleet.auth_url(0).starts_with("redis://:s3cret@127.0.0.1:"));
    /// ```
    pub fn builder(n: usize) -> FleetBuilder {
        FleetBuilder { n, config: ServerConfig::default() }
    }

    fn start_with(n: usize, config: ServerConfig) -> Result<Self, RedisError> {
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
        let mut fleet = RedisFleet { servers: Vec::with_capacity(n), dir, config };
        for index in 0..n {
            let server = fleet.spawn_on_some_port(index)?;
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
        Self::builder(n).start_or_skip(test)
    }

    fn start_or_skip_with(test: &str, n: usize, config: ServerConfig) -> Option<Self> {
        match Self::start_with(n, config) {
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

    fn spawn_on_some_port(&self, index: usize) -> Result<Server, RedisError> {
        let mut last = None;
        let dir = self.dir.join(format!("server-{index}"));
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let bus = if self.config.cluster { Some(free_port()?) } else { None };
            match Server::spawn(port, bus, &dir, &self.config) {
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

    /// Restarts server `index` on the same port and working directory (killing it first if it
    /// runs). It comes back empty unless the fleet's arguments turned persistence on; a cluster
    /// node rejoins its cluster from its `nodes.conf`.
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
        let config = self.config.clone();
        let server = self.server_mut(index)?;
        server.kill();
        *server = Server::spawn(server.port, server.cluster_port, &server.dir.clone(), &config)?;
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
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        Ok(resp::render(&self.query(index, &args)?))
    }

    /// Sends one command of binary-safe arguments to server `index` and returns its full reply
    /// (arrays included). The kit authenticates first when the fleet has a password or ACL user.
    ///
    /// ```
    /// use pool_testkit::Reply;
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("query_doc", 1) else { return };
    /// fleet.query(0, &[b"SET", b"k\x00", b"\xff"]).unwrap();
    /// assert_eq!(fleet.query(0, &[b"GET", b"k\x00"]).unwrap(), Reply::Bulk(Some(vec![0xff])));
    /// assert_eq!(fleet.query(0, &[b"DBSIZE"]).unwrap().as_int(), Some(1));
    /// ```
    ///
    /// # Errors
    /// [`RedisErrorKind::NoSuchServer`] for an index past the end; [`RedisErrorKind::Io`] when
    /// the server is down; [`RedisErrorKind::Server`] when authentication fails. An error reply
    /// to the command itself comes back as `Ok(Reply::Error(..))`.
    pub fn query(&self, index: usize, args: &[&[u8]]) -> Result<Reply, RedisError> {
        resp::query(self.server(index)?.port, &self.config.auth(), args)
    }

    /// Every key on server `index`, read with `SCAN` (never `KEYS`), in no particular order.
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("scan_doc", 1) else { return };
    /// fleet.command(0, &["MSET", "a", "1", "b", "2"]).unwrap();
    /// let mut keys = fleet.scan_keys(0).unwrap();
    /// keys.sort();
    /// assert_eq!(keys, vec![b"a".to_vec(), b"b".to_vec()]);
    /// ```
    ///
    /// # Errors
    /// As [`RedisFleet::query`]; [`RedisErrorKind::Server`] on an unexpected reply.
    pub fn scan_keys(&self, index: usize) -> Result<Vec<Vec<u8>>, RedisError> {
        let mut keys = Vec::new();
        let mut cursor = b"0".to_vec();
        // SCAN visits every key in at most (keys / COUNT + table size) rounds; 1M rounds of
        // COUNT 1000 bounds the loop far above anything a test writes.
        for _ in 0..1_000_000 {
            let reply = self.query(index, &[b"SCAN", &cursor, b"COUNT", b"1000"])?;
            let Reply::Array(Some(parts)) = reply else {
                return Err(err(RedisErrorKind::Server(format!("SCAN answered {reply:?}"))));
            };
            let [Reply::Bulk(Some(next)), Reply::Array(Some(batch))] = parts.as_slice() else {
                return Err(err(RedisErrorKind::Server(format!("SCAN answered {parts:?}"))));
            };
            keys.extend(batch.iter().filter_map(|k| k.as_bytes().map(<[u8]>::to_vec)));
            if next.as_slice() == b"0" {
                return Ok(keys);
            }
            cursor = next.clone();
        }
        Err(err(RedisErrorKind::Server("SCAN did not finish".into())))
    }

    /// The URL of server `index` with the fleet's credentials in it
    /// (`redis://:PASSWORD@…` or `redis://USER:PASSWORD@…`); the same as [`RedisFleet::url`]
    /// when the fleet has none.
    ///
    /// # Panics
    /// For an index past the end (a bug in the test).
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::builder(1).acl_user("app", "pw").start_or_skip("auth_url_doc") else { return };
    /// assert_eq!(fleet.auth_url(0), format!("redis://app:pw@127.0.0.1:{}/", fleet.port(0).unwrap()));
    /// ```
    pub fn auth_url(&self, index: usize) -> String {
        let port = match self.port(index) {
            Ok(port) => port,
            Err(e) => panic!("{e}"),
        };
        match self.config.auth() {
            Auth::None => format!("redis://127.0.0.1:{port}/"),
            Auth::Password(p) => format!("redis://:{p}@127.0.0.1:{port}/"),
            Auth::User { user, password } => format!("redis://{user}:{password}@127.0.0.1:{port}/"),
        }
    }

    /// The working directory of server `index` (its own; kept across [`RedisFleet::restart`]),
    /// where persistence files and a cluster node's `nodes.conf` live.
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("dir_doc", 2) else { return };
    /// assert_ne!(fleet.data_dir(0).unwrap(), fleet.data_dir(1).unwrap());
    /// assert!(fleet.data_dir(0).unwrap().is_dir());
    /// ```
    ///
    /// # Errors
    /// [`RedisErrorKind::NoSuchServer`] for an index past the end.
    pub fn data_dir(&self, index: usize) -> Result<PathBuf, RedisError> {
        Ok(self.server(index)?.dir.clone())
    }

    /// The cluster bus port of server `index`, for a fleet built with
    /// [`FleetBuilder::cluster_enabled`].
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("bus_doc", 1) else { return };
    /// assert_eq!(fleet.cluster_port(0).unwrap(), None);
    /// ```
    ///
    /// # Errors
    /// [`RedisErrorKind::NoSuchServer`] for an index past the end.
    pub fn cluster_port(&self, index: usize) -> Result<Option<u16>, RedisError> {
        Ok(self.server(index)?.cluster_port)
    }

    /// The process id of server `index`, `None` once it was killed.
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::start_or_skip("pid_doc", 1) else { return };
    /// assert!(fleet.pid(0).unwrap().is_some());
    /// ```
    ///
    /// # Errors
    /// [`RedisErrorKind::NoSuchServer`] for an index past the end.
    pub fn pid(&self, index: usize) -> Result<Option<u32>, RedisError> {
        Ok(self.server(index)?.pid())
    }

    /// Joins every server of a [`FleetBuilder::cluster_enabled`] fleet into one Redis Cluster
    /// of masters (`redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`), then waits
    /// until every node reports `cluster_state:ok`.
    ///
    /// ```
    /// let Some(fleet) = pool_testkit::RedisFleet::builder(3)
    ///     .cluster_enabled()
    ///     .start_or_skip("cluster_doc")
    /// else {
    ///     return;
    /// };
    /// fleet.create_cluster().unwrap();
    /// let info = fleet.command(0, &["CLUSTER", "INFO"]).unwrap();
    /// assert!(info.contains("cluster_state:ok"), "{info}");
    /// ```
    ///
    /// # Errors
    /// [`RedisErrorKind::Unsupported`] when the fleet is not cluster-enabled, has fewer than
    /// three servers, or `redis-cli` is missing; [`RedisErrorKind::StartFailed`] when the
    /// cluster does not reach `cluster_state:ok` within 30 s.
    pub fn create_cluster(&self) -> Result<(), RedisError> {
        if !self.config.cluster {
            return Err(err(RedisErrorKind::Unsupported(
                "create_cluster needs a fleet built with cluster_enabled()".into(),
            )));
        }
        if self.servers.len() < 3 {
            return Err(err(RedisErrorKind::Unsupported(format!(
                "a Redis Cluster needs at least 3 masters, the fleet has {}",
                self.servers.len()
            ))));
        }
        let cli = std::env::var_os(CLI_ENV).unwrap_or_else(|| "redis-cli".into());
        let mut cmd = Command::new(cli);
        match self.config.auth() {
            Auth::None => {}
            Auth::Password(p) => {
                cmd.args(["-a", &p, "--no-auth-warning"]);
            }
            Auth::User { user, password } => {
                cmd.args(["--user", &user, "--pass", &password, "--no-auth-warning"]);
            }
        }
        cmd.args(["--cluster", "create"]);
        for s in &self.servers {
            cmd.arg(format!("127.0.0.1:{}", s.port));
        }
        cmd.args(["--cluster-replicas", "0", "--cluster-yes"]);
        let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
            err(RedisErrorKind::Unsupported(format!("redis-cli could not run: {e}")))
        })?;
        if !out.status.success() {
            return Err(err(RedisErrorKind::StartFailed(format!(
                "redis-cli --cluster create failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))));
        }
        self.wait_cluster_ok(Duration::from_secs(30))
    }

    /// Waits until every running node of the fleet reports `cluster_state:ok`.
    ///
    /// # Errors
    /// [`RedisErrorKind::StartFailed`] when that does not happen within `timeout`.
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::builder(3).cluster_enabled().start_or_skip("wait_doc") else { return };
    /// # fleet.create_cluster().unwrap();
    /// fleet.wait_cluster_ok(std::time::Duration::from_secs(10)).unwrap();
    /// ```
    pub fn wait_cluster_ok(&self, timeout: Duration) -> Result<(), RedisError> {
        let deadline = Instant::now() + timeout;
        loop {
            let all_ok = (0..self.servers.len()).filter(|&i| self.is_running(i)).all(|i| {
                self.command(i, &["CLUSTER", "INFO"])
                    .is_ok_and(|info| info.contains("cluster_state:ok"))
            });
            if all_ok {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(err(RedisErrorKind::StartFailed(format!(
                    "cluster did not reach cluster_state:ok within {timeout:?}"
                ))));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisFleet {
    fn drop(&mut self) {
        self.servers.clear(); // each Server kills and reaps its process
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Configures a [`RedisFleet`] before it starts: extra server arguments, a password or ACL user,
/// cluster mode.
///
/// ```
/// let Some(fleet) = pool_testkit::RedisFleet::builder(1)
///     .args(["--maxmemory", "10mb"])
///     .start_or_skip("fleet_builder_doc")
/// else {
///     return;
/// };
/// let reply = fleet.query(0, &[b"CONFIG", b"GET", b"maxmemory"]).unwrap();
/// let pool_testkit::Reply::Array(Some(pair)) = reply else { panic!("{reply:?}") };
/// assert_eq!(pair[1].as_bytes(), Some(&b"10485760"[..]));
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct FleetBuilder {
    n: usize,
    config: ServerConfig,
}

impl FleetBuilder {
    /// Appends one argument to every server's command line, after the kit's own
    /// (`--port`, `--bind`, `--save ''`, `--appendonly no`, `--dir`), so it can override them.
    ///
    /// ```
    /// let Some(fleet) = pool_testkit::RedisFleet::builder(1)
    ///     .arg("--appendonly")
    ///     .arg("yes")
    ///     .start_or_skip("arg_doc")
    /// else {
    ///     return;
    /// };
    /// let reply = fleet.query(0, &[b"CONFIG", b"GET", b"appendonly"]).unwrap();
    /// let pool_testkit::Reply::Array(Some(pair)) = reply else { panic!("{reply:?}") };
    /// assert_eq!(pair[1].as_bytes(), Some(&b"yes"[..]));
    /// ```
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.config.extra_args.push(arg.into());
        self
    }

    /// Appends several arguments; see [`FleetBuilder::arg`].
    ///
    /// ```
    /// let Some(fleet) = pool_testkit::RedisFleet::builder(1)
    ///     .args(["--maxmemory-policy", "allkeys-lru"])
    ///     .start_or_skip("args_doc")
    /// else {
    ///     return;
    /// };
    /// let reply = fleet.query(0, &[b"CONFIG", b"GET", b"maxmemory-policy"]).unwrap();
    /// let pool_testkit::Reply::Array(Some(pair)) = reply else { panic!("{reply:?}") };
    /// assert_eq!(pair[1].as_bytes(), Some(&b"allkeys-lru"[..]));
    /// ```
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.extra_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Starts the servers with `--requirepass PASSWORD`; the kit's own commands authenticate.
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::builder(1).password("pw").start_or_skip("pw_doc") else { return };
    /// // A client without the password is refused.
    /// let mut raw = std::net::TcpStream::connect(("127.0.0.1", fleet.port(0).unwrap())).unwrap();
    /// use std::io::{Read, Write};
    /// raw.write_all(b"PING\r\n").unwrap();
    /// let mut buf = [0u8; 64];
    /// let n = raw.read(&mut buf).unwrap();
    /// assert!(std::str::from_utf8(&buf[..n]).unwrap().starts_with("-NOAUTH"));
    /// ```
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.config.password = Some(password.into());
        self
    }

    /// Adds an ACL user with every permission and turns the `default` user off, so only
    /// `AUTH USER PASSWORD` gets in; the kit's own commands authenticate as that user.
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::builder(1).acl_user("app", "pw").start_or_skip("acl_doc") else { return };
    /// assert_eq!(fleet.command(0, &["ACL", "WHOAMI"]).unwrap(), "app");
    /// ```
    pub fn acl_user(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.config.acl_user = Some((user.into(), password.into()));
        self
    }

    /// Starts every server with `--cluster-enabled yes`, its own `--cluster-config-file` in its
    /// data directory, and an explicit free `--cluster-port`. The nodes start unjoined: call
    /// [`RedisFleet::create_cluster`] to form a cluster (a single node already answers
    /// `CLUSTER KEYSLOT`).
    ///
    /// ```
    /// # let Some(fleet) = pool_testkit::RedisFleet::builder(1).cluster_enabled().start_or_skip("keyslot_doc") else { return };
    /// assert_eq!(fleet.command(0, &["CLUSTER", "KEYSLOT", "foo"]).unwrap(), ":12182");
    /// ```
    pub fn cluster_enabled(mut self) -> Self {
        self.config.cluster = true;
        self
    }

    /// Starts the servers and waits until each answers `PING`.
    ///
    /// # Errors
    /// As [`RedisFleet::start`]; [`RedisErrorKind::Server`] when the configured credentials are
    /// refused.
    ///
    /// ```
    /// # if !pool_testkit::redis_installed() { return; }
    /// let fleet = pool_testkit::RedisFleet::builder(2).start().unwrap();
    /// assert_eq!(fleet.len(), 2);
    /// ```
    pub fn start(self) -> Result<RedisFleet, RedisError> {
        RedisFleet::start_with(self.n, self.config)
    }

    /// Starts the servers, or returns `None` after printing that `test` was skipped when
    /// `redis-server` is not installed.
    ///
    /// # Panics
    /// As [`RedisFleet::start_or_skip`].
    ///
    /// ```
    /// let Some(fleet) = pool_testkit::RedisFleet::builder(1).start_or_skip("skip_doc") else { return };
    /// assert_eq!(fleet.len(), 1);
    /// ```
    pub fn start_or_skip(self, test: &str) -> Option<RedisFleet> {
        RedisFleet::start_or_skip_with(test, self.n, self.config)
    }
}
