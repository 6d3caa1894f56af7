//! The circuit breaker: configuration and builder, errors, the state machine, permits, export.

mod builder;
mod circuit;
mod error;
mod export;
mod permit;
mod state;

pub use builder::{CircuitBreakerBuilder, CircuitBreakerConfig, SlidingWindow};
pub use circuit::{CircuitBreaker, CircuitBreakerMetrics};
pub use error::{
    CallError, CallNotPermitted, CircuitBreakerBuildError, CircuitBreakerBuildErrorKind,
};
pub use permit::BreakerPermit;
pub use state::{CircuitState, StateTransition};
