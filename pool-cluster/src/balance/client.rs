//! [`RetryClient`]: calls through a [`LoadBalancer`] with retries, jittered backoff, a retry
//! budget, an attempt timeout and the per-endpoint breaker (the seeds' `MicroserviceClient`).

use super::backoff::Backoff;
use super::balancer::LoadBalancer;
use super::budget::RetryBudget;
use super::error::{AttemptError, BalanceBuildError, BalanceBuildErrorKind, ClientError};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Calls an endpoint picked by a [`LoadBalancer`]; a failed or timed-out attempt counts
/// against that endpoint's breaker and is retried on a fresh pick after a jittered
/// [`Backoff`], while the [`RetryBudget`] has retries and fewer than `max_attempts` were made.
///
/// ```
/// use pool_cluster::{LoadBalancer, RetryClient, Strategy};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
/// let lb = LoadBalancer::builder()
///     .endpoint("a", "flaky")
///     .endpoint("b", "good")
///     .strategy(Strategy::RoundRobin)
///     .build()?;
/// let lb = Arc::new(lb);
/// let client = RetryClient::builder(lb).max_attempts(3).backoff(Duration::from_millis(1), Duration::from_millis(5)).build()?;
/// let answer = rt.block_on(client.call(|endpoint: &&str| {
///     let ok = *endpoint == "good";
///     async move { if ok { Ok(42) } else { Err("refused") } }
/// }));
/// assert_eq!(answer, Ok(42)); // the first pick may fail; a retry reaches "good"
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RetryClient<E> {
    balancer: Arc<LoadBalancer<E>>,
    max_attempts: u32,
    backoff: Backoff,
    budget: RetryBudget,
    attempt_timeout: Duration,
}

impl<E> fmt::Debug for RetryClient<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryClient")
            .field("balancer", &self.balancer)
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("budget", &self.budget)
            .field("attempt_timeout", &self.attempt_timeout)
            .finish()
    }
}

/// Builds a [`RetryClient`]; by value, validated in [`build`](Self::build).
///
/// ```
/// use pool_cluster::{LoadBalancer, RetryClient};
/// let lb = std::sync::Arc::new(LoadBalancer::builder().endpoint("a", ()).build()?);
/// let client = RetryClient::builder(lb).max_attempts(2).retry_budget(0.1, 5).build()?;
/// assert_eq!(client.budget().available(), 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct RetryClientBuilder<E> {
    balancer: Arc<LoadBalancer<E>>,
    max_attempts: u32,
    backoff: Backoff,
    ratio: f64,
    reserve: u32,
    attempt_timeout: Duration,
}

impl<E> fmt::Debug for RetryClientBuilder<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryClientBuilder")
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("ratio", &self.ratio)
            .field("reserve", &self.reserve)
            .field("attempt_timeout", &self.attempt_timeout)
            .finish_non_exhaustive()
    }
}

impl<E> RetryClient<E> {
    /// Attempts per call unless told otherwise: 3.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
    /// How long one attempt may take unless told otherwise: 1 s.
    pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

