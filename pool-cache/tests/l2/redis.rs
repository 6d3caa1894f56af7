//! RedisL2 against real `redis-server`s from pool-testkit: conformance, model, credentials,
//! a server that stalls, dies and comes back, and one that is down at start.

use crate::conformance::{self, Harness};
use crate::model;
use pool_cache::{L2, L2BuildErrorKind, L2ErrorKind, RedisL2};
use pool_testkit::RedisFleet;
use proptest::prelude::*;
use std::time::{Duration, Instant};

struct Remote {
    l2: RedisL2,
}

impl Harness for Remote {
    fn l2(&self) -> &dyn L2 {
        &self.l2
    }
    fn advance(&self, by: Duration) {
        // Redis keeps real time; the suite's TTLs are short enough to wait out.
        std::thread::sleep(by);
    }
    fn too_large(&self) -> usize {
        self.l2.max_value_size() + 1
    }
    fn tag(&self) -> &[u8] {
        b"conf:"
    }
}

fn quick(url: &str) -> pool_cache::RedisL2Builder {
    RedisL2::builder(url)
        .connect_timeout(Duration::from_millis(300))
        .response_timeout(Duration::from_millis(300))
}

/// Polls `f` until it returns true, for at most `limit`.
async fn eventually(limit: Duration, mut f: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let Some(fleet) = RedisFleet::start_or_skip("redis_l2_conformance", 1) else { return };
    let l2 = quick(&fleet.url(0)).key_prefix("t:").max_value_size(4096).build().unwrap();
    conformance::run(&Remote { l2 }).await;
    // Every key went under the backend's prefix, and prefix deletion never used KEYS.
    assert!(fleet.scan_keys(0).unwrap().iter().all(|k| k.starts_with(b"t:")));
    let stats = fleet.command(0, &["INFO", "commandstats"]).unwrap();
    assert!(stats.contains("cmdstat_scan"), "{stats}");
    assert!(!stats.contains("cmdstat_keys"), "{stats}");
}

