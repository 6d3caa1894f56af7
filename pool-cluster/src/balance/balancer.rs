//! [`LoadBalancer`]: picks an available endpoint by the [`Strategy`] and tracks calls in
//! flight; each endpoint has its health and circuit breaker.

use super::error::{BalanceBuildError, BalanceBuildErrorKind, NoHealthyEndpoint};
use super::strategy::Strategy;
use crate::health::{HealthConfig, HealthMonitor, NodeHealth};
use pool_core::BreakerPermit;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Endpoint<E> {
    id: String,
    value: E,
    outstanding: AtomicUsize,
    health: Arc<NodeHealth>,
}

/// Spreads calls over endpoints (the seeds' `LoadBalancer`): only endpoints that are up and
/// whose breaker permits a call are picked, by round-robin, least-outstanding or
/// power-of-two-choices. A [`Pick`] holds a breaker permit and counts as in flight until it
/// is dropped; report its outcome with [`Pick::success`] or [`Pick::failure`].
///
/// Health comes from a [`HealthMonitor`] (one node per endpoint id): spawn its prober, or
/// record probes by hand.
///
/// ```
/// use pool_cluster::{LoadBalancer, Strategy};
///
/// let lb = LoadBalancer::builder()
///     .endpoint("a", "10.0.0.1:80")
///     .endpoint("b", "10.0.0.2:80")
///     .strategy(Strategy::RoundRobin)
///     .build()?;
/// let first = lb.pick()?;
/// let second = lb.pick()?;
/// assert_ne!(first.id(), second.id());
/// first.success();
/// second.success();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LoadBalancer<E> {
    endpoints: Vec<Endpoint<E>>,
    strategy: Strategy,
    next: AtomicUsize,
    monitor: HealthMonitor,
}

impl<E> fmt::Debug for LoadBalancer<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadBalancer")
            .field("endpoints", &self.endpoints.iter().map(|e| &e.id).collect::<Vec<_>>())
            .field("strategy", &self.strategy)
            .finish_non_exhaustive()
    }
}

/// One picked endpoint: counted in flight until dropped, with a breaker permit whose outcome
/// [`success`](Self::success) or [`failure`](Self::failure) reports (dropping it unreported
/// counts as a failure, as pool-core's permits do).
///
/// ```
/// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", 7).build()?;
/// let pick = lb.pick()?;
/// assert_eq!((*pick.value(), lb.outstanding("a")), (7, Some(1)));
/// pick.success();
/// assert_eq!(lb.outstanding("a"), Some(0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "report the outcome with success() or failure()"]
pub struct Pick<'a, E> {
    endpoint: &'a Endpoint<E>,
    permit: Option<BreakerPermit<'a>>,
}

impl<E> fmt::Debug for Pick<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pick").field("id", &self.endpoint.id).finish_non_exhaustive()
    }
}

impl<E> Pick<'_, E> {
    /// The endpoint's id.
    ///
    /// ```
    /// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?;
    /// assert_eq!(lb.pick()?.id(), "a");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn id(&self) -> &str {
        &self.endpoint.id
    }

    /// The endpoint's value (an address, a client).
    ///
    /// ```
    /// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", 5u8).build()?;
    /// assert_eq!(*lb.pick()?.value(), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn value(&self) -> &E {
        &self.endpoint.value
    }

    /// The call succeeded.
    ///
    /// ```
    /// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?;
    /// lb.pick()?.success();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn success(mut self) {
        if let Some(p) = self.permit.take() {
            p.success();
        }
    }

    /// The call failed; counts against the endpoint's breaker.
    ///
    /// ```
    /// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?;
    /// lb.pick()?.failure();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn failure(mut self) {
        if let Some(p) = self.permit.take() {
            p.failure();
        }
    }
}

impl<E> Drop for Pick<'_, E> {
    fn drop(&mut self) {
        self.endpoint.outstanding.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Builds a [`LoadBalancer`]; by value, validated in [`build`](Self::build).
///
/// ```
/// use pool_cluster::{LoadBalancer, Strategy};
/// let lb = LoadBalancer::builder().endpoint("a", 1).strategy(Strategy::LeastOutstanding).build()?;
/// assert_eq!(lb.strategy(), Strategy::LeastOutstanding);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct LoadBalancerBuilder<E> {
    endpoints: Vec<(String, E)>,
    strategy: Strategy,
    health: HealthConfig,
}

impl<E> fmt::Debug for LoadBalancerBuilder<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadBalancerBuilder")
            .field("endpoints", &self.endpoints.len())
            .field("strategy", &self.strategy)
            .finish_non_exhaustive()
    }
}

impl<E> LoadBalancerBuilder<E> {
    /// Adds an endpoint with a distinct `id`.
    ///
    /// ```
    /// assert!(pool_cluster::LoadBalancer::builder().endpoint("a", ()).build().is_ok());
    /// ```
    pub fn endpoint(mut self, id: impl Into<String>, value: E) -> Self {
        self.endpoints.push((id.into(), value));
        self
    }

