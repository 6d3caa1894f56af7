//! The batcher (DataLoader): configuration and builder, errors, the dispatcher.

mod batcher;
mod builder;
mod error;

pub use batcher::Batcher;
pub use builder::{BatcherBuilder, BatcherConfig};
pub use error::{BatchError, BatcherBuildError, BatcherBuildErrorKind};
