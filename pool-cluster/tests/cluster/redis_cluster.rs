//! RedisClusterL2 against a real 3-master Redis Cluster started by pool-testkit.

use crate::conformance;
use pool_cache::{L2, L2ErrorKind, Put};
use pool_cluster::{RedisClusterBuildErrorKind, RedisClusterL2, key_slot};
use pool_testkit::RedisFleet;
use std::time::{Duration, Instant};

fn cluster(test: &str) -> Option<RedisFleet> {
    let fleet = RedisFleet::builder(3).cluster_enabled().start_or_skip(test)?;
    fleet.create_cluster().expect("redis-cli --cluster create");
    Some(fleet)
}

fn l2(fleet: &RedisFleet) -> RedisClusterL2 {
    RedisClusterL2::builder(fleet.urls())
        .call_timeout(Duration::from_secs(2))
        .build()
        .expect("urls parse")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_and_slot_split_batches_and_redirects() {
    let Some(fleet) = cluster("redis_cluster_conformance") else { return };
    let l2 = l2(&fleet);
    conformance::check(&l2, "conf").await;

    // A batch over many slots lands on all three masters.
    let keys: Vec<Vec<u8>> = (0..300).map(|i| format!("spread:{i}").into_bytes()).collect();
    let puts: Vec<Put<'_>> = keys.iter().map(|k| Put::new(k, k, Duration::from_secs(60))).collect();
    l2.set_many(&puts).await.expect("set_many");
    for i in 0..3 {
        let on =
            fleet.scan_keys(i).expect("scan").iter().filter(|k| k.starts_with(b"spread:")).count();
        assert!(on > 50, "master {i} holds {on} of 300 keys");
    }
    let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let got = l2.get_many(&refs).await.expect("get_many");
    assert!(got.iter().zip(&keys).all(|(g, k)| g.as_ref().is_some_and(|e| &e.value == k)));

    // Resharding one slot by hand: ASK while it migrates, MOVED after; both followed.
    let key = b"moving:{slot}:a".to_vec();
    l2.set(&key, b"before", Duration::from_secs(60)).await.expect("set");
    let slot = key_slot(&key).to_string();
    let owner = (0..3)
        .find(|&i| fleet.command(i, &["EXISTS", "moving:{slot}:a"]).expect("exists") == ":1")
        .expect("some master owns the slot");
    let dst = (owner + 1) % 3;
    let id = |i| fleet.command(i, &["CLUSTER", "MYID"]).expect("myid");
    let (src_id, dst_id) = (id(owner), id(dst));
    let dst_port = fleet.port(dst).expect("port").to_string();
    let ok = |r: String| assert_eq!(r, "+OK");
    ok(fleet
        .command(dst, &["CLUSTER", "SETSLOT", &slot, "IMPORTING", &src_id])
        .expect("importing"));
    ok(fleet
        .command(owner, &["CLUSTER", "SETSLOT", &slot, "MIGRATING", &dst_id])
        .expect("migrating"));
    let migrate = ["MIGRATE", "127.0.0.1", &dst_port, "", "0", "5000", "KEYS", "moving:{slot}:a"];
    ok(fleet.command(owner, &migrate).expect("migrate"));
    assert!(fleet.command(owner, &["GET", "moving:{slot}:a"]).expect("get").starts_with("-ASK"));
    let during = l2.get(&key).await.expect("ASK is followed");
    assert_eq!(during.map(|e| e.value), Some(b"before".to_vec()));
    for i in 0..3 {
        ok(fleet.command(i, &["CLUSTER", "SETSLOT", &slot, "NODE", &dst_id]).expect("node"));
    }
    assert!(fleet.command(owner, &["GET", "moving:{slot}:a"]).expect("get").starts_with("-MOVED"));
    let after = l2.get(&key).await.expect("MOVED is followed");
    assert_eq!(after.map(|e| e.value), Some(b"before".to_vec()));
    l2.set(b"moving:{slot}:b", b"new", Duration::from_secs(60)).await.expect("set after move");
    assert_eq!(fleet.command(dst, &["EXISTS", "moving:{slot}:b"]).expect("exists"), ":1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_seeds_and_an_unreachable_cluster() {
    let err = RedisClusterL2::builder(["redis://127.0.0.1:1/", "::bad::"]).build().unwrap_err();
    assert_eq!(err.kind(), &RedisClusterBuildErrorKind::InvalidUrl { url: "::bad::".into() });
    let err = RedisClusterL2::builder(Vec::<String>::new()).build().unwrap_err();
    assert_eq!(err.kind(), &RedisClusterBuildErrorKind::NoNodes);
    let port = pool_testkit::free_port().expect("port");
    let l2 = RedisClusterL2::builder([format!("redis://127.0.0.1:{port}/")])
        .call_timeout(Duration::from_millis(300))
        .build()
        .expect("parses");
    let t = Instant::now();
    let err = l2.get(b"k").await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            L2ErrorKind::Unavailable | L2ErrorKind::Timeout | L2ErrorKind::Backend
        ),
        "{err:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(1), "took {:?}", t.elapsed());
    assert_eq!(l2.stats().failures, 1);
}

#[test]
fn a_client_outlives_the_runtime_of_its_first_call() {
    // The first call connects on the first facade's runtime, which ends with it.
    let Some(fleet) = cluster("redis_cluster_runtime_gone") else { return };
    let shared: std::sync::Arc<dyn L2> = std::sync::Arc::new(l2(&fleet));
    let first = pool_cache::BlockingL2::new(shared.clone()).expect("runtime");
    first.set(b"outlives", b"v", Duration::from_secs(60)).expect("set");
    drop(first);
    let second = pool_cache::BlockingL2::new(shared).expect("runtime");
    let got = second.get(b"outlives").expect("a connection of its own");
    assert_eq!(got.map(|e| e.value), Some(b"v".to_vec()));
}
