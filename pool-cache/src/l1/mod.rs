//! The L1 in-memory cache: [`Cache`] and its parts.

mod cache;
mod clock;
mod expiry;
mod export;
mod ghost;
mod lfu;
mod list;
mod loader;
mod lru;
mod namespace;
mod policy;
mod read_buffer;
mod shard;
mod sketch;
mod stats;
mod timer_wheel;
mod tinylfu;

pub use cache::{Cache, CacheConfig};
pub use expiry::Expiry;
pub use namespace::{Namespaces, NsKey};
pub use policy::{ParsePolicyError, Policy};
pub use stats::{CacheStats, RemovalCause};
