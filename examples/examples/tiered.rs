//! The tiered cache over redb: an L1 in front of a `DiskL2`, read-through with one load per
//! key, and a restart served from the disk tier without loading again. It checks its own
//! results.
//!
//! `cargo run -p pool-examples --example tiered`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::ensure;
use pool_cache::{DiskL2, L2, TieredCache};

fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("pool-tiered-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("cache.redb");
    let loads = Arc::new(AtomicU64::new(0));
    let load = |key: &str| {
        loads.fetch_add(1, Ordering::Relaxed);
        Ok::<_, std::io::Error>(format!("rendered {key}"))
    };

    {
        let disk = Arc::new(DiskL2::open(&path)?);
        let cache: TieredCache<String, String> =
            TieredCache::builder(1_000).shared_l2(disk.clone() as Arc<dyn L2>).build()?;
        // A miss in both tiers loads once and writes both (write-through by default) ...
        let v = cache.try_get_with("page:1".to_string(), || load("page:1"))?;
        // ... and the next read is an L1 hit: the loader is not called.
        let again = cache.try_get_with("page:1".to_string(), || load("page:1"))?;
        ensure!(v == again && loads.load(Ordering::Relaxed) == 1, "loaded twice");
        let s = cache.stats();
        println!(
            "first process: {} load, L1 hits {}, L2 misses {}",
            s.loads, s.l1.hits, s.l2_misses
        );
        disk.checkpoint()?; // durable now (otherwise within the group-commit interval)
    } // the process "restarts": the L1 is gone, the redb file stays

    let disk = DiskL2::open(&path)?;
    let cache: TieredCache<String, String> = TieredCache::builder(1_000).l2(disk).build()?;
    let v = cache.try_get_with("page:1".to_string(), || load("page:1"))?;
    let s = cache.stats();
    println!("after a restart: {v:?} from the L2 ({} L2 hit, {} loads)", s.l2_hits, s.loads);
    ensure!(v == "rendered page:1", "wrong value {v:?}");
    ensure!(loads.load(Ordering::Relaxed) == 1, "the restart loaded again");
    ensure!(s.l2_hits == 1, "the restart did not read the L2");
    drop(cache);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
