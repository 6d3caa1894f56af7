//! The behaviour every L2 backend must share, as one async suite.

use pool_cache::{L2, L2ErrorKind, L2Namespace, Put};
use std::time::Duration;

/// What the suite needs from a backend under test.
pub(crate) trait Harness {
    /// The backend.
    fn l2(&self) -> &dyn L2;
    /// Moves the backend's time forward by `by` (a manual clock, or real waiting for Redis).
    fn advance(&self, by: Duration);
    /// A value size the backend refuses.
    fn too_large(&self) -> usize;
    /// Bytes every key of this run starts with, so runs sharing a server never meet.
    fn tag(&self) -> &[u8];
}

fn k(h: &dyn Harness, key: &str) -> Vec<u8> {
    let mut out = h.tag().to_vec();
    out.extend_from_slice(key.as_bytes());
    out
}

/// Runs every check; panics naming the first that fails.
pub(crate) async fn run(h: &dyn Harness) {
    let l2 = h.l2();
    let hour = Duration::from_secs(3600);
    l2.health().await.unwrap();

    // Miss, write, read back with the remaining TTL.
    let a = k(h, "a");
    assert_eq!(l2.get(&a).await.unwrap(), None);
    l2.set(&a, b"1", hour).await.unwrap();
    let e = l2.get(&a).await.unwrap().expect("written");
    assert_eq!(e.value, b"1");
    let ttl = e.ttl.expect("has a ttl");
    assert!(ttl <= hour && ttl > hour - Duration::from_secs(60), "ttl {ttl:?}");

    // Overwrite, and no expiry for Duration::MAX.
    l2.set(&a, b"2", Duration::MAX).await.unwrap();
    let e = l2.get(&a).await.unwrap().expect("overwritten");
    assert_eq!((e.value.as_slice(), e.ttl), (&b"2"[..], None));

    // Empty values are values.
    let empty = k(h, "empty");
    l2.set(&empty, b"", hour).await.unwrap();
    assert_eq!(l2.get(&empty).await.unwrap().map(|e| e.value), Some(vec![]));

    // Batches keep order and report misses.
    let (b, c, missing) = (k(h, "b"), k(h, "c"), k(h, "missing"));
    l2.set_many(&[Put::new(&b, b"B", hour), Put::new(&c, b"C", Duration::MAX)]).await.unwrap();
    let got = l2.get_many(&[&b, &missing, &c, &a]).await.unwrap();
    let values: Vec<Option<Vec<u8>>> = got.into_iter().map(|e| e.map(|e| e.value)).collect();
    assert_eq!(values, vec![Some(b"B".to_vec()), None, Some(b"C".to_vec()), Some(b"2".to_vec())]);
    assert_eq!(l2.get_many(&[]).await.unwrap(), vec![]);
    l2.set_many(&[]).await.unwrap();

    // A batch with one bad entry writes none of them.
    let (d, e_key) = (k(h, "d"), k(h, "e"));
    let big = vec![7u8; h.too_large()];
    let before = l2.stats().too_large;
    let err =
        l2.set_many(&[Put::new(&d, b"D", hour), Put::new(&e_key, &big, hour)]).await.unwrap_err();
    assert!(matches!(err.kind(), L2ErrorKind::ValueTooLarge { .. }), "{err:?}");
    assert_eq!(l2.stats().too_large, before + 1);
    let err =
        l2.set_many(&[Put::new(&d, b"D", hour), Put::new(b"", b"x", hour)]).await.unwrap_err();
    assert_eq!(err.kind(), L2ErrorKind::InvalidKey);
    let err = l2
        .set_many(&[Put::new(&d, b"D", hour), Put::new(&e_key, b"x", Duration::ZERO)])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), L2ErrorKind::InvalidTtl);
    assert_eq!(l2.get_many(&[&d, &e_key]).await.unwrap(), vec![None, None]);

    // Bad input on single calls: typed, and nothing changes.
    let err = l2.set(&a, &big, hour).await.unwrap_err();
    assert_eq!(err.kind(), L2ErrorKind::ValueTooLarge { size: big.len(), limit: err_limit(&err) });
    assert_eq!(l2.stats().too_large, before + 2);
    assert_eq!(l2.get(&a).await.unwrap().map(|e| e.value), Some(b"2".to_vec()));
    assert_eq!(l2.set(&a, b"3", Duration::ZERO).await.unwrap_err().kind(), L2ErrorKind::InvalidTtl);
    assert_eq!(l2.get(&a).await.unwrap().map(|e| e.value), Some(b"2".to_vec()));
    assert_eq!(l2.get(b"").await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    assert_eq!(l2.set(b"", b"v", hour).await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    assert_eq!(l2.delete(b"").await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    assert_eq!(l2.get_many(&[&a, b""]).await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    assert_eq!(l2.delete_prefix(b"").await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    assert_eq!(
        l2.set_if_absent(b"", b"v", hour).await.unwrap_err().kind(),
        L2ErrorKind::InvalidKey
    );
    assert_eq!(
        l2.set_if_absent(&d, b"v", Duration::ZERO).await.unwrap_err().kind(),
        L2ErrorKind::InvalidTtl
    );
    assert_eq!(l2.compare_and_delete(b"", b"v").await.unwrap_err().kind(), L2ErrorKind::InvalidKey);

    // Deletes report what they removed.
    assert!(l2.delete(&b).await.unwrap());
    assert!(!l2.delete(&b).await.unwrap());
    assert_eq!(l2.delete_many(&[&b, &c, &missing]).await.unwrap(), 1);
    assert_eq!(l2.get(&c).await.unwrap(), None);

    // Leases: set_if_absent, then compare-and-delete by token.
    let lease = k(h, "lease");
    assert!(l2.set_if_absent(&lease, b"t1", hour).await.unwrap());
    assert!(!l2.set_if_absent(&lease, b"t2", hour).await.unwrap());
    assert_eq!(l2.get(&lease).await.unwrap().map(|e| e.value), Some(b"t1".to_vec()));
    assert!(l2.get(&lease).await.unwrap().unwrap().ttl.is_some());
    assert!(!l2.compare_and_delete(&lease, b"t2").await.unwrap());
    assert!(l2.compare_and_delete(&lease, b"t1").await.unwrap());
    assert!(!l2.compare_and_delete(&lease, b"t1").await.unwrap());
    assert!(l2.set_if_absent(&lease, b"t3", hour).await.unwrap());

    // Expiry: a short TTL runs out; a lease frees itself.
    let short = k(h, "short");
    let ms200 = Duration::from_millis(200);
    l2.set(&short, b"s", ms200).await.unwrap();
    assert!(l2.set_if_absent(&k(h, "short-lease"), b"t", ms200).await.unwrap());
    let ttl = l2.get(&short).await.unwrap().unwrap().ttl.unwrap();
    assert!(ttl <= ms200 && ttl > Duration::ZERO, "{ttl:?}");
    h.advance(Duration::from_millis(400));
    assert_eq!(l2.get(&short).await.unwrap(), None);
    assert!(!l2.delete(&short).await.unwrap());
    assert!(l2.set_if_absent(&k(h, "short-lease"), b"t2", hour).await.unwrap());

    // Prefix deletion removes exactly the prefix's keys.
    let ns1 =
        L2Namespace::new(format!("ns{}", String::from_utf8_lossy(h.tag()).replace(':', "_")), 1)
            .unwrap();
    let ns2 = ns1.with_version(2);
    let keys1: Vec<Vec<u8>> = (0..30).map(|i| ns1.key(format!("{i}"))).collect();
    let puts: Vec<Put<'_>> = keys1.iter().map(|key| Put::new(key, b"v1", hour)).collect();
    l2.set_many(&puts).await.unwrap();
    l2.set(&ns2.key("0"), b"v2", hour).await.unwrap();
    assert_eq!(l2.get(&ns2.key("1")).await.unwrap(), None, "a version bump misses");
    assert_eq!(l2.delete_prefix(ns1.prefix()).await.unwrap(), 30);
    assert_eq!(l2.get(&keys1[7]).await.unwrap(), None);
    assert_eq!(l2.get(&ns2.key("0")).await.unwrap().map(|e| e.value), Some(b"v2".to_vec()));
    assert_eq!(l2.get(&a).await.unwrap().map(|e| e.value), Some(b"2".to_vec()));

    // Binary keys and values round-trip unchanged.
    let mut bin_key = h.tag().to_vec();
    bin_key.extend_from_slice(&[0, 255, b'*', b'?', b'[', b'\\', 10]);
    let bin_val: Vec<u8> = (0..=255).collect();
    l2.set(&bin_key, &bin_val, hour).await.unwrap();
    assert_eq!(l2.get(&bin_key).await.unwrap().map(|e| e.value), Some(bin_val));
    let mut glob = h.tag().to_vec();
    glob.extend_from_slice(&[0, 255, b'*']);
    assert_eq!(l2.delete_prefix(&glob).await.unwrap(), 1, "prefixes are bytes, not globs");

    assert_eq!(l2.stats().corrupt, 0);
}

fn err_limit(err: &pool_cache::L2Error) -> usize {
    match err.kind() {
        L2ErrorKind::ValueTooLarge { limit, .. } => limit,
        other => panic!("expected ValueTooLarge, got {other:?}"),
    }
}
