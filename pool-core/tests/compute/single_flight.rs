//! SingleFlight: one computation per key; a failed leader hands over, nobody hangs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use pool_core::{ComputePool, SingleFlight, SingleFlightError, TaskError};

use crate::util::{PATIENCE, eventually, occupy};

const FOLLOWERS: usize = 6;

/// Starts a leader whose computation blocks until the returned sender fires, then
/// `FOLLOWERS` callers that are known to be waiting on it before this returns.
type Caller = std::thread::JoinHandle<Result<u32, TaskError>>;

fn leader_and_followers(
    flight: &Arc<SingleFlight<&'static str, u32>>,
    leader: impl FnOnce() -> u32 + Send + 'static,
    follower_runs: &Arc<AtomicUsize>,
) -> (mpsc::Sender<()>, Caller, Vec<Caller>) {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let f = Arc::clone(flight);
    let lead = std::thread::spawn(move || {
        f.run("key", move || {
            started_tx.send(()).unwrap();
            go_rx.recv_timeout(PATIENCE).unwrap();
            leader()
        })
    });
    started_rx.recv_timeout(PATIENCE).unwrap();
    let followers: Vec<_> = (0..FOLLOWERS)
        .map(|_| {
            let (f, runs) = (Arc::clone(flight), Arc::clone(follower_runs));
            std::thread::spawn(move || {
                f.run("key", move || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    7
                })
            })
        })
        .collect();
    eventually("every follower waits on the leader", || flight.followers(&"key") == FOLLOWERS);
    (go_tx, lead, followers)
}

#[test]
fn followers_share_the_leaders_value() {
    let flight = Arc::new(SingleFlight::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let (go, lead, followers) = leader_and_followers(&flight, || 42, &runs);
    go.send(()).unwrap();
    assert_eq!(lead.join().unwrap(), Ok(42));
    for f in followers {
        assert_eq!(f.join().unwrap(), Ok(42));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0, "no follower computed");
    assert_eq!(flight.in_progress(), 0);
}

#[test]
fn a_panicking_leader_hands_over_to_a_follower() {
    let flight = Arc::new(SingleFlight::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let (go, lead, followers) = leader_and_followers(&flight, || panic!("leader died"), &runs);
    go.send(()).unwrap();
    assert_eq!(lead.join().unwrap(), Err(TaskError::Panicked("leader died".into())));
    for f in followers {
        assert_eq!(f.join().unwrap(), Ok(7), "followers get a value, not the leader's error");
    }
    let n = runs.load(Ordering::SeqCst);
    assert!((1..=FOLLOWERS).contains(&n), "a follower took over ({n} ran)");
    assert_eq!(flight.in_progress(), 0);
}

#[test]
fn a_cancelled_leader_task_hands_over() {
    let pool = ComputePool::new(1).unwrap();
    let (release, blocker) = occupy(&pool);
    let flight = Arc::new(SingleFlight::<u8, u32>::new());
    let (f, p) = (Arc::clone(&flight), pool.clone());
    // The leader's task queues behind the blocker...
    let lead = std::thread::spawn(move || f.run_on(&p, 1, || 1));
    eventually("the leader's task is queued", || pool.queue_len() == 1);
    let f = Arc::clone(&flight);
    let follower = std::thread::spawn(move || f.run(1, || 2));
    eventually("the follower waits", || flight.followers(&1) == 1);
    // ...and is cancelled: the follower must take over rather than hang or fail.
    pool.shutdown_now();
    assert_eq!(lead.join().unwrap(), Err(SingleFlightError::Task(TaskError::Cancelled)));
    assert_eq!(follower.join().unwrap(), Ok(2));
    release.send(()).unwrap();
    let _ = blocker.join_timeout(PATIENCE);
}
