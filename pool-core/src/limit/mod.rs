//! Limits: concurrency, rate, circuit breaking, batching.

mod breaker;
mod keyed;
mod rate;
#[cfg(feature = "async")]
pub(crate) mod sleep;
mod window;

pub use breaker::{
    BreakerBuildError, BreakerBuildErrorKind, BreakerConfig, BreakerMetrics, CallError,
    CallNotPermitted, CircuitBreaker, CircuitBreakerBuilder, CircuitState,
    DEFAULT_FAILURE_RATE_THRESHOLD, DEFAULT_MINIMUM_CALLS, DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN,
    DEFAULT_SLIDING_WINDOW, DEFAULT_SLOW_CALL_RATE_THRESHOLD, DEFAULT_WAIT_IN_OPEN, Permit,
    SlidingWindow, StateTransition,
};
pub use keyed::{KeyedRateLimitError, KeyedRateLimiter};
pub use rate::{
    AcquireRateError, DEFAULT_RATE_BURST, RateLimited, RateLimiter, RateLimiterBuildError,
    RateLimiterBuilder,
};