    /// A builder over `balancer` with the defaults.
    ///
    /// ```
    /// let lb = std::sync::Arc::new(pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?);
    /// assert!(pool_cluster::RetryClient::builder(lb).build().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(balancer: Arc<LoadBalancer<E>>) -> RetryClientBuilder<E> {
        RetryClientBuilder {
            balancer,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            backoff: Backoff::default(),
            ratio: RetryBudget::DEFAULT_RATIO,
            reserve: RetryBudget::DEFAULT_RESERVE,
            attempt_timeout: Self::DEFAULT_ATTEMPT_TIMEOUT,
        }
    }

    /// The balancer.
    ///
    /// ```
    /// let lb = std::sync::Arc::new(pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?);
    /// let c = pool_cluster::RetryClient::builder(lb).build()?;
    /// assert_eq!(c.balancer().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn balancer(&self) -> &LoadBalancer<E> {
        &self.balancer
    }

    /// The retry budget.
    ///
    /// ```
    /// let lb = std::sync::Arc::new(pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?);
    /// let c = pool_cluster::RetryClient::builder(lb).build()?;
    /// assert_eq!(c.budget().available(), 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn budget(&self) -> &RetryBudget {
        &self.budget
    }

    /// Runs `f` on a picked endpoint, retrying as the type documents. Each attempt is bounded
    /// by the attempt timeout, so a call takes at most about
    /// `max_attempts * (attempt_timeout + backoff max)`.
    ///
    /// # Errors
    ///
    /// [`ClientError::NoHealthyEndpoint`] when no endpoint is available at first;
    /// [`ClientError::Exhausted`] when every attempt failed;
    /// [`ClientError::BudgetExhausted`] when a retry was needed but the budget had none.
    ///
    /// ```
    /// use pool_cluster::{ClientError, LoadBalancer, RetryClient};
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    /// let lb = std::sync::Arc::new(LoadBalancer::builder().endpoint("a", ()).build()?);
    /// let client = RetryClient::builder(lb).max_attempts(2).backoff(
    ///     std::time::Duration::from_millis(1), std::time::Duration::from_millis(1)).build()?;
    /// let err = rt.block_on(client.call(|_| async { Err::<(), _>("down") })).unwrap_err();
    /// assert!(matches!(err, ClientError::Exhausted { attempts: 2, .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn call<T, Err, F, Fut>(&self, mut f: F) -> Result<T, ClientError<Err>>
    where
        F: FnMut(&E) -> Fut,
        Fut: Future<Output = Result<T, Err>>,
    {
        self.budget.deposit();
        let mut attempts = 0;
        let mut last_failure = None;
        loop {
            let Ok(pick) = self.balancer.pick() else {
                return Err(match last_failure {
                    None => ClientError::NoHealthyEndpoint,
                    Some(last) => ClientError::Exhausted { attempts, last },
                });
            };
            attempts += 1;
            let last = match tokio::time::timeout(self.attempt_timeout, f(pick.value())).await {
                Ok(Ok(v)) => {
                    pick.success();
                    return Ok(v);
                }
                Ok(Err(e)) => AttemptError::Failed(e),
                Err(_) => AttemptError::TimedOut(self.attempt_timeout),
            };
            pick.failure();
            if attempts >= self.max_attempts {
                return Err(ClientError::Exhausted { attempts, last });
            }
            if !self.budget.try_withdraw() {
                return Err(ClientError::BudgetExhausted { attempts, last });
            }
            last_failure = Some(last);
            tokio::time::sleep(self.backoff.delay(attempts - 1)).await;
        }
    }
}

