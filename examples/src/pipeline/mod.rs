//! The flagship pipeline: a Zipf-distributed stream of requests, each needing a CPU-heavy
//! hash chain, served through `pool_cache::CachedPool` (a `TieredCache`: a W-TinyLFU L1 over
//! a persistent L2, a redb file, one Redis server, several sharded by the hash ring, or a Redis
//! Cluster), computed on a `ComputePool` on a miss, and watched by metrics. [`Settings`] are
//! the flags, [`run`] serves the stream, and the [`Report`] it returns prints as text or as
//! one JSON object.

mod args;
mod guarded;
mod memo;
mod report;
mod run;
mod store;
mod workload;

pub use args::{
    Args, DEFAULT_KEYS, DEFAULT_REQUESTS, DEFAULT_ZIPF, Settings, SettingsError, default_data_dir,
};
pub use guarded::{BREAKER_OPEN, GuardedL2};
pub use memo::{MEMO_NAME, Memo, MemoError};
pub use report::Report;
pub use run::{open_store, run};
pub use store::{DB_FILE, L2Kind, L2Store, LEASE_TTL, REDIS_TIMEOUT};
pub use workload::{Digest, KeyStream, WORK_ROUNDS, compute};
