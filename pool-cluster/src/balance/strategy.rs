//! [`Strategy`]: how a [`LoadBalancer`](super::LoadBalancer) picks among healthy endpoints.

/// How to pick an endpoint among the available ones.
///
/// ```
/// assert_eq!(pool_cluster::Strategy::default(), pool_cluster::Strategy::PowerOfTwoChoices);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Each available endpoint in turn.
    RoundRobin,
    /// The endpoint with the fewest calls in flight (ties go round-robin).
    LeastOutstanding,
    /// Two available endpoints at random, the one with fewer calls in flight (Mitzenmacher's
    /// "power of two choices": nearly least-outstanding's balance, and no herd on the one
    /// least-loaded endpoint). The pick still lists the available endpoints first.
    #[default]
    PowerOfTwoChoices,
}
