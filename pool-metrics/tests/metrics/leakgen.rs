//! A seeded generator of memory series for the leak detector: the non-leak families it must
//! stay quiet on and the leak families it must find. Shared by the integration tests and the
//! `leak_sweep` example (which runs thousands of seeds in release mode).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

const MB: f64 = 1e6;
const MIN: f64 = 60.0;

/// A family of memory behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// Flat with per-sample noise.
    Flat,
    /// A garbage-collector sawtooth: period 20..250 s, each cycle 0.8..1.2 times that (so at most 5 min), amplitude 10..60 MB.
    Sawtooth,
    /// Caches filling to 20..500 MB within 1..8 min (linear or exponential), then flat;
    /// half the runs with a sawtooth on top.
    Warmup,
    /// One step of 10..300 MB at 10..110 min; half with a sawtooth.
    Step,
    /// Ornstein–Uhlenbeck wander: time constant 2..30 min, stationary sd 1..5 MB; half with a
    /// sawtooth.
    Wander,
    /// A leak of 1..10 MB/min from the start (with a warm-up in half the runs).
    Leak,
    /// A leak of 1..10 MB/min under a sawtooth.
    LeakSawtooth,
    /// A leak of 1..10 MB/min starting at 20..90 min, half under a sawtooth, half with wander.
    LateLeak,
}

impl Family {
    /// Every family, non-leaks first.
    pub(crate) const ALL: [Family; 8] = [
        Family::Flat,
        Family::Sawtooth,
        Family::Warmup,
        Family::Step,
        Family::Wander,
        Family::Leak,
        Family::LeakSawtooth,
        Family::LateLeak,
    ];

    /// Whether the family leaks.
    pub(crate) fn leaks(self) -> bool {
        matches!(self, Family::Leak | Family::LeakSawtooth | Family::LateLeak)
    }
}

/// A generated series at one sample per second.
pub(crate) struct Series {
    /// `(t seconds, bytes)`.
    pub(crate) samples: Vec<(f64, f64)>,
    /// When the leak starts, for leak families.
    pub(crate) leak_start: Option<f64>,
}

struct Saw {
    amplitude: f64,
    period: f64,
    phase: f64,
    cycle_len: f64,
    cycle_amp: f64,
}

impl Saw {
    fn new(rng: &mut StdRng) -> Self {
        let period = rng.random_range(20.0..250.0);
        let amplitude = rng.random_range(10.0 * MB..60.0 * MB);
        Saw {
            amplitude,
            period,
            phase: rng.random_range(0.0..period),
            cycle_len: period,
            cycle_amp: amplitude,
        }
    }

    /// One second later: the heap grows until the collector drops it back.
    fn next(&mut self, rng: &mut StdRng) -> f64 {
        self.phase += 1.0;
        if self.phase >= self.cycle_len {
            self.phase -= self.cycle_len;
            self.cycle_len = self.period * rng.random_range(0.8..1.2);
            self.cycle_amp = self.amplitude * rng.random_range(0.8..1.2);
        }
        self.cycle_amp * self.phase / self.cycle_len
    }
}

/// The series of `family` for `seed`, 2 h long (late leaks: 1 h past the leak's start).
pub(crate) fn generate(family: Family, seed: u64) -> Series {
    let mut rng = StdRng::seed_from_u64(seed ^ (family as u64) << 56);
    let base = rng.random_range(100.0 * MB..1000.0 * MB);
    let noise = Normal::new(0.0, rng.random_range(0.2 * MB..2.0 * MB)).expect("valid sd");
    let mut saw = match family {
        Family::Sawtooth | Family::LeakSawtooth => Some(Saw::new(&mut rng)),
        Family::Warmup | Family::Step | Family::Wander | Family::LateLeak => {
            if rng.random_bool(0.5) { Some(Saw::new(&mut rng)) } else { None }
        }
        Family::Flat | Family::Leak => None,
    };
    let rate = rng.random_range(1.0 * MB..10.0 * MB) / MIN;
    let leak_start = match family {
        Family::Leak | Family::LeakSawtooth => Some(0.0),
        Family::LateLeak => Some(rng.random_range(20.0 * MIN..90.0 * MIN)),
        _ => None,
    };
    let len = leak_start.map_or(120.0 * MIN, |s| (s + 60.0 * MIN).max(120.0 * MIN)) as usize;
    let warm = match family {
        Family::Warmup => Some(true),
        Family::Leak => rng.random_bool(0.5).then_some(false),
        _ => None,
    }
    .map(|_| {
        (
            rng.random_range(20.0 * MB..500.0 * MB),
            rng.random_range(1.0 * MIN..8.0 * MIN),
            rng.random_bool(0.5),
        )
    });
    let step = (family == Family::Step).then(|| {
        (rng.random_range(10.0 * MB..300.0 * MB), rng.random_range(10.0 * MIN..110.0 * MIN))
    });
    let wander = (family == Family::Wander || (family == Family::LateLeak && saw.is_none()))
        .then(|| (rng.random_range(2.0 * MIN..30.0 * MIN), rng.random_range(1.0 * MB..5.0 * MB)));
    let mut ou = 0.0;
    let mut samples = Vec::with_capacity(len);
    for i in 0..len {
        let t = i as f64;
        let mut y = base + noise.sample(&mut rng);
        if let Some(s) = saw.as_mut() {
            y += s.next(&mut rng);
        }
        if let Some((w, dur, linear)) = warm {
            y += if linear { w * (t / dur).min(1.0) } else { w * (1.0 - (-5.0 * t / dur).exp()) };
        }
        if let Some((size, at)) = step
            && t >= at
        {
            y += size;
        }
        if let Some((tau, sd)) = wander {
            // Exact one-second OU update with stationary sd `sd`.
            let a = (-1.0 / tau).exp();
            let z: f64 = Normal::new(0.0, 1.0).expect("valid sd").sample(&mut rng);
            ou = a * ou + sd * (1.0 - a * a).sqrt() * z;
            y += ou;
        }
        if let Some(start) = leak_start {
            y += rate * (t - start).max(0.0);
        }
        samples.push((t, y.max(0.0)));
    }
    Series { samples, leak_start }
}
