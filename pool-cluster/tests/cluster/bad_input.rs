//! Bad input: each gets a typed error, and nothing hangs.

use crate::sharded;
use pool_cache::{L2, L2ErrorKind, MemoryL2};
use pool_cluster::{ShardedL2, ShardedL2BuildErrorKind};
use std::time::{Duration, Instant};

fn mem() -> MemoryL2 {
    MemoryL2::new(1 << 20).expect("capacity > 0")
}

#[test]
fn zero_or_too_many_replicas_are_refused() {
    let err = ShardedL2::builder().node("a", mem()).replicas(0).build().unwrap_err();
    assert_eq!(err.kind(), &ShardedL2BuildErrorKind::ZeroReplicas);
    let err =
        ShardedL2::builder().node("a", mem()).node("b", mem()).replicas(3).build().unwrap_err();
    assert_eq!(err.kind(), &ShardedL2BuildErrorKind::TooManyReplicas { replicas: 3, nodes: 2 });
    assert!(err.to_string().contains("replicas must be <= the number of nodes"));
}

#[test]
fn an_unparsable_url_is_refused() {
    let err =
        ShardedL2::builder().redis_node("redis://127.0.0.1:1/").redis_node("not a url").build();
    let err = err.unwrap_err();
    assert_eq!(err.kind(), &ShardedL2BuildErrorKind::InvalidUrl { url: "not a url".into() });
}

#[test]
fn duplicate_node_ids_are_refused() {
    let err = ShardedL2::builder()
        .redis_node("redis://127.0.0.1:7001/")
        .redis_node("redis://127.0.0.1:7001/")
        .build()
        .unwrap_err();
    assert!(matches!(err.kind(), ShardedL2BuildErrorKind::DuplicateNode { .. }));
}

#[test]
fn no_nodes_and_zero_timeout_are_refused() {
    assert_eq!(ShardedL2::builder().build().unwrap_err().kind(), &ShardedL2BuildErrorKind::NoNodes);
    let err = ShardedL2::builder().node("a", mem()).call_timeout(Duration::ZERO).build();
    assert_eq!(err.unwrap_err().kind(), &ShardedL2BuildErrorKind::ZeroDuration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_nodes_down_is_a_typed_error_within_the_timeout() {
    // Ports nobody listens on: connections are refused at once.
    let urls: Vec<String> = (0..3)
        .map(|_| format!("redis://127.0.0.1:{}/", pool_testkit::free_port().expect("port")))
        .collect();
    let l2 = sharded(&urls, 2);
    let bound = crate::CALL_TIMEOUT * 3 + Duration::from_millis(200);
    let t = Instant::now();
    let err = l2.get(b"k").await.unwrap_err();
    assert!(matches!(err.kind(), L2ErrorKind::Unavailable | L2ErrorKind::Timeout), "{err:?}");
    assert!(t.elapsed() < bound, "took {:?}", t.elapsed());
    let t = Instant::now();
    let err = l2.set(b"k", b"v", Duration::from_secs(1)).await.unwrap_err();
    assert!(matches!(err.kind(), L2ErrorKind::Unavailable | L2ErrorKind::Timeout), "{err:?}");
    assert!(t.elapsed() < bound, "took {:?}", t.elapsed());
    // Once the health layer marks them down, calls fail at once without touching the network.
    for id in l2.node_ids() {
        for _ in 0..2 {
            l2.health_monitor().record_probe(&id, false);
        }
    }
    let t = Instant::now();
    let ks: [&[u8]; 2] = [b"a", b"b"];
    assert_eq!(l2.get_many(&ks).await.unwrap_err().kind(), L2ErrorKind::Unavailable);
    assert_eq!(l2.delete(b"a").await.unwrap_err().kind(), L2ErrorKind::Unavailable);
    assert_eq!(l2.health().await.unwrap_err().kind(), L2ErrorKind::Unavailable);
    assert!(t.elapsed() < Duration::from_millis(100));
    assert!(l2.route(b"a").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_input_is_typed_and_writes_nothing() {
    let l2 =
        ShardedL2::builder().node("a", mem()).node("b", mem()).replicas(2).build().expect("ok");
    assert_eq!(l2.get(b"").await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    assert_eq!(
        l2.set(b"k", b"v", Duration::ZERO).await.unwrap_err().kind(),
        L2ErrorKind::InvalidTtl
    );
    assert_eq!(l2.delete_prefix(b"").await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    let puts = [
        pool_cache::Put::new(b"ok", b"v", Duration::from_secs(5)),
        pool_cache::Put::new(b"", b"v", Duration::from_secs(5)),
    ];
    assert_eq!(l2.set_many(&puts).await.unwrap_err().kind(), L2ErrorKind::InvalidKey);
    assert_eq!(l2.get(b"ok").await.expect("up"), None, "a batch with a bad entry writes none");
}
