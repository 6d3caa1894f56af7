//! The flagship pipeline: a Zipf-distributed stream of requests, each needing a CPU-heavy
//! hash chain, served through an L1 cache over a persistent L2 (a redb file, one Redis
//! server, or several sharded by the hash ring), computed on a `ComputePool` on a miss, and
//! watched by metrics. [`Settings`] are the flags, [`run`] serves the stream, and the
//! [`Report`] it returns prints as text or as one JSON object.

mod args;
mod memo;
mod report;
mod run;
mod store;
mod workload;

pub use args::{
    Args, DEFAULT_KEYS, DEFAULT_REQUESTS, DEFAULT_ZIPF, Settings, SettingsError, default_data_dir,
};
pub use memo::{Memo, MemoError, Outcome};
pub use report::Report;
pub use run::{open_store, run};
pub use store::{
    BREAKER_OPEN, DB_FILE, L2Kind, L2Store, LEASE_TTL, Lease, Lookup, REDIS_TIMEOUT, Record,
};
pub use workload::{Digest, KeyStream, WORK_ROUNDS, compute};