impl<E> RetryClientBuilder<E> {
    /// Attempts per call, the first included ([`RetryClient::DEFAULT_MAX_ATTEMPTS`]); must be
    /// > 0.
    ///
    /// ```
    /// let lb = std::sync::Arc::new(pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?);
    /// assert!(pool_cluster::RetryClient::builder(lb).max_attempts(0).build().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// Backoff base and cap ([`Backoff::DEFAULT_BASE`], [`Backoff::DEFAULT_MAX`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let lb = std::sync::Arc::new(pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?);
    /// let b = pool_cluster::RetryClient::builder(lb).backoff(Duration::from_millis(5), Duration::from_millis(1));
    /// let err = b.build().unwrap_err(); // cap below base
    /// assert_eq!(*err.kind(), pool_cluster::BalanceBuildErrorKind::InvalidBackoff);
    /// assert!(err.to_string().contains("base 5ms and cap 1ms"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff = Backoff::new(base, max);
        self
    }

    /// Retries earned per call and retries available at start ([`RetryBudget::new`]).
    ///
    /// ```
    /// let lb = std::sync::Arc::new(pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?);
    /// assert!(pool_cluster::RetryClient::builder(lb).retry_budget(f64::NAN, 1).build().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retry_budget(mut self, ratio: f64, reserve: u32) -> Self {
        self.ratio = ratio;
        self.reserve = reserve;
        self
    }

    /// How long one attempt may take ([`RetryClient::DEFAULT_ATTEMPT_TIMEOUT`]); must be > 0.
    ///
    /// ```
    /// let lb = std::sync::Arc::new(pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?);
    /// assert!(pool_cluster::RetryClient::builder(lb).attempt_timeout(std::time::Duration::ZERO).build().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Validates and builds the client.
    ///
    /// # Errors
    ///
    /// [`BalanceBuildError`] for zero attempts, a zero attempt timeout, a backoff with a zero
    /// base or a cap below it, or a budget ratio that is NaN, negative or infinite.
    ///
    /// ```
    /// let lb = std::sync::Arc::new(pool_cluster::LoadBalancer::builder().endpoint("a", ()).build()?);
    /// assert!(pool_cluster::RetryClient::builder(lb).build().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<RetryClient<E>, BalanceBuildError> {
        use BalanceBuildErrorKind as K;
        if self.max_attempts == 0 {
            return Err(BalanceBuildError::new(K::ZeroAttempts, "max_attempts must be > 0, got 0"));
        }
        if self.attempt_timeout.is_zero() {
            return Err(BalanceBuildError::new(
                K::ZeroTimeout,
                "attempt_timeout must be > 0, got 0",
            ));
        }
        if !self.backoff.is_valid() {
            return Err(BalanceBuildError::new(
                K::InvalidBackoff,
                format!(
                    "backoff base must be > 0 and <= its cap, got base {:?} and cap {:?}",
                    self.backoff.bounds().0,
                    self.backoff.bounds().1
                ),
            ));
        }
        if !(self.ratio.is_finite() && self.ratio >= 0.0) {
            return Err(BalanceBuildError::new(
                K::InvalidBudget,
                format!("retry budget ratio must be a finite number >= 0, got {}", self.ratio),
            ));
        }
        Ok(RetryClient {
            balancer: self.balancer,
            max_attempts: self.max_attempts,
            backoff: self.backoff,
            budget: RetryBudget::new(self.ratio, self.reserve),
            attempt_timeout: self.attempt_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime")
    }

    fn client(max_attempts: u32, reserve: u32) -> RetryClient<u32> {
        let lb = LoadBalancer::builder()
            .endpoint("a", 0)
            .endpoint("b", 1)
            .strategy(crate::Strategy::RoundRobin)
            .build()
            .expect("valid");
        RetryClient::builder(Arc::new(lb))
            .max_attempts(max_attempts)
            .backoff(Duration::from_millis(1), Duration::from_millis(2))
            .retry_budget(0.0, reserve)
            .attempt_timeout(Duration::from_millis(50))
            .build()
            .expect("valid")
    }

    #[test]
    fn retries_until_max_attempts_then_reports_the_last_failure() {
        let c = client(3, 100);
        let calls = AtomicU32::new(0);
        let err = rt()
            .block_on(c.call(|_| {
                calls.fetch_add(1, Ordering::Relaxed);
                async { Err::<(), _>("refused") }
            }))
            .unwrap_err();
        assert_eq!(
            err,
            ClientError::Exhausted { attempts: 3, last: AttemptError::Failed("refused") }
        );
        assert_eq!(calls.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn the_budget_stops_retry_storms() {
        let c = client(5, 2);
        let rt = rt();
        let calls = AtomicU32::new(0);
        let mut budget_stops = 0;
        for _ in 0..4 {
            let r = rt.block_on(c.call(|_| {
                calls.fetch_add(1, Ordering::Relaxed);
                async { Err::<(), _>("down") }
            }));
            if matches!(r, Err(ClientError::BudgetExhausted { .. })) {
                budget_stops += 1;
            }
        }
        // 4 first attempts + the 2 retries of the reserve; ratio 0 earns none.
        assert_eq!(calls.load(Ordering::Relaxed), 6);
        assert_eq!(budget_stops, 4);
    }

    #[test]
    fn a_hung_attempt_times_out_and_the_retry_succeeds() {
        let c = client(2, 10);
        let t = std::time::Instant::now();
        let got = rt().block_on(c.call(|e| {
            let e = *e;
            async move {
                if e == 0 {
                    std::future::pending::<()>().await;
                }
                Ok::<_, ()>(e)
            }
        }));
        assert_eq!(got, Ok(1));
        assert!(t.elapsed() < Duration::from_secs(2));
    }
}
