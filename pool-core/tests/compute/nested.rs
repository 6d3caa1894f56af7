//! Nested submission: a task that submits to its own pool and joins never deadlocks.

use pool_core::{ComputePool, QueueFullPolicy};

use crate::util::join;

fn nest(pool: ComputePool, depth: u32) -> u32 {
    if depth == 0 {
        return 0;
    }
    let p = pool.clone();
    let h = pool.submit(move || nest(p, depth - 1)).unwrap();
    h.join().unwrap() + 1
}

#[test]
fn depth_100_on_one_thread_completes() {
    let pool = ComputePool::new(1).unwrap();
    let p = pool.clone();
    let outer = pool.submit(move || nest(p, 100)).unwrap();
    assert_eq!(join(outer), Ok(100));
    let s = pool.stats();
    assert_eq!(s.completed, 101);
    assert!(s.is_balanced());
}

#[test]
fn depth_100_on_one_thread_with_a_one_slot_blocking_queue() {
    // A worker must never block on a full queue it alone could drain: it runs the task itself.
    let pool = ComputePool::builder()
        .threads(1)
        .queue_capacity(1)
        .queue_full_policy(QueueFullPolicy::Block { timeout: None })
        .build()
        .unwrap();
    let p = pool.clone();
    let outer = pool.submit(move || nest(p, 100)).unwrap();
    assert_eq!(join(outer), Ok(100));
}

#[test]
fn fan_out_and_join_inside_tasks_on_two_threads() {
    let pool = ComputePool::new(2).unwrap();
    let p = pool.clone();
    let outer = pool
        .submit(move || {
            let hs: Vec<_> = (0..50u64)
                .map(|i| {
                    let p2 = p.clone();
                    p.submit(move || {
                        let inner = p2.submit(move || i * i).unwrap();
                        inner.join().unwrap()
                    })
                    .unwrap()
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
        })
        .unwrap();
    assert_eq!(join(outer), Ok((0..50u64).map(|i| i * i).sum()));
}

#[test]
fn map_inside_a_task_of_the_same_pool() {
    let pool = ComputePool::new(1).unwrap();
    let p = pool.clone();
    let outer =
        pool.submit(move || p.map((0..1000u32).collect::<Vec<_>>(), |x| x + 1).len()).unwrap();
    assert_eq!(join(outer), Ok(1000));
}

#[test]
fn awaiting_a_handle_inside_a_task_on_one_thread_completes() {
    let pool = ComputePool::new(1).unwrap();
    let p = pool.clone();
    let outer = pool
        .submit(move || futures::executor::block_on(p.submit(|| 21).unwrap()).unwrap() * 2)
        .unwrap();
    assert_eq!(join(outer), Ok(42));
}
