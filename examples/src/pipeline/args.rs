//! The command line and the validated settings it gives.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Parser;

/// Requests in a default run (about 5 s cold on two idle cores, under 1 s warm; release build).
pub const DEFAULT_REQUESTS: u64 = 300_000;
/// Distinct keys a default run draws from.
pub const DEFAULT_KEYS: u64 = 50_000;
/// The default Zipf exponent (web-like popularity: key k is asked for ∝ 1/k).
pub const DEFAULT_ZIPF: f64 = 1.0;

/// The flags of `cargo run --release -p pool-examples --example pipeline -- [FLAGS]`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "pipeline",
    about = "The flagship pipeline: memoized CPU-heavy work on an L1 over a persistent L2"
)]
pub struct Args {
    /// Requests to serve (0 gives an empty report).
    #[arg(long, default_value_t = DEFAULT_REQUESTS)]
    pub requests: u64,
    /// Distinct keys the requests are drawn from (>= 1).
    #[arg(long, default_value_t = DEFAULT_KEYS)]
    pub keys: u64,
    /// Zipf exponent of key popularity (> 0; 1.0 is web-like, larger is more skewed).
    #[arg(long, default_value_t = DEFAULT_ZIPF)]
    pub zipf: f64,
    /// Client threads issuing requests, and workers of the compute pool [default: the cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Entries the L1 holds [default: a tenth of --keys].
    #[arg(long)]
    pub l1_capacity: Option<u64>,
    /// Directory of the redb file (created if missing) [default: target/pipeline-data in the
    /// workspace].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Start cold: delete this pipeline's L2 records (the redb file, or its keys on Redis).
    #[arg(long)]
    pub fresh: bool,
    /// Put the L2 on these Redis servers instead of the disk (comma-separated URLs; two or more
    /// are sharded by the hash ring, three or more keep two copies of each key).
    #[arg(long, value_delimiter = ',')]
    pub redis: Vec<String>,
    /// Put the L2 on a Redis Cluster instead of the disk (comma-separated seed URLs of its
    /// nodes; the cluster's slots place the keys).
    #[arg(long, value_delimiter = ',', conflicts_with = "redis")]
    pub redis_cluster: Vec<String>,
    /// Print one JSON object on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,
}

/// Settings checked before any work starts.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Requests to serve.
    pub requests: u64,
    /// Distinct keys.
    pub keys: u64,
    /// Zipf exponent.
    pub zipf: f64,
    /// Client threads and compute workers.
    pub threads: usize,
    /// L1 entries.
    pub l1_capacity: u64,
    /// Where the redb file lives (unused with Redis).
    pub data_dir: PathBuf,
    /// Start cold.
    pub fresh: bool,
    /// Redis URLs (empty: the disk).
    pub redis: Vec<String>,
    /// Redis Cluster seed URLs (empty: not a cluster).
    pub redis_cluster: Vec<String>,
    /// Print JSON.
    pub json: bool,
}

/// A flag that cannot be used, with what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(pub String);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

/// The default data directory: `target/pipeline-data` at the workspace root (git-ignored with
/// the rest of `target/`).
#[must_use]
pub fn default_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target").join("pipeline-data")
}

impl Args {
    /// Checks the flags.
    ///
    /// # Errors
    ///
    /// [`SettingsError`] for `--keys 0`, a `--zipf` that is not a finite number > 0,
    /// `--threads 0`, `--l1-capacity 0`, or an empty `--redis` URL.
    ///
    /// ```
    /// use clap::Parser;
    /// use pool_examples::pipeline::Args;
    /// let err = Args::parse_from(["pipeline", "--keys", "0"]).settings().unwrap_err();
    /// assert!(err.to_string().contains("--keys"));
    /// ```
    pub fn settings(self) -> Result<Settings, SettingsError> {
        let fail = |m: String| Err(SettingsError(m));
        if self.keys == 0 {
            return fail("--keys must be >= 1 (the number of distinct keys), got 0".into());
        }
        if !(self.zipf.is_finite() && self.zipf > 0.0) {
            return fail(format!(
                "--zipf must be a finite number > 0 (1.0 is web-like popularity), got {}",
                self.zipf
            ));
        }
        let threads = match self.threads {
            Some(0) => return fail("--threads must be >= 1, got 0".into()),
            Some(t) => t,
            None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        };
        let l1_capacity = match self.l1_capacity {
            Some(0) => return fail("--l1-capacity must be >= 1, got 0".into()),
            Some(c) => c,
            None => (self.keys / 10).max(1),
        };
        if self.redis.iter().chain(&self.redis_cluster).any(|u| u.trim().is_empty()) {
            return fail("--redis takes comma-separated URLs such as redis://127.0.0.1:6379; got an empty one".into());
        }
        Ok(Settings {
            requests: self.requests,
            keys: self.keys,
            zipf: self.zipf,
            threads,
            l1_capacity,
            data_dir: self.data.unwrap_or_else(default_data_dir),
            fresh: self.fresh,
            redis: self.redis.into_iter().map(|u| u.trim().to_owned()).collect(),
            redis_cluster: self.redis_cluster.into_iter().map(|u| u.trim().to_owned()).collect(),
            json: self.json,
        })
    }
}
