//! Real Redis servers and real processes: the test binary re-runs itself as children (the
//! `child_entry` test, which does nothing unless `POOL_TIERED_CHILD` is set).

use pool_cache::{CachedPool, RedisL2, TieredCache, WriteErrorKind};
use pool_core::ComputePool;
use pool_testkit::RedisFleet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CHILD_ENV: &str = "POOL_TIERED_CHILD";
const LEASE_TTL: Duration = Duration::from_secs(2);

/// One RESP command on a fresh connection; the reply's first line.
fn redis(port: u16, args: &[&str]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut cmd = format!("*{}\r\n", args.len());
    for a in args {
        cmd.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    s.write_all(cmd.as_bytes()).unwrap();
    let mut line = String::new();
    let mut r = BufReader::new(s);
    r.read_line(&mut line).unwrap();
    if let Some(len) = line.strip_prefix('$').and_then(|l| l.trim().parse::<usize>().ok()) {
        let mut body = vec![0; len + 2];
        r.read_exact(&mut body).unwrap();
        return String::from_utf8_lossy(&body[..len]).into_owned();
    }
    line.trim().trim_start_matches([':', '+']).to_string()
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The pool every process builds: each computation INCRs `runs` in Redis, then takes
/// `compute_ms`.
fn memo(port: u16, compute_ms: u64) -> CachedPool<u64, u64> {
    let l2 = RedisL2::builder(format!("redis://127.0.0.1:{port}")).build().unwrap();
    CachedPool::builder(ComputePool::new(2).unwrap(), "cold", move |x: &u64| {
        redis(port, &["INCR", "runs"]);
        std::thread::sleep(Duration::from_millis(compute_ms));
        x * 2
    })
    .l2(l2)
    .lease_ttl(LEASE_TTL)
    .poll_backoff(Duration::from_millis(2), Duration::from_millis(50))
    .build()
    .unwrap()
}

fn spawn_child(mode: &str, port: u16, start_ms: u64) -> Child {
    spawn_child_seeded(mode, port, start_ms, 0)
}

fn spawn_child_seeded(mode: &str, port: u16, start_ms: u64, seed: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .env("POOL_TIERED_SEED", seed.to_string())
        .args(["--exact", "redis::child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, mode)
        .env("POOL_TIERED_PORT", port.to_string())
        .env("POOL_TIERED_START_MS", start_ms.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Harness entry for the children; a no-op in a normal run.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(CHILD_ENV) else { return };
    let port: u16 = std::env::var("POOL_TIERED_PORT").unwrap().parse().unwrap();
    let start: u64 = std::env::var("POOL_TIERED_START_MS").unwrap().parse().unwrap();
    match mode.as_str() {
        "race" => {
            let memo = memo(port, 300);
            let barrier = Arc::new(Barrier::new(16));
            let threads: Vec<_> = (0..16)
                .map(|_| {
                    let (memo, barrier) = (memo.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        let wait = start.saturating_sub(unix_ms());
                        std::thread::sleep(Duration::from_millis(wait));
                        memo.call(&21).unwrap()
                    })
                })
                .collect();
            for t in threads {
                assert_eq!(t.join().unwrap(), 42);
            }
            println!("CHILD_OK computations={}", memo.stats().computations);
        }
        "hold" => {
            // Takes the lease and computes "forever": the parent kills it mid-computation.
            let memo = memo(port, 60_000);
            println!("CHILD_OK starting");
            let _ = memo.call(&5);
        }
        "zipf-shared" | "zipf-own" => {
            let seed: u64 = std::env::var("POOL_TIERED_SEED").unwrap().parse().unwrap();
            let shared = mode == "zipf-shared";
            let counter = if shared { "zipf_shared_runs" } else { "zipf_own_runs" };
            let mut b =
                CachedPool::builder(ComputePool::new(1).unwrap(), "zipf", move |x: &u64| {
                    redis(port, &["INCR", counter]);
                    x + 1
                })
                .capacity(ZIPF_L1);
            if shared {
                b = b.l2(RedisL2::builder(format!("redis://127.0.0.1:{port}")).build().unwrap());
            }
            let memo = b.build().unwrap();
            for k in zipf_keys(seed) {
                assert_eq!(memo.call(&k).unwrap(), k + 1);
            }
            println!("CHILD_OK computations={}", memo.stats().computations);
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn wait_child(mut child: Child, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
            assert!(status.success(), "a child failed: {out}");
            return out;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("a child ran past {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn four_processes_of_sixteen_threads_compute_one_cold_key_once() {
    let Some(fleet) = RedisFleet::start_or_skip("four_processes_compute_once", 1) else { return };
    let port = fleet.port(0).unwrap();
    // Every child starts its 16 calls at the same wall-clock instant.
    let start = unix_ms() + 2_000;
    let children: Vec<Child> = (0..4).map(|_| spawn_child("race", port, start)).collect();
    for c in children {
        let out = wait_child(c, Duration::from_secs(60));
        assert!(out.contains("CHILD_OK"), "{out}");
    }
    assert_eq!(redis(port, &["GET", "runs"]), "1", "the function ran more than once");
}

#[test]
fn a_survivor_computes_within_lease_ttl_after_the_holder_is_killed() {
    let Some(fleet) = RedisFleet::start_or_skip("lease_holder_killed", 1) else { return };
    let port = fleet.port(0).unwrap();
    let mut holder = spawn_child("hold", port, 0);
    // The holder INCRs as its computation starts: it holds the lease from then on.
    let deadline = Instant::now() + Duration::from_secs(30);
    while redis(port, &["GET", "runs"]) != "1" {
        assert!(Instant::now() < deadline, "the holder never started computing");
        std::thread::sleep(Duration::from_millis(10));
    }
    holder.kill().unwrap(); // SIGKILL mid-computation: no release, no value
    holder.wait().unwrap();
    let killed = Instant::now();
    let survivor = memo(port, 0);
    assert_eq!(survivor.call(&5).unwrap(), 10);
    let took = killed.elapsed();
    // The holder renewed at most LEASE_TTL/3 before dying, so the lease lasts <= LEASE_TTL;
    // 2 s more of slack for a 2-core box shared with the server.
    assert!(took < LEASE_TTL + Duration::from_secs(1) + Duration::from_secs(2), "took {took:?}");
    assert_eq!(redis(port, &["GET", "runs"]), "2", "exactly one takeover computation");
    let s = survivor.stats();
    assert_eq!((s.lease_waits, s.lease_takeovers), (1, 1));
}

#[test]
fn l1_hits_survive_a_redis_restart_and_the_l2_comes_back() {
    let Some(mut fleet) = RedisFleet::start_or_skip("redis_killed_mid_run", 1) else { return };
    let port = fleet.port(0).unwrap();
    let l2 = || {
        RedisL2::builder(format!("redis://127.0.0.1:{port}"))
            .connect_timeout(Duration::from_millis(300))
            .response_timeout(Duration::from_millis(300))
            .build()
            .unwrap()
    };
    let cache: TieredCache<u64, u64> =
        TieredCache::builder(1000).l2(l2()).l2_timeout(Duration::from_secs(2)).build().unwrap();
    for k in 0..100 {
        cache.insert(k, k).unwrap();
    }
    fleet.kill(0).unwrap();
    for k in 0..100 {
        assert_eq!(cache.get(&k), Some(k), "an L1 hit failed while Redis was down");
    }
    assert_eq!(cache.get(&1_000), None);
    assert!(cache.stats().l2_errors >= 1);
    let err = cache.insert(500, 500).unwrap_err();
    assert!(matches!(err.kind(), WriteErrorKind::L2(_)), "{err}");
    fleet.restart(0).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while cache.insert(501, 501).is_err() {
        assert!(Instant::now() < deadline, "the l2 never came back");
        std::thread::sleep(Duration::from_millis(50));
    }
    let fresh: TieredCache<u64, u64> = TieredCache::builder(10).l2(l2()).build().unwrap();
    assert_eq!(fresh.get(&501), Some(501), "written to the restarted server");
}

const ZIPF_KEYS: usize = 1_000;
const ZIPF_CALLS: usize = 2_000;
const ZIPF_L1: u64 = 64;

/// `ZIPF_CALLS` keys drawn from Zipf(1.0) over `ZIPF_KEYS` keys (xorshift64*, inverse CDF).
fn zipf_keys(seed: u64) -> Vec<u64> {
    let weights: Vec<f64> = (1..=ZIPF_KEYS).map(|i| 1.0 / i as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut cdf = Vec::with_capacity(ZIPF_KEYS);
    let mut acc = 0.0;
    for w in weights {
        acc += w / total;
        cdf.push(acc);
    }
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..ZIPF_CALLS)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let u = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
            cdf.partition_point(|c| *c < u).min(ZIPF_KEYS - 1) as u64
        })
        .collect()
}

#[test]
fn a_shared_l2_saves_computations_in_a_zipf_workload_of_four_processes() {
    let Some(fleet) = RedisFleet::start_or_skip("zipf_four_processes", 1) else { return };
    let port = fleet.port(0).unwrap();
    let run = |mode: &str| {
        let children: Vec<Child> =
            (1..=4).map(|seed| spawn_child_seeded(mode, port, 0, seed)).collect();
        for c in children {
            let out = wait_child(c, Duration::from_secs(60));
            assert!(out.contains("CHILD_OK"), "{out}");
        }
    };
    run("zipf-shared");
    run("zipf-own");
    let shared: u64 = redis(port, &["GET", "zipf_shared_runs"]).parse().unwrap();
    let own: u64 = redis(port, &["GET", "zipf_own_runs"]).parse().unwrap();
    let sets: Vec<std::collections::HashSet<u64>> =
        (1..=4).map(|seed| zipf_keys(seed).into_iter().collect()).collect();
    let union: std::collections::HashSet<u64> = sets.iter().flatten().copied().collect();
    let per_process: usize = sets.iter().map(|s| s.len()).sum();
    eprintln!(
        "zipf(1.0) {ZIPF_CALLS} calls x 4 processes over {ZIPF_KEYS} keys, L1 {ZIPF_L1}: \
         shared Redis L2 ran {shared} computations, own L1s only ran {own} \
         ({:.1}% saved; distinct keys: {} overall, {per_process} summed per process)",
        100.0 * (own as f64 - shared as f64) / own as f64,
        union.len()
    );
    // With the shared L2 each distinct key is computed exactly once across the processes.
    assert_eq!(shared, union.len() as u64);
    // Alone, each process computes at least each of its own distinct keys once.
    assert!(own >= per_process as u64);
    assert!(shared < own);
}

#[test]
fn an_invalidation_reaches_another_process_l1() {
    let Some(fleet) = RedisFleet::start_or_skip("invalidation_broadcast", 1) else { return };
    let port = fleet.port(0).unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    // Two caches with their own L1s over one Redis: two processes, as far as the L1s know.
    let make = || -> TieredCache<String, u64> {
        TieredCache::builder(100)
            .l2(RedisL2::new(url.clone()).unwrap())
            .invalidation_broadcast(url.clone(), "inval")
            .build()
            .unwrap()
    };
    let (a, b) = (make(), make());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let subs = pubsub_count(port, "inval");
        if subs == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the subscribers never subscribed ({subs})");
        std::thread::sleep(Duration::from_millis(10));
    }
    let key = "user:1".to_string();
    let mut delays = Vec::new();
    a.insert(key.clone(), 0).unwrap();
    assert_eq!(b.get(&key), Some(0)); // b's L1 now holds 0 (read through from the L2)
    for round in 1..=20u64 {
        a.insert(key.clone(), round).unwrap();
        let written = Instant::now();
        // b's L1 holds round - 1 until the broadcast evicts it.
        while b.get(&key) != Some(round) {
            assert!(written.elapsed() < Duration::from_secs(5), "round {round}: never propagated");
            std::thread::sleep(Duration::from_micros(200));
        }
        delays.push(written.elapsed());
    }
    delays.sort();
    eprintln!(
        "invalidation broadcast on loopback: median {:?}, max {:?} (20 rounds)",
        delays[10], delays[19]
    );
    a.invalidate(&key).unwrap();
    let start = Instant::now();
    while b.get(&key).is_some() {
        assert!(start.elapsed() < Duration::from_secs(5), "the invalidation never propagated");
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(a.stats().broadcast_errors, 0);
}

/// Subscribers of `channel` (PUBSUB NUMSUB answers `[channel, count]`).
fn pubsub_count(port: u16, channel: &str) -> u64 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let cmd = format!("*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n${}\r\n{channel}\r\n", channel.len());
    s.write_all(cmd.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    for _ in 0..4 {
        // `*2`, `$len`, the channel, then `:count`.
        line.clear();
        r.read_line(&mut line).unwrap();
    }
    line.trim().trim_start_matches(':').parse().unwrap_or(0)
}
