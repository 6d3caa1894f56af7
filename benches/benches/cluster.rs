//! Criterion benches for pool-cluster's sharded L2, each next to its anchor in the same group
//! (medians; the machine is shared, so quote same-run ratios only):
//!
//! * `cluster/get_many_100`: `ShardedL2::get_many` of 100 keys over 3 `redis-server`s (r = 1:
//!   three concurrent per-node pipelines; r = 2 reads the same way) against the same call on
//!   one `RedisL2` holding all 100 keys (one pipeline).
//! * `cluster/get_1_redis`: one `get` through `ShardedL2` (3 servers) against a bare `RedisL2`
//!   call: the routing overhead per key on top of a network round trip.
//! * `cluster/get_1_memory`: the same over in-process `MemoryL2` nodes, where the round trip
//!   does not hide the routing (ring lookup, health check, breaker permit, timeout).
//! * `cluster/one_node_down`: keys per second of `get_many(100)` with r = 2 while one of three
//!   servers is killed (and marked down), against all three up.
//!
//! Each iteration is one `Runtime::block_on` (anchor and subject alike), since criterion's
//! async support is not enabled in this workspace.
//!
//! `cargo bench -p pool-benches --bench cluster`
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pool_cache::{L2, MemoryL2, Put, RedisL2};
use pool_cluster::ShardedL2;
use pool_testkit::RedisFleet;
use std::hint::black_box;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);
const KEYS: usize = 1000;

fn keys() -> Vec<Vec<u8>> {
    (0..KEYS).map(|i| format!("key:{i:08}").into_bytes()).collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn sharded(urls: &[String], r: usize) -> ShardedL2 {
    urls.iter()
        .fold(ShardedL2::builder(), |b, u| b.redis_node(u.clone()))
        .replicas(r)
        .build()
        .unwrap()
}

async fn load(l2: &dyn L2, keys: &[Vec<u8>]) {
    let puts: Vec<Put<'_>> = keys.iter().map(|k| Put::new(k, &[7u8; 100], HOUR)).collect();
    l2.set_many(&puts).await.unwrap();
}

fn redis(c: &mut Criterion) {
    let mut fleet = match RedisFleet::start(4) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cluster/*: skipped ({e})");
            return;
        }
    };
    let rt = runtime();
    let keys = keys();
    let urls = fleet.urls();
    // Server 3 alone is the anchor; servers 0..3 hold the sharded copies.
    let single = RedisL2::new(urls[3].clone()).unwrap();
    let r1 = sharded(&urls[..3], 1);
    let r2 = sharded(&urls[..3], 2);
    rt.block_on(async {
        load(&single, &keys).await;
        load(&r1, &keys).await;
        load(&r2, &keys).await;
    });
    let batch: Vec<&[u8]> = keys[..100].iter().map(Vec::as_slice).collect();

    let mut g = c.benchmark_group("cluster/get_many_100");
    g.throughput(Throughput::Elements(100));
    g.bench_function("anchor_redis_l2_one_server", |b| {
        b.iter(|| rt.block_on(async { black_box(single.get_many(&batch).await.unwrap()) }));
    });
    g.bench_function("sharded_l2_3_servers_r1", |b| {
        b.iter(|| rt.block_on(async { black_box(r1.get_many(&batch).await.unwrap()) }));
    });
    g.bench_function("sharded_l2_3_servers_r2", |b| {
        b.iter(|| rt.block_on(async { black_box(r2.get_many(&batch).await.unwrap()) }));
    });
    g.finish();

    let mut g = c.benchmark_group("cluster/get_1_redis");
    g.throughput(Throughput::Elements(1));
    g.bench_function("anchor_redis_l2_get", |b| {
        b.iter(|| rt.block_on(async { black_box(single.get(&keys[7]).await.unwrap()) }));
    });
    g.bench_function("sharded_l2_get", |b| {
        b.iter(|| rt.block_on(async { black_box(r1.get(&keys[7]).await.unwrap()) }));
    });
    g.finish();

    // One of three down: killed and marked down (as the prober would after its threshold).
    const ROUNDS: usize = 10;
    let mut g = c.benchmark_group("cluster/one_node_down");
    g.throughput(Throughput::Elements((ROUNDS * 100) as u64));
    let rounds = |l2: &ShardedL2| {
        let l2 = l2.clone();
        let keys = &keys;
        async move {
            for r in 0..ROUNDS {
                let b: Vec<&[u8]> =
                    keys[r * 100..(r + 1) * 100].iter().map(Vec::as_slice).collect();
                black_box(l2.get_many(&b).await.unwrap());
            }
        }
    };
    g.bench_function("anchor_all_up_r2", |b| b.iter(|| rt.block_on(rounds(&r2))));
    fleet.kill(1).unwrap();
    for _ in 0..r2.health_monitor().config().failure_threshold() {
        r2.health_monitor().record_probe(&urls[1], false);
    }
    g.bench_function("one_down_r2", |b| b.iter(|| rt.block_on(rounds(&r2))));
    g.finish();
}

fn memory(c: &mut Criterion) {
    let rt = runtime();
    let keys = keys();
    let mem = || MemoryL2::new(64 << 20).unwrap();
    let single = mem();
    let sharded =
        ShardedL2::builder().node("a", mem()).node("b", mem()).node("c", mem()).build().unwrap();
    rt.block_on(async {
        load(&single, &keys).await;
        load(&sharded, &keys).await;
    });
    let mut g = c.benchmark_group("cluster/get_1_memory");
    g.throughput(Throughput::Elements(1));
    g.bench_function("anchor_memory_l2_get", |b| {
        b.iter(|| rt.block_on(async { black_box(single.get(&keys[7]).await.unwrap()) }));
    });
    g.bench_function("sharded_over_memory_get", |b| {
        b.iter(|| rt.block_on(async { black_box(sharded.get(&keys[7]).await.unwrap()) }));
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = memory, redis }
criterion_main!(benches);
