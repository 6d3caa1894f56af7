//! `DiskL2`: an L2 in one redb file.

mod builder;
mod checkpoint;
mod record;
mod store;

pub use builder::{
    DEFAULT_CHECKPOINT_INTERVAL, DEFAULT_DISK_MAX_BYTES, DiskDurability, DiskL2Builder,
};
pub use record::RECORD_HEADER_LEN;
pub use store::{DEFAULT_RECLAIM_BATCH, DiskL2};
