//! redb under a write-behind cache: closed with 10k queued writes, reopened, all there.

use pool_cache::{DiskL2, L2, TieredCache, WriteMode};
use std::time::Duration;

#[test]
fn ten_thousand_queued_writes_survive_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiered.redb");
    {
        let disk = DiskL2::open(&path).unwrap();
        let cache: TieredCache<u64, String> = TieredCache::builder(100_000)
            .l2(disk)
            .write_mode(WriteMode::Behind)
            .queue_capacity(20_000)
            .drain_timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        for k in 0..10_000u64 {
            cache.insert(k, format!("value-{k}")).unwrap();
        }
        let left = cache.close();
        assert!(left.is_empty(), "{} writes came back undelivered", left.len());
        assert_eq!(cache.stats().queue_delivered, 10_000);
    } // the cache and the DiskL2 (its last handle) are dropped: the file is closed
    let disk = DiskL2::open(&path).unwrap();
    let codec = pool_cache::ValueCodec::new();
    for k in 0..10_000u64 {
        let entry = futures::executor::block_on(disk.get(k.to_string().as_bytes())).unwrap();
        let entry = entry.unwrap_or_else(|| panic!("key {k} missing after reopen"));
        assert_eq!(codec.decode::<String>(&entry.value).unwrap(), format!("value-{k}"));
    }
}
