//! [`LoadBalancer`] over healthy endpoints (round-robin, least-outstanding,
//! power-of-two-choices) and [`RetryClient`], which adds retries with jittered backoff, a
//! retry budget and the per-endpoint breaker.

mod backoff;
mod balancer;
mod budget;
mod client;
mod error;
mod strategy;

pub use backoff::Backoff;
pub use balancer::{LoadBalancer, LoadBalancerBuilder, Pick};
pub use budget::RetryBudget;
pub use client::{RetryClient, RetryClientBuilder};
pub use error::{
    AttemptError, BalanceBuildError, BalanceBuildErrorKind, ClientError, NoHealthyEndpoint,
};
pub use strategy::Strategy;
