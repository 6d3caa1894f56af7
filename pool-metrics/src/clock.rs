//! The clock behind timers and the profiler.
//!
//! quanta reads the TSC (`rdtsc`) and scales it with a calibration taken once; on CPUs whose
//! TSC is not invariant (or off x86) quanta itself falls back to the OS monotonic clock, so
//! it is safe wherever it runs. The `clock/now_and_elapsed` bench compares one start/stop
//! pair with `std::time::Instant` (see the issue note for the figures).

use std::sync::OnceLock;
use std::time::Duration;

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// A start time in raw clock ticks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start(u64);

impl Start {
    #[inline]
    pub(crate) fn now() -> Self {
        Start(clock().raw())
    }

    #[inline]
    pub(crate) fn elapsed(self) -> Duration {
        let c = clock();
        c.delta(self.0, c.raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_tracks_real_time() {
        let start = Start::now();
        let std_start = std::time::Instant::now();
        // Busy-wait a bounded 5 ms of wall time (no sleeping on a race: this only needs time
        // to pass).
        while std_start.elapsed() < Duration::from_millis(5) {
            std::hint::spin_loop();
        }
        let ours = start.elapsed();
        let theirs = std_start.elapsed();
        assert!(ours >= Duration::from_millis(4), "{ours:?}");
        assert!(ours <= theirs + Duration::from_millis(2), "{ours:?} vs {theirs:?}");
    }
}
