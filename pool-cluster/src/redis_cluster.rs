//! Redis Cluster L2.
