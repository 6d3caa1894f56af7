//! [`RetryBudget`]: retries as a bounded share of calls, so a failing fleet is not hit with a
//! retry storm.

use std::sync::atomic::{AtomicU64, Ordering};

/// Allows retries up to `ratio` of the calls made plus a small reserve, as Finagle's and
/// gRPC's retry budgets do: each call deposits `ratio` of a retry (up to the reserve's size
/// plus the ratio of 100 calls), each retry withdraws one. When the fleet is failing, retries
/// stop at about `ratio` extra load instead of multiplying it.
///
/// ```
/// use pool_cluster::RetryBudget;
///
/// let budget = RetryBudget::new(0.1, 2);
/// assert!(budget.try_withdraw() && budget.try_withdraw()); // the reserve
/// assert!(!budget.try_withdraw());
/// for _ in 0..10 {
///     budget.deposit(); // ten calls earn one retry at ratio 0.1
/// }
/// assert!(budget.try_withdraw());
/// assert!(!budget.try_withdraw());
/// ```
#[derive(Debug)]
pub struct RetryBudget {
    /// Thousandths of a retry.
    balance: AtomicU64,
    per_call: u64,
    max: u64,
}

const UNIT: u64 = 1000;

impl RetryBudget {
    /// Retries per call unless told otherwise: 0.2 (at most 20 % extra load).
    pub const DEFAULT_RATIO: f64 = 0.2;
    /// Retries available before any call: 10.
    pub const DEFAULT_RESERVE: u32 = 10;

    /// A budget earning `ratio` of a retry per call, starting with `reserve` retries. A ratio
    /// that is NaN or negative earns nothing (the builder refuses it).
    ///
    /// ```
    /// let b = pool_cluster::RetryBudget::new(0.5, 0);
    /// b.deposit();
    /// b.deposit();
    /// assert!(b.try_withdraw());
    /// ```
    #[must_use]
    pub fn new(ratio: f64, reserve: u32) -> Self {
        let per_call = if ratio.is_finite() && ratio > 0.0 {
            // Rounded to thousandths; ratios above 1000 saturate.
            (ratio.min(1000.0) * UNIT as f64).round() as u64
        } else {
            0
        };
        let start = u64::from(reserve) * UNIT;
        Self { balance: AtomicU64::new(start), per_call, max: start + per_call * 100 }
    }

    /// Records one call (a first attempt).
    ///
    /// ```
    /// let b = pool_cluster::RetryBudget::new(1.0, 0);
    /// b.deposit();
    /// assert!(b.try_withdraw());
    /// ```
    pub fn deposit(&self) {
        let _ = self.balance.fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
            Some(b.saturating_add(self.per_call).min(self.max))
        });
    }

    /// Takes one retry if the budget has one.
    ///
    /// ```
    /// assert!(!pool_cluster::RetryBudget::new(0.2, 0).try_withdraw());
    /// ```
    pub fn try_withdraw(&self) -> bool {
        self.balance
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| b.checked_sub(UNIT))
            .is_ok()
    }

    /// Whole retries available now.
    ///
    /// ```
    /// assert_eq!(pool_cluster::RetryBudget::new(0.2, 3).available(), 3);
    /// ```
    #[must_use]
    pub fn available(&self) -> u64 {
        self.balance.load(Ordering::Acquire) / UNIT
    }
}
