//! `Duration::MAX` means "no limit" to every component; it never panics on `Instant` overflow.

use std::time::Duration;

use pool_core::{
    Batcher, CircuitBreaker, ConcurrencyController, Manager, RateLimiter, ResourcePool,
};

struct Unit;

impl Manager for Unit {
    type Resource = ();
    type Error = String;

    fn create(&self, _timeout: Duration) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn duration_max_is_accepted_everywhere() {
    let breaker = CircuitBreaker::builder().wait_in_open(Duration::MAX).build().unwrap();
    breaker.force_open();
    assert!(!breaker.is_call_permitted(), "open for ever");

    let controller = ConcurrencyController::builder().timeout(Duration::MAX).build().unwrap();
    assert_eq!(controller.run(|| Ok::<_, ()>(1)), Ok(1));

    let pool = ResourcePool::builder(Unit)
        .acquire_timeout(Duration::MAX)
        .create_timeout(Duration::MAX)
        .idle_timeout(Some(Duration::MAX))
        .max_lifetime(Some(Duration::MAX))
        .build()
        .unwrap();
    drop(pool.get().unwrap());
    assert_eq!(pool.maintain(), Ok(0));

    let batcher = Batcher::builder(|k: &[u8]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
        .max_batch_size(1)
        .max_delay(Duration::MAX)
        .build()
        .unwrap();
    assert_eq!(batcher.load(5), Ok(5));

    // One cell per `Duration::MAX` used to admit every request (saturating TAT arithmetic).
    let limiter = RateLimiter::builder().per_period(1, Duration::MAX).build().unwrap();
    assert!(limiter.check().is_ok());
    assert!(limiter.check().is_err());
    let keyed = RateLimiter::builder().per_period(1, Duration::MAX).build_keyed::<u8>(4).unwrap();
    assert!(keyed.check(&1).is_ok());
    assert!(keyed.check(&1).is_err());
}
