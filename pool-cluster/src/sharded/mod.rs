//! [`ShardedL2`]: one [`L2`](pool_cache::L2) over many L2 nodes, placed by the hash ring, with
//! replication, read-repair, failover, per-node batches and rebalancing on join.

mod builder;
mod error;
mod rebalance;
mod shard;
mod stats;
mod store;

pub use builder::ShardedL2Builder;
pub use error::{ShardedL2BuildError, ShardedL2BuildErrorKind, TopologyError, TopologyErrorKind};
pub use rebalance::{CopyReport, Rebalance};
pub use stats::ShardedStats;
pub use store::ShardedL2;
