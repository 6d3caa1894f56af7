//! The statistics against a model, over proptest-generated operation sequences.
//!
//! A one-thread pool whose worker is held by a blocker makes every admitted task queue, so the
//! model knows exactly what each operation must do: admit or reject (capacity), and whether a
//! task completes, fails, panics, expires or is cancelled.

use std::time::Instant;

use pool_core::{ComputePool, QueueFullPolicy, SubmitErrorKind, TaskError, TaskHandle};
use proptest::prelude::*;

use crate::util::{join, occupy};

#[derive(Debug, Clone, Copy)]
enum Op {
    Ok,
    Panic,
    Fail,
    Expire,
    TrySubmit,
    CancelLast,
    /// Let the worker drain everything and start a new blocked phase.
    Drain,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Ok),
        2 => Just(Op::Panic),
        2 => Just(Op::Fail),
        2 => Just(Op::Expire),
        2 => Just(Op::TrySubmit),
        2 => Just(Op::CancelLast),
        1 => Just(Op::Drain),
    ]
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Model {
    submitted: u64,
    completed: u64,
    failed: u64,
    panicked: u64,
    expired: u64,
    cancelled: u64,
    rejected: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fate {
    Completed,
    Failed,
    Panicked,
    Expired,
    Cancelled,
}

struct Queued {
    handle: TaskHandle<Result<u8, u8>>,
    fate: Fate,
}

fn drain(queued: &mut Vec<Queued>, model: &mut Model) {
    for q in queued.drain(..) {
        let got = join(q.handle);
        let fate = match got {
            Ok(Ok(_)) => Fate::Completed,
            Ok(Err(_)) => Fate::Failed,
            Err(TaskError::Panicked(_)) => Fate::Panicked,
            Err(TaskError::Expired) => Fate::Expired,
            Err(TaskError::Cancelled) => Fate::Cancelled,
            Err(e) => panic!("unexpected {e:?}"),
        };
        assert_eq!(fate, q.fate);
        match fate {
            Fate::Completed => model.completed += 1,
            Fate::Failed => model.failed += 1,
            Fate::Panicked => model.panicked += 1,
            Fate::Expired => model.expired += 1,
            Fate::Cancelled => model.cancelled += 1,
        }
    }
}

fn check(pool: &ComputePool, model: &Model) {
    let s = pool.stats();
    let got = Model {
        submitted: s.submitted,
        completed: s.completed,
        failed: s.failed,
        panicked: s.panicked,
        expired: s.expired,
        cancelled: s.cancelled,
        rejected: s.rejected,
    };
    assert_eq!(&got, model);
    assert_eq!((s.in_flight, s.queue_len), (0, 0));
    assert!(s.is_balanced(), "{s:?}");
}

proptest! {
    // Below the default 256: each case builds a compute pool (a rayon thread pool, its threads
    // spawned and joined); 48 cases take about 0.4 s in a debug build on the 2-core CI box.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn stats_match_a_model_and_balance_at_quiescence(cap in 1usize..5, ops in prop::collection::vec(op(), 1..40)) {
        let pool = ComputePool::builder()
            .threads(1)
            .queue_capacity(cap)
            .queue_full_policy(QueueFullPolicy::Reject)
            .build()
            .unwrap();
        let mut model = Model::default();
        let mut queued: Vec<Queued> = Vec::new();
        let (mut release, mut blocker) = occupy(&pool);
        model.submitted += 1;
        for op in ops {
            if let Op::Drain = op {
                release.send(()).unwrap();
                join(blocker).unwrap();
                model.completed += 1;
                drain(&mut queued, &mut model);
                check(&pool, &model);
                (release, blocker) = occupy(&pool);
                model.submitted += 1;
                continue;
            }
            if let Op::CancelLast = op {
                if let Some(q) = queued.iter_mut().rev().find(|q| q.fate != Fate::Cancelled) {
                    prop_assert!(q.handle.cancel(), "a queued task must be cancellable");
                    q.fate = Fate::Cancelled;
                }
                continue;
            }
            model.submitted += 1;
            let live = queued.iter().filter(|q| q.fate != Fate::Cancelled).count();
            let (res, fate) = match op {
                Op::Ok => (pool.submit_result(|| Ok::<u8, u8>(1)), Fate::Completed),
                Op::Fail => (pool.submit_result(|| Err::<u8, u8>(2)), Fate::Failed),
                Op::Panic => (pool.submit_result(|| -> Result<u8, u8> { panic!("p") }), Fate::Panicked),
                Op::Expire => (pool.submit_before(Instant::now(), || Ok::<u8, u8>(3)), Fate::Expired),
                Op::TrySubmit => (pool.try_submit(|| Ok::<u8, u8>(4)), Fate::Completed),
                Op::CancelLast | Op::Drain => unreachable!(),
            };
            if live < cap {
                prop_assert!(res.is_ok(), "admitted with {live} < {cap} queued");
                if let Ok(handle) = res {
                    queued.push(Queued { handle, fate });
                }
            } else {
                prop_assert_eq!(res.map(|_| ()).unwrap_err().kind(), SubmitErrorKind::QueueFull);
                model.rejected += 1;
            }
            prop_assert!(pool.queue_len() <= cap);
        }
        release.send(()).unwrap();
        join(blocker).unwrap();
        model.completed += 1;
        drain(&mut queued, &mut model);
        check(&pool, &model);
    }
}

#[test]
fn exported_stats_read_back_from_the_registry() {
    let pool = ComputePool::new(1).unwrap();
    let registry = pool_metrics::Registry::new();
    join(pool.submit(|| 1).unwrap()).unwrap();
    pool.export_metrics(&registry, "render").unwrap();
    let _ = join(pool.submit(|| -> u32 { panic!("boom") }).unwrap());
    join(pool.submit(|| 2).unwrap()).unwrap();
    pool.export_metrics(&registry, "render").unwrap();
    let tasks = |outcome: &str| {
        registry
            .counter("compute_pool_tasks_total", &[("pool", "render"), ("outcome", outcome)])
            .unwrap()
            .get()
    };
    assert_eq!((tasks("submitted"), tasks("completed"), tasks("panicked")), (3, 2, 1));
    let label = [("pool", "render")];
    assert_eq!(registry.gauge("compute_pool_in_flight", &label).unwrap().get(), 0);
    assert_eq!(registry.gauge("compute_pool_concurrency_limit", &label).unwrap().get(), 1);
    let text = registry.snapshot().to_prometheus();
    assert!(
        text.contains("compute_pool_tasks_total{outcome=\"completed\",pool=\"render\"} 2")
            || text.contains("compute_pool_tasks_total{pool=\"render\",outcome=\"completed\"} 2"),
        "{text}"
    );
}
