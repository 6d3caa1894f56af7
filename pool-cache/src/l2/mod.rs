//! The L2 tier: the [`L2`] trait and its backends.

mod api;
mod blocking;
#[cfg(feature = "disk")]
mod disk;
mod error;
mod foreign;
mod input;
mod memory;
mod namespace;
#[cfg(feature = "redis")]
mod redis;
mod runtime_local;
mod stats;
mod unix_clock;

pub use api::{L2, L2Entry, L2Future, Put};
pub use blocking::{BlockingL2, DEFAULT_BLOCKING_TIMEOUT};
#[cfg(feature = "disk")]
pub use disk::{
    DEFAULT_CHECKPOINT_INTERVAL, DEFAULT_DISK_MAX_BYTES, DEFAULT_RECLAIM_BATCH, DiskDurability,
    DiskL2, DiskL2Builder, RECORD_HEADER_LEN,
};
pub use error::{L2BuildError, L2BuildErrorKind, L2Error, L2ErrorKind};
pub use input::{DEFAULT_MAX_VALUE_SIZE, MAX_TTL};
pub use memory::{MEMORY_RECORD_OVERHEAD, MemoryL2, MemoryL2Builder};
pub use namespace::L2Namespace;
#[cfg(feature = "redis")]
pub use redis::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT, DEFAULT_SCAN_COUNT, REDIS_VALUE_HEADER_LEN,
    RedisL2, RedisL2Builder,
};
pub use runtime_local::RuntimeLocal;
pub use stats::L2Stats;
pub use unix_clock::UnixClock;
