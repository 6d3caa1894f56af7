//! SharedRing under concurrent use: readers keep reading consistent snapshots during 100
//! changes at 100 nodes, and a change in progress never makes a reader wait.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use pool_cluster::{HashRing, SharedRing};

#[test]
fn readers_see_whole_snapshots_during_100_changes() {
    let shared = Arc::new(SharedRing::new(HashRing::new(crate::node_ids(100)).unwrap()));
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|t| {
            let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
            thread::spawn(move || {
                let mut reads = 0u64;
                let mut i = 0u64;
                // Bounded: stops when the writer is done, or after 50 M lookups at most.
                while !stop.load(Ordering::Acquire) && reads < 50_000_000 {
                    let ring = shared.load();
                    let mut out = Vec::with_capacity(3);
                    let n = ring.len();
                    assert!(n == 100 || n == 101, "a half-made ring: {n} nodes");
                    assert_eq!(ring.contains("extra"), n == 101);
                    for _ in 0..16 {
                        let key = format!("t{t}-{i}");
                        i += 1;
                        let owner = ring.get(&key).unwrap();
                        ring.get_n(&key, 3, &mut out).unwrap();
                        assert_eq!(out[0], owner);
                        assert!(out[0] != out[1] && out[1] != out[2] && out[0] != out[2]);
                        reads += 1;
                    }
                }
                reads
            })
        })
        .collect();
    for change in 0..100 {
        if change % 2 == 0 {
            shared.add("extra".to_string(), 1.0).unwrap();
        } else {
            shared.remove("extra").unwrap();
        }
    }
    stop.store(true, Ordering::Release);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    assert_eq!(shared.load().len(), 100);
}

#[test]
fn a_change_in_progress_never_blocks_readers() {
    let shared = Arc::new(SharedRing::new(HashRing::new(crate::node_ids(100)).unwrap()));
    let (inside_tx, inside_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let writer = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            shared.update(|ring| {
                inside_tx.send(()).unwrap();
                // Holds the writer lock until the readers below are done (bounded).
                release_rx.recv_timeout(Duration::from_secs(10)).map_err(|_| "readers blocked")?;
                ring.add("extra".to_string(), 1.0).map_err(|_| "add failed")
            })
        })
    };
    inside_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    // The writer is mid-change, holding its lock: readers still load and look up.
    for i in 0..1_000 {
        let ring = shared.load();
        assert_eq!(ring.len(), 100);
        ring.get(&format!("k{i}")).unwrap();
    }
    release_tx.send(()).unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(shared.load().len(), 101);
}

#[test]
fn concurrent_writers_lose_no_change() {
    let shared = Arc::new(SharedRing::new(HashRing::new(crate::node_ids(10)).unwrap()));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for i in 0..10 {
                    shared.add(format!("w{t}-{i}"), 1.0).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(shared.load().len(), 50);
}

#[test]
fn a_failed_or_panicking_change_leaves_the_ring_as_it_was() {
    let shared = Arc::new(SharedRing::new(HashRing::new(["a", "b"]).unwrap()));
    assert!(shared.add("a", 1.0).is_err());
    let s = Arc::clone(&shared);
    let panicked = thread::spawn(move || {
        s.update(|ring| -> Result<(), ()> {
            ring.remove("a").unwrap();
            panic!("a user change panics mid-way");
        })
    })
    .join();
    assert!(panicked.is_err());
    assert_eq!(shared.load().len(), 2);
    shared.add("c", 1.0).unwrap(); // still writable
    assert_eq!(shared.load().len(), 3);
}