#[test]
fn matches_the_model() {
    let Some(fleet) = RedisFleet::start_or_skip("redis_l2_model", 1) else { return };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let l2 = quick(&fleet.url(0)).build().unwrap();
    let case = std::cell::Cell::new(0u32);
    let config =
        ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(ops in model::ops(false))| {
        case.set(case.get() + 1);
        let tag = format!("case{}:", case.get()).into_bytes();
        rt.block_on(model::check(&l2, &tag, &ops, &|_| {}, false))?;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_prefix_walks_scan_in_batches() {
    let Some(fleet) = RedisFleet::start_or_skip("redis_l2_scan", 1) else { return };
    let l2 = quick(&fleet.url(0)).scan_count(100).build().unwrap();
    let keys: Vec<Vec<u8>> = (0..2500).map(|i| format!("bulk:{i}").into_bytes()).collect();
    let puts: Vec<pool_cache::Put<'_>> =
        keys.iter().map(|k| pool_cache::Put::new(k, b"v", Duration::from_secs(600))).collect();
    l2.set_many(&puts).await.unwrap();
    l2.set(b"bulkhead", b"kept", Duration::from_secs(600)).await.unwrap();
    assert_eq!(l2.delete_prefix(b"bulk:").await.unwrap(), 2500);
    assert_eq!(fleet.scan_keys(0).unwrap(), vec![b"bulkhead".to_vec()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requirepass_and_acl_users_and_wrong_passwords() {
    let Some(fleet) = RedisFleet::builder(1).password("pw").start_or_skip("redis_l2_pass") else {
        return;
    };
    let good = quick(&fleet.auth_url(0)).build().unwrap();
    good.set(b"k", b"v", Duration::from_secs(60)).await.unwrap();
    assert!(good.get(b"k").await.unwrap().is_some());

    let wrong = quick(&fleet.url(0)).credentials("default", "nope").build().unwrap();
    let err = wrong.get(b"k").await.unwrap_err();
    assert_eq!(err.kind(), L2ErrorKind::Auth, "{err}");
    assert!(!err.to_string().contains("nope"), "the password leaked into {err}");

    let none = quick(&fleet.url(0)).build().unwrap();
    assert_eq!(none.health().await.unwrap_err().kind(), L2ErrorKind::Auth);

    let Some(acl) = RedisFleet::builder(1).acl_user("app", "s3cret").start_or_skip("redis_l2_acl")
    else {
        return;
    };
    let user = quick(&acl.url(0)).credentials("app", "s3cret").build().unwrap();
    user.set(b"k", b"v", Duration::from_secs(60)).await.unwrap();
    assert_eq!(acl.command(0, &["EXISTS", "k"]).unwrap(), ":1");
    let from_url = quick(&acl.auth_url(0)).build().unwrap();
    assert!(from_url.get(b"k").await.unwrap().is_some());
    let wrong_user = quick(&acl.url(0)).credentials("app", "wrong").build().unwrap();
    assert_eq!(wrong_user.get(b"k").await.unwrap_err().kind(), L2ErrorKind::Auth);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_costs_the_response_timeout() {
    let Some(fleet) = RedisFleet::start_or_skip("redis_l2_stall", 1) else { return };
    let l2 = quick(&fleet.url(0)).build().unwrap();
    l2.set(b"k", b"v", Duration::from_secs(60)).await.unwrap();
    fleet.command(0, &["CLIENT", "PAUSE", "1500", "ALL"]).unwrap();
    let start = Instant::now();
    let err = l2.get(b"k").await.unwrap_err();
    assert_eq!(err.kind(), L2ErrorKind::Timeout, "{err}");
    assert!(
        start.elapsed() < l2.call_timeout() + Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    // Once the pause ends, the same backend answers again.
    assert!(
        eventually(Duration::from_secs(10), async || l2.get(b"k").await.is_ok_and(|e| e.is_some()))
            .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_fails_fast_and_a_restarted_one_is_used_again() {
    let Some(mut fleet) = RedisFleet::start_or_skip("redis_l2_restart", 1) else { return };
    let l2 = quick(&fleet.url(0)).build().unwrap();
    l2.set(b"k", b"v", Duration::from_secs(60)).await.unwrap();
    fleet.kill(0).unwrap();
    for _ in 0..3 {
        let start = Instant::now();
        let err = l2.get(b"k").await.unwrap_err();
        assert!(matches!(err.kind(), L2ErrorKind::Unavailable | L2ErrorKind::Timeout), "{err:?}");
        assert!(
            start.elapsed() < l2.call_timeout() + Duration::from_millis(500),
            "{:?}",
            start.elapsed()
        );
    }
    assert!(l2.stats().failures >= 3);
    fleet.restart(0).unwrap();
    // No rebuild: the manager reconnects. The restarted server kept nothing (no persistence).
    assert!(eventually(Duration::from_secs(10), async || l2.health().await.is_ok()).await);
    assert_eq!(l2.get(b"k").await.unwrap(), None);
    l2.set(b"k", b"again", Duration::from_secs(60)).await.unwrap();
    assert_eq!(l2.get(b"k").await.unwrap().unwrap().value, b"again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_down_at_start_is_reported_then_used() {
    let Some(mut fleet) = RedisFleet::start_or_skip("redis_l2_lazy", 1) else { return };
    fleet.kill(0).unwrap();
    // Built while nothing listens: no error until it is used.
    let l2 = quick(&fleet.url(0)).build().unwrap();
    let err = l2.health().await.unwrap_err();
    assert!(matches!(err.kind(), L2ErrorKind::Unavailable | L2ErrorKind::Timeout), "{err:?}");
    fleet.restart(0).unwrap();
    assert!(eventually(Duration::from_secs(10), async || l2.health().await.is_ok()).await);
    l2.set(b"k", b"v", Duration::from_secs(60)).await.unwrap();
    assert_eq!(fleet.command(0, &["EXISTS", "k"]).unwrap(), ":1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_carry_a_header_and_foreign_values_are_counted_misses() {
    let Some(fleet) = RedisFleet::start_or_skip("redis_l2_foreign", 1) else { return };
    let l2 = quick(&fleet.url(0)).build().unwrap();
    l2.set(b"ours", b"v", Duration::from_secs(60)).await.unwrap();
    let raw = fleet.query(0, &[b"GET", b"ours"]).unwrap();
    let raw = raw.as_bytes().unwrap();
    assert_eq!(raw.len(), pool_cache::REDIS_VALUE_HEADER_LEN + 1);
    assert_eq!(raw.last(), Some(&b'v'));
    // Redis expires the key itself too.
    let pttl = fleet.query(0, &[b"PTTL", b"ours"]).unwrap().as_int().unwrap();
    assert!(pttl > 50_000 && pttl <= 60_000, "{pttl}");

    fleet.command(0, &["SET", "theirs", "plain bytes"]).unwrap();
    fleet.command(0, &["SET", "short", "x"]).unwrap();
    assert_eq!(l2.get(b"theirs").await.unwrap(), None);
    assert_eq!(l2.get_many(&[b"short", b"ours"]).await.unwrap().iter().flatten().count(), 1);
    assert_eq!(l2.stats().corrupt, 2);
    // A foreign value is never taken for a lease holder's token.
    assert!(!l2.compare_and_delete(b"theirs", b"plain bytes").await.unwrap());
}

#[test]
fn urls_that_do_not_parse_are_typed_errors() {
    for url in ["not a url", "http://127.0.0.1:6379", "redis://127.0.0.1:notaport", ""] {
        let err = RedisL2::new(url).unwrap_err();
        assert_eq!(err.kind(), L2BuildErrorKind::InvalidUrl, "{url}: {err}");
    }
    let err = RedisL2::new("redis://user:topsecret@127.0.0.1:notaport").unwrap_err();
    assert!(!err.to_string().contains("topsecret"), "{err}");
    #[cfg(not(feature = "redis-tls"))]
    assert_eq!(
        RedisL2::new("rediss://127.0.0.1").unwrap_err().kind(),
        L2BuildErrorKind::InvalidUrl
    );
    #[cfg(feature = "redis-tls")]
    assert!(RedisL2::new("rediss://127.0.0.1").is_ok());
    let b = |f: fn(pool_cache::RedisL2Builder) -> pool_cache::RedisL2Builder| {
        f(RedisL2::builder("redis://127.0.0.1")).build().unwrap_err().kind()
    };
    assert_eq!(b(|b| b.response_timeout(Duration::ZERO)), L2BuildErrorKind::ZeroDuration);
    assert_eq!(b(|b| b.connect_timeout(Duration::ZERO)), L2BuildErrorKind::ZeroDuration);
    assert_eq!(b(|b| b.max_value_size(0)), L2BuildErrorKind::Capacity);
    assert_eq!(b(|b| b.scan_count(0)), L2BuildErrorKind::Capacity);
}

#[test]
fn the_blocking_facade_drives_redis_from_sync_code_and_from_a_runtime() {
    let Some(fleet) = RedisFleet::start_or_skip("redis_l2_blocking", 1) else { return };
    let l2 = pool_cache::BlockingL2::new(quick(&fleet.url(0)).build().unwrap()).unwrap();
    l2.set(b"k", b"v", Duration::from_secs(60)).unwrap();
    assert_eq!(l2.get(b"k").unwrap().unwrap().value, b"v");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        assert!(l2.delete(b"k").unwrap());
    });
}

#[test]
fn a_client_outlives_the_runtime_of_its_first_call() {
    // The first call opens the connection on the first facade's runtime; that runtime ends
    // with the facade. A connection kept forever would fail every later call.
    let Some(fleet) = RedisFleet::start_or_skip("redis_l2_runtime_gone", 1) else { return };
    let shared: std::sync::Arc<dyn L2> = std::sync::Arc::new(quick(&fleet.url(0)).build().unwrap());
    let first = pool_cache::BlockingL2::new(shared.clone()).unwrap();
    first.set(b"k", b"v", Duration::from_secs(60)).unwrap();
    drop(first);
    let second = pool_cache::BlockingL2::new(shared.clone()).unwrap();
    assert_eq!(second.get(b"k").unwrap().map(|e| e.value), Some(b"v".to_vec()));
    // And an async caller on a runtime of its own, while the second facade still lives.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    assert!(rt.block_on(shared.delete(b"k")).unwrap());
    assert_eq!(second.get(b"k").unwrap(), None);
}
