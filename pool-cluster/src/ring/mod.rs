//! The consistent-hash ring: see `README.md` in this folder for the design.

mod bounded;
mod builder;
mod diff;
mod hash_ring;
mod index;
mod shared;

pub use bounded::BoundedLoads;
pub use builder::HashRingBuilder;
pub use diff::{MovedRange, RingDiff};
pub use hash_ring::HashRing;
pub use shared::{RingSnapshot, SharedRing};
