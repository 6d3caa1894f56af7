//! Limits: concurrency, rate, circuit breaking, batching.

mod batch;
mod breaker;
mod concurrency;
mod keyed;
mod rate;
#[cfg(feature = "async")]
pub(crate) mod sleep;
mod window;

pub use batch::{
    BatchError, Batcher, BatcherBuildError, BatcherBuilder, DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_MAX_DELAY,
};
pub use breaker::{
    BreakerBuildError, BreakerBuildErrorKind, BreakerConfig, BreakerMetrics, CallError,
    CallNotPermitted, CircuitBreaker, CircuitBreakerBuilder, CircuitState,
    DEFAULT_FAILURE_RATE_THRESHOLD, DEFAULT_MINIMUM_CALLS, DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN,
    DEFAULT_SLIDING_WINDOW, DEFAULT_SLOW_CALL_RATE_THRESHOLD, DEFAULT_WAIT_IN_OPEN, Permit,
    SlidingWindow, StateTransition,
};
pub use concurrency::{
    ConcurrencyController, ControllerBuildError, ControllerBuilder, ControllerConfig,
    ControllerError, ControllerStats, DEFAULT_BASE_BACKOFF, DEFAULT_MAX_BACKOFF,
    DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUED, DEFAULT_MAX_RETRIES, DEFAULT_RETRY_BUDGET_RATIO,
    DEFAULT_RETRY_BUDGET_RESERVE,
};
pub use keyed::{KeyedRateLimitError, KeyedRateLimiter};
pub use rate::{
    AcquireRateError, DEFAULT_RATE_BURST, RateLimited, RateLimiter, RateLimiterBuildError,
    RateLimiterBuilder,
};
