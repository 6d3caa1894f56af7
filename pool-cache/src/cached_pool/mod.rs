//! The memoizing compute pool: [`CachedPool`].

mod builder;
mod error;
mod key;
mod lease;
mod pool;
mod stats;
mod traced;

pub use builder::{
    CachedPoolBuilder, DEFAULT_LEASE_TTL, DEFAULT_MAX_WAIT, DEFAULT_MEMO_CAPACITY,
    DEFAULT_POLL_BACKOFF,
};
pub use error::{CachedPoolBuildError, CachedPoolBuildErrorKind, CallError, CallErrorKind};
pub use pool::CachedPool;
pub use stats::CachedPoolStats;
pub use traced::{Source, Traced};
