//! The breaker's three states and how they are packed into its state word.

pub(super) const CLOSED: u64 = 0;
pub(super) const OPEN: u64 = 1;
pub(super) const HALF_OPEN: u64 = 2;

/// The breaker's state.
///
/// # Examples
///
/// ```
/// let b = pool_core::CircuitBreaker::new();
/// assert_eq!(b.state(), pool_core::CircuitState::Closed);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Calls pass; outcomes are recorded in the window.
    Closed,
    /// Calls are refused until the wait in open has passed.
    Open,
    /// A fixed number of probe calls pass; their outcomes close or re-open the breaker.
    HalfOpen,
}

pub(super) fn decode(word: u64) -> CircuitState {
    match word & 3 {
        CLOSED => CircuitState::Closed,
        OPEN => CircuitState::Open,
        _ => CircuitState::HalfOpen,
    }
}

/// A state change, as given to the listener.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use pool_core::{CircuitBreaker, CircuitState, StateTransition};
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let b = CircuitBreaker::builder().on_state_change(move |t| log.lock().unwrap().push(t)).build()?;
/// b.force_open();
/// b.reset();
/// use CircuitState::*;
/// assert_eq!(
///     *seen.lock().unwrap(),
///     [StateTransition { from: Closed, to: Open }, StateTransition { from: Open, to: Closed }]
/// );
/// # Ok::<(), pool_core::CircuitBreakerBuildError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateTransition {
    /// The state left.
    pub from: CircuitState,
    /// The state entered.
    pub to: CircuitState,
}