    /// How to pick ([`Strategy::PowerOfTwoChoices`] by default).
    ///
    /// ```
    /// let b = pool_cluster::LoadBalancer::builder().endpoint("a", ());
    /// assert!(b.strategy(pool_cluster::Strategy::RoundRobin).build().is_ok());
    /// ```
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Thresholds, breaker settings and clock of the endpoints' health.
    ///
    /// ```
    /// let b = pool_cluster::LoadBalancer::builder().endpoint("a", ());
    /// assert!(b.health(pool_cluster::HealthConfig::default()).build().is_ok());
    /// ```
    pub fn health(mut self, config: HealthConfig) -> Self {
        self.health = config;
        self
    }

    /// Builds the balancer.
    ///
    /// # Errors
    ///
    /// [`BalanceBuildError`] for no endpoint or two with the same id.
    ///
    /// ```
    /// assert!(pool_cluster::LoadBalancer::<()>::builder().build().is_err());
    /// ```
    pub fn build(self) -> Result<LoadBalancer<E>, BalanceBuildError> {
        if self.endpoints.is_empty() {
            return Err(BalanceBuildError::new(
                BalanceBuildErrorKind::NoEndpoints,
                "a load balancer needs at least one endpoint",
            ));
        }
        let mut seen = HashSet::new();
        for (id, _) in &self.endpoints {
            if !seen.insert(id.clone()) {
                return Err(BalanceBuildError::new(
                    BalanceBuildErrorKind::DuplicateEndpoint { id: id.clone() },
                    format!("endpoint id {id} is given twice; endpoint ids must be distinct"),
                ));
            }
        }
        let monitor = HealthMonitor::new(self.health);
        let mut endpoints = Vec::with_capacity(self.endpoints.len());
        for (id, value) in self.endpoints {
            let health = monitor.add(id.clone()).map_err(|e| {
                BalanceBuildError::new(
                    BalanceBuildErrorKind::DuplicateEndpoint { id: e.id().to_owned() },
                    e.to_string(),
                )
            })?;
            endpoints.push(Endpoint { id, value, outstanding: AtomicUsize::new(0), health });
        }
        Ok(LoadBalancer { endpoints, strategy: self.strategy, next: AtomicUsize::new(0), monitor })
    }
}

