//! Criterion benches for pool-cluster's ring against the `hashring` crate, in the same groups so
//! ratios are read off one report. Keys are 24 bytes and hashed inside every lookup; `hashring`
//! gets one entry per virtual node (it has no vnodes of its own), so both search as many points.
//!
//! * `ring_lookup/nodes=N/vnodes=160`: `get` at 10, 100, 1000 nodes; `HashRing` as a value and
//!   through a `SharedRing` snapshot load.
//! * `ring_get_n/nodes=100/vnodes=160/r=3`: three distinct replicas into a reused buffer;
//!   `hashring`'s `get_with_replicas(key, 2)` clones its ring per call (and may repeat a node).
//! * `ring_change/nodes=1000/vnodes=160`: adding or removing one node (160 points) at 1000
//!   nodes: in place, and through a `SharedRing` (copy, merge, swap). The setup clone is not
//!   timed (`iter_batched`).
//!
//! * `interleaved` (printed, not a criterion group; run it by naming it in the filter): rounds
//!   of 1024 lookups that alternate between ours and hashring, reporting per case the median
//!   and the minimum over rounds in ns per lookup and the per-round ratio to hashring. On a
//!   shared, loaded CPU the minimum is the figure least disturbed by preemption:
//!   `cargo bench -p pool-benches --bench ring -- interleaved`.
//!
//! `cargo bench -p pool-benches --bench ring -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pool_benches::ringsim::{HashringAnchor, keys_24};
use pool_cluster::{HashRing, SharedRing};

const VNODES: u32 = 160;
/// Keys per criterion iteration.
const KEYS: usize = 1024;

fn ring(n: usize) -> HashRing<String> {
    HashRing::new((0..n).map(|i| format!("node-{i}"))).expect("distinct ids")
}

fn lookup(c: &mut Criterion) {
    let keys = keys_24(KEYS, 1);
    for n in [10usize, 100, 1000] {
        let mut group = c.benchmark_group(format!("ring_lookup/nodes={n}/vnodes={VNODES}"));
        group.throughput(Throughput::Elements(KEYS as u64));
        let ours = ring(n);
        let shared = SharedRing::new(ours.clone());
        let anchor = HashringAnchor::new(n as u32, VNODES);
        group.bench_function("pool_cluster", |b| {
            b.iter(|| {
                for k in &keys {
                    black_box(ours.get(black_box(k)).ok());
                }
            })
        });
        group.bench_function("pool_cluster_shared_load", |b| {
            b.iter(|| {
                for k in &keys {
                    black_box(shared.load().get(black_box(k)).map(String::len).ok());
                }
            })
        });
        group.bench_function("hashring", |b| {
            b.iter(|| {
                for k in &keys {
                    black_box(anchor.get(black_box(k)));
                }
            })
        });
        group.finish();
    }
}

fn get_n(c: &mut Criterion) {
    let keys = keys_24(KEYS, 2);
    let n = 100;
    let mut group = c.benchmark_group(format!("ring_get_n/nodes={n}/vnodes={VNODES}/r=3"));
    let ours = ring(n);
    let anchor = HashringAnchor::new(n as u32, VNODES);
    group.throughput(Throughput::Elements(KEYS as u64));
    group.bench_function("pool_cluster", |b| {
        let mut out = Vec::with_capacity(3);
        b.iter(|| {
            for k in &keys {
                ours.get_n(black_box(k), 3, &mut out).ok();
                black_box(&out);
            }
        })
    });
    // Fewer keys: each call clones the 16 000-entry ring.
    let few = &keys[..16];
    group.throughput(Throughput::Elements(few.len() as u64));
    group.bench_function("hashring", |b| {
        b.iter(|| {
            for k in few {
                black_box(anchor.get_with_replicas(black_box(k), 3));
            }
        })
    });
    group.finish();
}

