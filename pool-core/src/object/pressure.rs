//! Memory pressure, opt-in: an object pool that drops its retained objects when memory runs
//! short.

use super::pool::ObjectPool;
use pool_metrics::{MemoryPressure, PressureLevel, Subscription};

impl<T: Send + 'static> ObjectPool<T>
where
    ObjectPool<T>: Send + Sync,
{
    /// Drops every retained (idle) object; returns how many. Objects in use are untouched.
    ///
    /// ```
    /// let pool = pool_core::ObjectPool::new(Vec::<u8>::new);
    /// drop((pool.pull(), pool.pull()));
    /// assert_eq!(pool.stats().retained, 2);
    /// assert_eq!(pool.shed_idle(), 2);
    /// assert_eq!(pool.stats().retained, 0);
    /// ```
    pub fn shed_idle(&self) -> usize {
        let retained = self.stats().retained;
        // Hold every pulled object until all are out, so each pull takes a distinct one.
        let pulled: Vec<_> = (0..retained).map(|_| self.pull()).collect();
        let n = pulled.len();
        for object in pulled {
            drop(object.detach());
        }
        n
    }

    /// Follows `pressure`: at [`PressureLevel::High`] and above, the retained objects are
    /// dropped (an object pool's floor is none retained); at [`PressureLevel::Normal`] the
    /// pool retains again as it is used. Dropping the guard unsubscribes.
    ///
    /// ```
    /// use pool_metrics::{MemoryPressure, PressureLevel};
    ///
    /// let pool = pool_core::ObjectPool::new(Vec::<u8>::new);
    /// drop((pool.pull(), pool.pull(), pool.pull()));
    /// let pressure = MemoryPressure::new();
    /// let _guard = pool.shed_on_pressure(&pressure);
    /// pressure.set(PressureLevel::High);
    /// assert_eq!(pool.stats().retained, 0);
    /// ```
    pub fn shed_on_pressure(&self, pressure: &MemoryPressure) -> Subscription {
        let pool = self.clone();
        let apply = move |level: PressureLevel| {
            if level != PressureLevel::Normal {
                pool.shed_idle();
            }
        };
        let now = pressure.level();
        if now != PressureLevel::Normal {
            apply(now);
        }
        pressure.subscribe(apply)
    }
}
