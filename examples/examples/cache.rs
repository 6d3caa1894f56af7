//! The L1 cache: W-TinyLFU eviction, time-to-live, single-flight loading, invalidation by
//! prefix, a removal listener, and statistics.
//!
//! `cargo run -p pool-examples --example cache`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pool_cache::{Cache, Policy, RemovalCause};

fn main() -> anyhow::Result<()> {
    let evicted = Arc::new(AtomicU64::new(0));
    let counter = evicted.clone();
    let cache: Cache<String, String> = Cache::builder(1_000)
        .policy(Policy::TinyLfu)
        .time_to_live(Duration::from_secs(60))
        .removal_listener(move |_key, _value, cause| {
            if cause == RemovalCause::Size {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })
        .build()?;

    // Eight threads miss on the same key at once: the loader runs once.
    let loads = Arc::new(AtomicU64::new(0));
    std::thread::scope(|s| {
        for _ in 0..8 {
            let (cache, loads) = (cache.clone(), loads.clone());
            s.spawn(move || {
                cache.get_or_insert_with("user:42".to_string(), || {
                    loads.fetch_add(1, Ordering::Relaxed);
                    "Ada".to_string()
                })
            });
        }
    });
    println!("8 concurrent misses, {} load(s)", loads.load(Ordering::Relaxed));

    // A hot set survives a scan of one-hit wonders: TinyLFU admits by frequency.
    for round in 0..5 {
        for i in 0..200 {
            cache.get_or_insert_with(format!("hot:{i}"), || format!("value {i} (round {round})"));
        }
    }
    for i in 0..10_000 {
        cache.insert(format!("scan:{i}"), String::new());
    }
    cache.run_pending_tasks();
    let hot_left = (0..200).filter(|i| cache.contains(&format!("hot:{i}"))).count();
    println!(
        "after a 10 000-key scan: {hot_left} of 200 hot keys still cached, {} entries",
        cache.len()
    );

    // Invalidate a whole family of keys by prefix.
    cache.invalidate_prefix("hot:");
    println!("after invalidate_prefix(\"hot:\"): hot:0 cached = {}", cache.contains("hot:0"));

    let stats = cache.stats();
    println!(
        "stats: hit ratio {:.2}, {} evictions ({} seen by the listener), {} admission rejections",
        stats.hit_ratio(),
        stats.evictions,
        evicted.load(Ordering::Relaxed),
        stats.admission_rejections
    );
    anyhow::ensure!(loads.load(Ordering::Relaxed) == 1, "the loader ran more than once");
    // The scan could not flush the hot set (all 200 survive here; allow a few to go).
    anyhow::ensure!(hot_left >= 190, "only {hot_left} of 200 hot keys survived the scan");
    anyhow::ensure!(cache.len() <= 1_000, "the cache holds more than its capacity");
    anyhow::ensure!(
        (0..200).all(|i| !cache.contains(&format!("hot:{i}"))),
        "invalidate_prefix left a hot key behind"
    );
    anyhow::ensure!(
        evicted.load(Ordering::Relaxed) == stats.evictions && stats.evictions > 0,
        "the listener saw {} of {} evictions",
        evicted.load(Ordering::Relaxed),
        stats.evictions
    );
    Ok(())
}
