//! Sharded L2.
