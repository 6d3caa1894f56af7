//! One `redis-server` child process.

use crate::error::{RedisError, RedisErrorKind, err};
use crate::resp::{self, Auth, Reply};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How a server is configured; shared by every server of a fleet.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServerConfig {
    pub(crate) extra_args: Vec<String>,
    pub(crate) password: Option<String>,
    pub(crate) acl_user: Option<(String, String)>,
    pub(crate) cluster: bool,
}

impl ServerConfig {
    pub(crate) fn auth(&self) -> Auth {
        match (&self.acl_user, &self.password) {
            (Some((user, password)), _) => {
                Auth::User { user: user.clone(), password: password.clone() }
            }
            (None, Some(p)) => Auth::Password(p.clone()),
            (None, None) => Auth::None,
        }
    }
}

/// One running (or killed) `redis-server` child process with its own working directory.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) port: u16,
    pub(crate) cluster_port: Option<u16>,
    pub(crate) dir: PathBuf,
    child: Option<Child>,
}

impl Server {
    pub(crate) fn spawn(
        port: u16,
        cluster_port: Option<u16>,
        dir: &Path,
        config: &ServerConfig,
    ) -> Result<Self, RedisError> {
        std::fs::create_dir_all(dir)?;
        let mut cmd = Command::new(crate::binary());
        cmd.args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--protected-mode", "yes"])
            .arg("--dir")
            .arg(dir);
        if let Some(p) = &config.password {
            cmd.args(["--requirepass", p]);
        }
        if let Some((user, password)) = &config.acl_user {
            cmd.args(["--user", user, "on", &format!(">{password}"), "~*", "&*", "+@all"]);
            cmd.args(["--user", "default", "off"]);
        }
        if config.cluster {
            // An explicit bus port: the default (port + 10000) is invalid above 55535.
            let bus = cluster_port.unwrap_or(0);
            cmd.args(["--cluster-enabled", "yes"])
                .arg("--cluster-config-file")
                .arg(dir.join("nodes.conf"))
                .args(["--cluster-port", &bus.to_string()])
                .args(["--cluster-node-timeout", "2000"]);
        }
        cmd.args(&config.extra_args);
        let child =
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().map_err(
                |e| {
                    if e.kind() == io::ErrorKind::NotFound {
                        err(RedisErrorKind::NotInstalled)
                    } else {
                        err(RedisErrorKind::StartFailed(format!("spawn: {e}")))
                    }
                },
            )?;
        let mut server = Server { port, cluster_port, dir: dir.to_owned(), child: Some(child) };
        server.wait_ready(crate::DEFAULT_START_TIMEOUT, &config.auth())?;
        Ok(server)
    }

    /// Polls `PING` until the server answers `PONG`, its process exits, or the timeout passes.
    fn wait_ready(&mut self, timeout: Duration, auth: &Auth) -> Result<(), RedisError> {
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
            match resp::query(self.port, auth, &[b"PING"]) {
                Ok(Reply::Simple(s)) if s == "PONG" => return Ok(()),
                // A wrong password will not become right by waiting.
                Err(e) if matches!(e.kind, RedisErrorKind::Server(_)) => {
                    self.kill();
                    return Err(e);
                }
                _ => {}
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

    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The process may already be gone; either way we reap it so no zombie is left.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub(crate) fn running(&self) -> bool {
        self.child.is_some()
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
