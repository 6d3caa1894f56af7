//! The recording paths allocate nothing once warm, counted per thread by `CountingAlloc`
//! installed as this test binary's global allocator: the other tests of the binary allocate
//! freely on their own threads meanwhile, and must not disturb these exact counts.

use std::time::Duration;

use pool_metrics::{Counter, CountingAlloc, Gauge, Histogram, Registry, Timer};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

/// Records one value per power of two up to `highest`, so every page of the calling thread's
/// shard is allocated.
fn warm(h: &Histogram) {
    for shift in 0..64 {
        h.record(1u64.checked_shl(shift).unwrap_or(u64::MAX).min(h.highest()));
    }
}

#[test]
fn counting_sees_this_threads_allocations_exactly() {
    let ((), n) = ALLOC.count_thread(|| {
        for i in 0..100 {
            std::hint::black_box(vec![i; 3]);
        }
    });
    assert_eq!(n, 100);
    let (boxed, n) = ALLOC.count_thread(|| Box::new(7u64));
    assert_eq!((*boxed, n), (7, 1));
    assert!(ALLOC.allocations() >= 101 && ALLOC.live_bytes() > 0);
}

#[test]
fn warm_recording_allocates_nothing() {
    let histogram = Histogram::new();
    let timer = Timer::new();
    let registry = Registry::new();
    let requests = registry.counter("requests_total", &[("route", "/")]).unwrap();
    let depth = registry.gauge("queue_depth", &[]).unwrap();
    let (counter, gauge) = (Counter::new(), Gauge::new());
    warm(&histogram);
    warm(timer.latency());
    timer.time(|| ()); // the clock's one-time calibration happens outside the count
    let ((), n) = ALLOC.count_thread(|| {
        for i in 0..10_000u64 {
            histogram.record(i * 7_919 % 5_000_000_000);
            timer.record(Duration::from_nanos(i * 104_729), i % 3 != 0);
            let _: Result<(), ()> = timer.time_result(|| Ok(()));
            requests.inc();
            depth.set(i as i64);
            counter.advance_to(i);
            gauge.add(1);
        }
    });
    assert_eq!(n, 0, "a warm recording path allocated");
    assert_eq!(histogram.snapshot().count, 10_064);
}
