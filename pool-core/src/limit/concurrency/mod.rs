//! The concurrency controller: configuration and builder, errors, the controller, export.

mod builder;
mod controller;
mod error;
mod export;

pub use builder::{ConcurrencyControllerBuilder, ConcurrencyControllerConfig};
pub use controller::{ConcurrencyController, ConcurrencyControllerStats};
pub use error::{
    ConcurrencyControllerBuildError, ConcurrencyControllerBuildErrorKind, ConcurrencyError,
};
