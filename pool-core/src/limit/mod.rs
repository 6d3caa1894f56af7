//! Limits: concurrency, rate, circuit breaking, batching.

mod batch;
mod breaker;
mod concurrency;
mod keyed;
mod rate;
mod rate_export;
#[cfg(feature = "async")]
pub(crate) mod sleep;
mod window;

pub use batch::{
    BatchError, Batcher, BatcherBuildError, BatcherBuildErrorKind, BatcherBuilder, BatcherConfig,
};
pub use breaker::{
    BreakerPermit, CallError, CallNotPermitted, CircuitBreaker, CircuitBreakerBuildError,
    CircuitBreakerBuildErrorKind, CircuitBreakerBuilder, CircuitBreakerConfig,
    CircuitBreakerMetrics, CircuitState, SlidingWindow, StateTransition,
};
pub use concurrency::{
    ConcurrencyController, ConcurrencyControllerBuildError, ConcurrencyControllerBuildErrorKind,
    ConcurrencyControllerBuilder, ConcurrencyControllerConfig, ConcurrencyControllerStats,
    ConcurrencyError,
};
pub use keyed::{KeyedRateLimitError, KeyedRateLimiter};
pub use rate::{
    AcquireRateError, RateLimited, RateLimiter, RateLimiterBuildError, RateLimiterBuildErrorKind,
    RateLimiterBuilder,
};
