//! Sharding strategies behind one trait, [`Sharding`]: the ring, jump consistent hash,
//! rendezvous hashing, Redis Cluster slots, hash ranges and random placement.

mod crc16;
mod jump;
mod nodes;
mod random;
mod range;
mod rendezvous;
mod ring;
mod sharding;
mod slots;

pub use crc16::crc16;
pub use jump::{JumpHash, jump_hash};
pub use random::RandomPlacement;
pub use range::RangeSharding;
pub use rendezvous::Rendezvous;
pub use sharding::Sharding;
pub use slots::{RedisSlots, SLOT_COUNT, key_slot};