fn change(c: &mut Criterion) {
    let n = 1000;
    let mut group = c.benchmark_group(format!("ring_change/nodes={n}/vnodes={VNODES}"));
    let base = ring(n);
    group.bench_function(BenchmarkId::new("pool_cluster", "add"), |b| {
        b.iter_batched(
            || base.clone(),
            |mut r| {
                r.add("node-new".to_string(), 1.0).ok();
                r
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function(BenchmarkId::new("pool_cluster", "remove"), |b| {
        b.iter_batched(
            || base.clone(),
            |mut r| {
                r.remove("node-500").ok();
                r
            },
            BatchSize::PerIteration,
        )
    });
    let shared = SharedRing::new(base.clone());
    let mut toggle = false;
    group.bench_function(BenchmarkId::new("pool_cluster_shared", "add_or_remove"), |b| {
        b.iter(|| {
            toggle = !toggle;
            if toggle {
                shared.add("node-new".to_string(), 1.0).ok();
            } else {
                shared.remove("node-new").ok();
            }
        })
    });
    group.bench_function(BenchmarkId::new("hashring", "add_or_remove"), |b| {
        let mut a = HashringAnchor::new(n as u32, VNODES);
        let mut toggle = false;
        b.iter(|| {
            toggle = !toggle;
            if toggle {
                a.add(n as u32, VNODES);
            } else {
                a.remove(n as u32, VNODES);
            }
        })
    });
    group.finish();
}

/// ns per key of `f` over `keys`.
fn per_key<K>(keys: &[K], mut f: impl FnMut(&K)) -> f64 {
    let start = Instant::now();
    for k in keys {
        f(black_box(k));
    }
    start.elapsed().as_secs_f64() * 1e9 / keys.len() as f64
}

fn interleaved(_c: &mut Criterion) {
    if !std::env::args().any(|a| a.contains("interleaved")) {
        return;
    }
    const ROUNDS: usize = 301;
    let keys = keys_24(KEYS, 3);
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0])
    };
    for n in [10usize, 100, 1000] {
        let ours = ring(n);
        let anchor = HashringAnchor::new(n as u32, VNODES);
        let mut out = Vec::with_capacity(3);
        let (mut get, mut get_n, mut theirs, mut ratio, mut ratio_n) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let a = per_key(&keys, |k| {
                black_box(ours.get(k).ok());
            });
            let b = per_key(&keys, |k| {
                ours.get_n(k, 3, &mut out).ok();
                black_box(&out);
            });
            let c = per_key(&keys, |k| {
                black_box(anchor.get(k));
            });
            get.push(a);
            get_n.push(b);
            theirs.push(c);
            ratio.push(c / a);
            ratio_n.push(b / a);
        }
        let (get, get_min) = stats(&mut get);
        let (get_n, get_n_min) = stats(&mut get_n);
        let (theirs, theirs_min) = stats(&mut theirs);
        let (ratio, _) = stats(&mut ratio);
        let (ratio_n, _) = stats(&mut ratio_n);
        println!(
            "interleaved/nodes={n}/vnodes={VNODES}: get {get:.1} ns (min {get_min:.1}), \
             hashring get {theirs:.1} ns (min {theirs_min:.1}), hashring/ours {ratio:.2}x; \
             get_n(3) {get_n:.1} ns (min {get_n_min:.1}), get_n/get {ratio_n:.2}x"
        );
    }

    // Changes at 1000 nodes, alternating; the clone before each is not timed.
    let base = ring(1000);
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    for _ in 0..31 {
        for (times, adding) in [(&mut add, true), (&mut remove, false)] {
            let mut r = base.clone();
            let start = Instant::now();
            if adding {
                r.add("node-new".to_string(), 1.0).ok();
            } else {
                r.remove("node-500").ok();
            }
            times.push(start.elapsed().as_secs_f64() * 1e3);
            black_box(r);
        }
    }
    let (add, add_min) = stats(&mut add);
    let (remove, remove_min) = stats(&mut remove);
    println!(
        "interleaved/change/nodes=1000/vnodes={VNODES}: add {add:.3} ms (min {add_min:.3}), \
         remove {remove:.3} ms (min {remove_min:.3})"
    );
}

criterion_group!(benches, interleaved, lookup, get_n, change);
criterion_main!(benches);
