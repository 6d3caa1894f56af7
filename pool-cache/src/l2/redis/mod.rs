//! `RedisL2`: an L2 on a Redis server through redis-rs.

mod builder;
mod error_kind;
mod store;

pub use builder::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT, DEFAULT_SCAN_COUNT, RedisL2Builder,
};
pub use store::{REDIS_VALUE_HEADER_LEN, RedisL2};
