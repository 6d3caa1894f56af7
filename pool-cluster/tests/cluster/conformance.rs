//! A compact L2 conformance check (the rules of pool-cache's `L2` trait), run on ShardedL2
//! over real servers and on RedisClusterL2 over a real Redis Cluster.

use pool_cache::{L2, L2ErrorKind, Put};
use std::time::{Duration, Instant};

fn k(tag: &str, name: &str) -> Vec<u8> {
    format!("{tag}:{name}").into_bytes()
}

pub(crate) async fn check(l2: &dyn L2, tag: &str) {
    let ttl = Duration::from_secs(60);
    // Reads, writes, TTLs.
    assert_eq!(l2.get(&k(tag, "absent")).await.expect("get"), None);
    l2.set(&k(tag, "a"), b"1", ttl).await.expect("set");
    let e = l2.get(&k(tag, "a")).await.expect("get").expect("just written");
    assert_eq!(e.value, b"1");
    assert!(e.ttl.is_some_and(|t| t <= ttl && t > Duration::from_secs(50)), "{e:?}");
    l2.set(&k(tag, "forever"), b"x", Duration::MAX).await.expect("set");
    assert_eq!(l2.get(&k(tag, "forever")).await.expect("get").and_then(|e| e.ttl), None);
    l2.set(&k(tag, "a"), b"2", ttl).await.expect("overwrite");
    assert_eq!(l2.get(&k(tag, "a")).await.expect("get").map(|e| e.value), Some(b"2".to_vec()));

    // Rejected input: typed, nothing written.
    assert_eq!(l2.get(b"").await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    assert_eq!(l2.set(b"", b"v", ttl).await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    assert_eq!(l2.delete(b"").await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    let zero = l2.set(&k(tag, "zero"), b"v", Duration::ZERO).await.unwrap_err();
    assert_eq!(zero.kind(), L2ErrorKind::InvalidTtl);
    assert_eq!(l2.get(&k(tag, "zero")).await.expect("get"), None);
    let bad = [Put::new(b"x", b"v", ttl), Put::new(b"", b"v", ttl)];
    assert_eq!(l2.set_many(&bad).await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    assert_eq!(l2.delete_prefix(b"").await.unwrap_err().kind(), L2ErrorKind::InvalidKey);

    // Batches over many slots / nodes, answered in order.
    let names: Vec<Vec<u8>> = (0..64).map(|i| k(tag, &format!("batch:{i}"))).collect();
    let puts: Vec<Put<'_>> = names.iter().step_by(2).map(|n| Put::new(n, n, ttl)).collect();
    l2.set_many(&puts).await.expect("set_many");
    let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
    let got = l2.get_many(&refs).await.expect("get_many");
    assert_eq!(got.len(), names.len());
    for (i, (g, n)) in got.iter().zip(&names).enumerate() {
        if i % 2 == 0 {
            assert_eq!(g.as_ref().map(|e| &e.value), Some(n), "hit {i} in order");
        } else {
            assert_eq!(*g, None, "miss {i} in order");
        }
    }
    assert_eq!(l2.delete_many(&refs[..8]).await.expect("delete_many"), 4);
    assert!(l2.delete(&k(tag, "a")).await.expect("delete"));
    assert!(!l2.delete(&k(tag, "a")).await.expect("delete"));

    // Prefix deletion removes only the prefix.
    let removed = l2.delete_prefix(format!("{tag}:batch:").as_bytes()).await.expect("prefix");
    assert!(removed >= 28, "removed {removed}");
    assert!(l2.get_many(&refs).await.expect("get_many").iter().all(Option::is_none));
    assert!(l2.get(&k(tag, "forever")).await.expect("get").is_some());

    // Leases.
    let lease = k(tag, "lease");
    assert!(l2.set_if_absent(&lease, b"t1", ttl).await.expect("nx"));
    assert!(!l2.set_if_absent(&lease, b"t2", ttl).await.expect("nx"));
    assert!(!l2.compare_and_delete(&lease, b"t2").await.expect("cad"));
    assert!(l2.compare_and_delete(&lease, b"t1").await.expect("cad"));
    assert_eq!(l2.get(&lease).await.expect("get"), None);

    // Expiry happens on the server's clock: poll, bounded.
    l2.set(&k(tag, "short"), b"v", Duration::from_millis(30)).await.expect("set");
    let t = Instant::now();
    while l2.get(&k(tag, "short")).await.expect("get").is_some() {
        assert!(t.elapsed() < Duration::from_secs(2), "a 30 ms value outlived 2 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    l2.health().await.expect("health");
}