impl<E> LoadBalancer<E> {
    /// A builder with no endpoints and [`Strategy::PowerOfTwoChoices`].
    ///
    /// ```
    /// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?;
    /// assert_eq!(lb.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> LoadBalancerBuilder<E> {
        LoadBalancerBuilder {
            endpoints: Vec::new(),
            strategy: Strategy::default(),
            health: HealthConfig::default(),
        }
    }

    /// The strategy.
    ///
    /// ```
    /// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?;
    /// assert_eq!(lb.strategy(), pool_cluster::Strategy::PowerOfTwoChoices);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Number of endpoints (available or not).
    ///
    /// ```
    /// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", ()).endpoint("b", ()).build()?;
    /// assert_eq!(lb.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// Always false: a balancer has at least one endpoint.
    ///
    /// ```
    /// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?;
    /// assert!(!lb.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// The endpoints' health: record probes, spawn a prober, subscribe to changes.
    ///
    /// ```
    /// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?;
    /// assert!(lb.health_monitor().is_available("a"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn health_monitor(&self) -> &HealthMonitor {
        &self.monitor
    }

    /// Calls in flight on endpoint `id` (picks not yet dropped), if it exists.
    ///
    /// ```
    /// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?;
    /// assert_eq!(lb.outstanding("a"), Some(0));
    /// assert_eq!(lb.outstanding("b"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn outstanding(&self, id: &str) -> Option<usize> {
        self.endpoints.iter().find(|e| e.id == id).map(|e| e.outstanding.load(Ordering::Acquire))
    }

    /// Picks an available endpoint by the strategy and takes a breaker permit on it (an
    /// endpoint whose half-open breaker has no probe permit left is passed over).
    ///
    /// # Errors
    ///
    /// [`NoHealthyEndpoint`] when every endpoint is down or refuses calls.
    ///
    /// ```
    /// let lb = pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?;
    /// lb.health_monitor().node("a").expect("added").breaker().force_open();
    /// assert!(lb.pick().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pick(&self) -> Result<Pick<'_, E>, NoHealthyEndpoint> {
        let n = self.endpoints.len();
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        let start = turn % n;
        let first = match self.strategy {
            Strategy::RoundRobin => self.round_robin(turn),
            Strategy::LeastOutstanding => self.least_outstanding(start),
            Strategy::PowerOfTwoChoices => self.two_choices(),
        };
        if let Some(i) = first
            && let Some(p) = self.try_take(i)
        {
            return Ok(p);
        }
        // The fallback when the preferred endpoint refused a permit.
        (0..n).map(|k| (start + k) % n).find_map(|i| self.try_take(i)).ok_or(NoHealthyEndpoint)
    }

    /// The `turn`-th available endpoint (mod their count), so each available endpoint gets an
    /// equal turn even while others are down.
    fn round_robin(&self, turn: usize) -> Option<usize> {
        let avail: Vec<usize> = (0..self.endpoints.len())
            .filter(|&i| self.endpoints[i].health.is_available())
            .collect();
        (!avail.is_empty()).then(|| avail[turn % avail.len()])
    }

    fn load(&self, i: usize) -> usize {
        self.endpoints[i].outstanding.load(Ordering::Acquire)
    }

    fn least_outstanding(&self, start: usize) -> Option<usize> {
        let n = self.endpoints.len();
        (0..n)
            .map(|k| (start + k) % n)
            .filter(|&i| self.endpoints[i].health.is_available())
            .min_by_key(|&i| self.load(i))
    }

    fn two_choices(&self) -> Option<usize> {
        let avail: Vec<usize> = (0..self.endpoints.len())
            .filter(|&i| self.endpoints[i].health.is_available())
            .collect();
        match avail.len() {
            0 => None,
            1 => Some(avail[0]),
            m => {
                let a = rand::random_range(0..m);
                let b = (a + 1 + rand::random_range(0..m - 1)) % m;
                let (a, b) = (avail[a], avail[b]);
                Some(if self.load(b) < self.load(a) { b } else { a })
            }
        }
    }

    fn try_take(&self, i: usize) -> Option<Pick<'_, E>> {
        let e = &self.endpoints[i];
        if !e.health.is_up() {
            return None;
        }
        let permit = e.health.breaker().try_acquire().ok()?;
        e.outstanding.fetch_add(1, Ordering::AcqRel);
        Some(Pick { endpoint: e, permit: Some(permit) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lb(strategy: Strategy, n: usize) -> LoadBalancer<usize> {
        (0..n)
            .fold(LoadBalancer::builder(), |b, i| b.endpoint(format!("e{i}"), i))
            .strategy(strategy)
            .build()
            .expect("valid")
    }

    #[test]
    fn round_robin_visits_each_available_endpoint_in_turn() {
        let lb = lb(Strategy::RoundRobin, 3);
        for _ in 0..2 {
            lb.health_monitor().record_probe("e1", false);
        }
        let seen: Vec<usize> = (0..6)
            .map(|_| {
                let p = lb.pick().expect("two up");
                let v = *p.value();
                p.success();
                v
            })
            .collect();
        assert!(!seen.contains(&1), "a down endpoint is never picked");
        assert_eq!(seen.iter().filter(|v| **v == 0).count(), 3);
        assert_eq!(seen.iter().filter(|v| **v == 2).count(), 3);
    }

    #[test]
    fn least_outstanding_fills_the_idle_endpoint_first() {
        let lb = lb(Strategy::LeastOutstanding, 3);
        let held: Vec<_> = (0..6).map(|_| lb.pick().expect("up")).collect();
        for id in ["e0", "e1", "e2"] {
            assert_eq!(lb.outstanding(id), Some(2), "six picks spread two per endpoint");
        }
        drop(held);
        assert_eq!(lb.outstanding("e0"), Some(0));
    }

    #[test]
    fn power_of_two_choices_bounds_the_spread() {
        let lb = lb(Strategy::PowerOfTwoChoices, 4);
        // Held picks: each goes to the less loaded of two random endpoints. An endpoint at 0
        // wins every draw it is in, so it stays at 0 only if missed by all 400 draws
        // (probability 2^-400 with 4 endpoints).
        let held: Vec<_> = (0..400).map(|_| lb.pick().expect("up")).collect();
        let loads: Vec<usize> =
            (0..4).map(|i| lb.outstanding(&format!("e{i}")).expect("exists")).collect();
        assert_eq!(loads.iter().sum::<usize>(), 400);
        let (min, max) = (loads.iter().min().copied(), loads.iter().max().copied());
        assert!(min.is_some_and(|m| m > 0), "{loads:?}");
        drop(held);
        assert!(max.is_some_and(|m| m < 400));
    }

    #[test]
    fn an_open_breaker_is_skipped_and_all_open_is_an_error() {
        let lb = lb(Strategy::PowerOfTwoChoices, 2);
        lb.health_monitor().node("e0").expect("exists").breaker().force_open();
        for _ in 0..20 {
            let p = lb.pick().expect("e1 is up");
            assert_eq!(p.id(), "e1");
            p.success();
        }
        lb.health_monitor().node("e1").expect("exists").breaker().force_open();
        assert_eq!(lb.pick().err(), Some(NoHealthyEndpoint));
    }
}
