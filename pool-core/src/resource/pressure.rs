//! Memory pressure, opt-in: a resource pool that drops its idle resources when memory runs
//! short.

use super::manager::Manager;
use super::pool::ResourcePool;
use pool_metrics::{MemoryPressure, PressureLevel, Subscription};

impl<M> ResourcePool<M>
where
    M: Manager + 'static,
    ResourcePool<M>: Send + Sync,
{
    /// Drops idle resources until at most `keep` are idle; returns how many it dropped. Each
    /// is checked out and detached (counted in `detached`, not handed to
    /// [`Manager::destroy`]-style accounting), so a resource in use is never touched.
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let pool = ResourcePool::builder(M).min_idle(4).build().unwrap();
    /// pool.maintain().unwrap();
    /// assert_eq!(pool.shed_idle(1), 3);
    /// assert_eq!(pool.stats().idle, 1);
    /// ```
    pub fn shed_idle(&self, keep: usize) -> usize {
        let excess = self.stats().idle.saturating_sub(keep);
        let mut shed = 0;
        for _ in 0..excess {
            match self.try_get() {
                Ok(resource) => {
                    drop(resource.detach());
                    shed += 1;
                }
                Err(_) => break,
            }
        }
        shed
    }

    /// Follows `pressure`: at [`PressureLevel::High`] idle resources are dropped down to
    /// `min_idle`, at [`PressureLevel::Critical`] all of them (the floor: none idle); back at
    /// [`PressureLevel::Normal`], [`maintain`](Self::maintain) refills `min_idle` (a create
    /// error is left for the next `maintain`). Starts with the level now. Dropping the guard
    /// unsubscribes; until then the subscription holds a handle to the pool.
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// use pool_metrics::{MemoryPressure, PressureLevel};
    ///
    /// let pool = ResourcePool::builder(M).min_idle(2).max_size(8).build().unwrap();
    /// let held: Vec<_> = (0..6).map(|_| pool.get().unwrap()).collect();
    /// drop(held); // 6 idle
    /// let pressure = MemoryPressure::new();
    /// let _guard = pool.shed_on_pressure(&pressure);
    /// pressure.set(PressureLevel::High);
    /// assert_eq!(pool.stats().idle, 2);
    /// pressure.set(PressureLevel::Critical);
    /// assert_eq!(pool.stats().idle, 0);
    /// pressure.set(PressureLevel::Normal);
    /// assert_eq!(pool.stats().idle, 2);
    /// ```
    pub fn shed_on_pressure(&self, pressure: &MemoryPressure) -> Subscription {
        let pool = self.clone();
        let apply = move |level: PressureLevel| match level {
            PressureLevel::Normal => {
                let _ = pool.maintain();
            }
            PressureLevel::High => {
                pool.shed_idle(pool.config().min_idle);
            }
            _ => {
                pool.shed_idle(0);
            }
        };
        let now = pressure.level();
        if now != PressureLevel::Normal {
            apply(now);
        }
        pressure.subscribe(apply)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Manager, ObjectPool, ResourcePool};
    use pool_metrics::{MemoryMonitor, MemorySnapshot, PressureLevel};
    use std::time::Duration;

    struct Conns;
    impl Manager for Conns {
        type Resource = Vec<u8>;
        type Error = String;
        fn create(&self, _: Duration) -> Result<Vec<u8>, String> {
            Ok(vec![0; 1024])
        }
    }

    /// A fake probe: the monitor is fed made-up samples and sets the pressure level.
    fn feed(monitor: &MemoryMonitor, t: f64, bytes: u64) {
        let snap = MemorySnapshot { rss_bytes: bytes, virtual_bytes: bytes, allocated_bytes: None };
        monitor.record(t, snap).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn pools_follow_the_levels_a_monitor_sets() {
        let monitor = MemoryMonitor::builder()
            .high_bytes(1_000)
            .limit_bytes(2_000)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let pressure = monitor.pressure();
        let pool = ResourcePool::builder(Conns)
            .min_idle(2)
            .max_size(10)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let objects = ObjectPool::new(Vec::<u8>::new);
        let held: Vec<_> = (0..8).map(|_| pool.get().unwrap_or_else(|e| panic!("{e}"))).collect();
        let in_use = pool.get().unwrap_or_else(|e| panic!("{e}"));
        drop(held);
        drop((objects.pull(), objects.pull()));
        let _r = pool.shed_on_pressure(&pressure);
        let _o = objects.shed_on_pressure(&pressure);
        feed(&monitor, 1.0, 1_500);
        assert_eq!(pressure.level(), PressureLevel::High);
        assert_eq!(pool.stats().idle, 2, "down to min_idle");
        assert_eq!(objects.stats().retained, 0);
        feed(&monitor, 2.0, 5_000);
        assert_eq!(pressure.level(), PressureLevel::Critical);
        assert_eq!(pool.stats().idle, 0, "the floor");
        assert_eq!(pool.stats().in_use, 1, "a resource in use is never touched");
        feed(&monitor, 3.0, 10);
        assert_eq!(pool.stats().idle, 2, "min_idle refilled at Normal");
        drop(in_use);
    }
}
