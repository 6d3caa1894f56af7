//! `BreakerPermit`: permission for one call, reporting its outcome.

use std::fmt;

use super::circuit::CircuitBreaker;
use super::state::decode;

/// Permission to make one call; report its outcome with [`BreakerPermit::success`] or
/// [`BreakerPermit::failure`]. Dropping it unreported (say, the call panicked) counts as a failure.
///
/// # Examples
///
/// ```
/// let b = pool_core::CircuitBreaker::new();
/// let permit = b.try_acquire().unwrap();
/// permit.success();
/// drop(b.try_acquire().unwrap()); // unreported: counted as a failure
/// assert_eq!((b.metrics().buffered_calls, b.metrics().failed_calls), (2, 1));
/// ```
#[must_use = "report the call's outcome, or it counts as a failure"]
pub struct BreakerPermit<'a> {
    pub(super) breaker: &'a CircuitBreaker,
    pub(super) word: u64,
    pub(super) start: u64,
    pub(super) done: bool,
}

impl fmt::Debug for BreakerPermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerPermit").field("state", &decode(self.word)).finish_non_exhaustive()
    }
}

impl BreakerPermit<'_> {
    /// The call succeeded.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::new();
    /// b.try_acquire().unwrap().success();
    /// assert_eq!((b.metrics().buffered_calls, b.metrics().failed_calls), (1, 0));
    /// ```
    pub fn success(mut self) {
        self.done = true;
        self.breaker.on_outcome(self.word, self.start, false);
    }

    /// The call failed.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::new();
    /// b.try_acquire().unwrap().failure();
    /// assert_eq!((b.metrics().buffered_calls, b.metrics().failed_calls), (1, 1));
    /// ```
    pub fn failure(mut self) {
        self.done = true;
        self.breaker.on_outcome(self.word, self.start, true);
    }
}

impl Drop for BreakerPermit<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.breaker.on_outcome(self.word, self.start, true);
        }
    }
}
