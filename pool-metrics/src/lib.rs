//! # pool-metrics
//!
//! Cheap, bounded-memory measurements for services that do expensive work: latency histograms
//! (p50/p95/p99/p999), counters and gauges in a labelled registry, timers, a bottleneck report,
//! a memory monitor with alerts, and a leak detector, exported as JSON and Prometheus text.
//!
//! ```
//! use pool_metrics::{Counter, Gauge, Histogram};
//!
//! let latency = Histogram::new();
//! let served = Counter::new();
//! let in_flight = Gauge::new();
//! in_flight.inc();
//! latency.record(1_200); // nanoseconds
//! served.inc();
//! in_flight.dec();
//! assert_eq!(latency.snapshot().p99, 1_200);
//! ```
//!
//! ## Where it sits
//!
//! The leaf of the workspace: `pool-core`, `pool-cache` and `pool-cluster` record into it; it
//! depends on none of them.
//!
//! ## What to reach for
//!
//! - Latency: [`Histogram`] (or a [`Timer`], which adds success and error counts). Hold it and
//!   call [`Histogram::record`]: a recording thread owns a shard and updates it with plain
//!   stores, so recording costs about what hdrhistogram's `&mut` record does.
//! - Named metrics for export: [`Registry`] → [`RegistrySnapshot`] → JSON or Prometheus text.
//! - Where the time goes: [`Profiler`] → [`ProfileReport`].
//! - Memory: [`MemoryMonitor`] (with [`CountingAlloc`] if you install it) drives a
//!   [`MemoryPressure`] signal; [`LeakDetector`] decides whether a series leaks.
//!
//! Bad input never panics: values above a histogram's range saturate and are counted, NaN or
//! backwards samples are typed errors, zero or unbounded sizes are build errors (a struct with
//! a `#[non_exhaustive]` kind naming the setting, e.g. [`LeakDetectorBuildError`]), and a
//! registration that would make the Prometheus text invalid is refused. Listeners of
//! [`MemoryMonitor`] and [`MemoryPressure`] run with no lock held.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `prometheus` | yes | `RegistrySnapshot::to_prometheus` and `ProcessStats::to_prometheus` (text exposition 0.0.4; no extra dependencies) |

#![deny(unsafe_code)] // one exception: the counting allocator (`memory/alloc.rs`)

mod clock;
mod counter;
#[cfg(feature = "prometheus")]
mod export;
mod gauge;
mod histogram;
mod leak;
mod memory;
mod registry;
mod report;
mod timer;

pub use clock::{Clock, ManualClock, MonotonicClock};
pub use counter::Counter;
pub use gauge::Gauge;
pub use histogram::{
    Histogram, HistogramBuildError, HistogramBuildErrorKind, HistogramBuilder, HistogramSnapshot,
    MergeError,
};
pub use leak::{
    LeakDetector, LeakDetectorBuildError, LeakDetectorBuildErrorKind, LeakDetectorBuilder,
    LeakReport, LeakVerdict, SampleError, SampleErrorKind,
};
pub use memory::{
    CountingAlloc, MemoryAlert, MemoryAlertKind, MemoryError, MemoryErrorKind, MemoryMonitor,
    MemoryMonitorBuildError, MemoryMonitorBuildErrorKind, MemoryMonitorBuilder, MemoryPressure,
    MemoryProbe, MemorySample, MemorySampler, MemorySnapshot, PressureLevel, ProcessStats,
    SpawnSamplerError, SpawnSamplerErrorKind, Subscription, process_stats,
};
pub use registry::{
    CumulativeBucket, MetricSnapshot, MetricValue, Registry, RegistryError, RegistryErrorKind,
    RegistrySnapshot, timed,
};
pub use report::{ProfileReport, Profiler, Section, SectionGuard, SectionReport};
pub use timer::{Timer, TimerGuard, TimerSnapshot};

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
