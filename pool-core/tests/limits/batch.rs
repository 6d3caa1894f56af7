//! Batcher: every caller gets its own key's value, batches are de-duplicated and bounded.

use std::collections::HashSet;
use std::sync::{Barrier, Mutex};
use std::time::Duration;

use pool_core::{BatchError, Batcher};
use proptest::prelude::*;

proptest! {
    // Below the default 256: each case starts up to 25 threads (callers and a dispatcher) and
    // waits out at least one 1 ms batch delay; 40 cases take about 0.3 s in a debug build on the
    // 2-core CI box, and the case space (batch size 1..8, 1..24 keys over 20 values) is small.
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn every_caller_gets_its_own_keys_value(
        keys in proptest::collection::vec(0u32..20, 1..24),
        max_batch in 1usize..8,
    ) {
        let seen: &'static Mutex<Vec<Vec<u32>>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        let b = Batcher::builder(move |ks: &[u32]| {
            seen.lock().unwrap().push(ks.to_vec());
            // Odd keys fail, so per-key errors are routed too.
            ks.iter().map(|k| if k % 2 == 1 { Err(format!("odd {k}")) } else { Ok(u64::from(*k) * 3 + 1) }).collect()
        })
        .max_batch_size(max_batch)
        .max_delay(Duration::from_millis(1))
        .build()
        .unwrap();
        let barrier = Barrier::new(keys.len());
        let results: Vec<(u32, Result<u64, BatchError<String>>)> = std::thread::scope(|s| {
            let hs: Vec<_> = keys.iter().map(|&k| {
                let (b, barrier) = (&b, &barrier);
                s.spawn(move || { barrier.wait(); (k, b.load(k)) })
            }).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (k, r) in results {
            if k % 2 == 1 {
                prop_assert_eq!(r, Err(BatchError::Load(format!("odd {k}"))));
            } else {
                prop_assert_eq!(r, Ok(u64::from(k) * 3 + 1));
            }
        }
        let batches = seen.lock().unwrap();
        for batch in batches.iter() {
            prop_assert!(batch.len() <= max_batch, "batch of {} > {}", batch.len(), max_batch);
            let distinct: HashSet<_> = batch.iter().collect();
            prop_assert_eq!(distinct.len(), batch.len(), "duplicate key in {:?}", batch);
        }
        let loaded: HashSet<u32> = batches.iter().flatten().copied().collect();
        let wanted: HashSet<u32> = keys.iter().copied().collect();
        prop_assert_eq!(loaded, wanted);
    }
}

#[cfg(feature = "async")]
#[test]
fn async_and_blocking_callers_share_a_batch() {
    let b = Batcher::builder(|ks: &[u32]| ks.iter().map(|k| Ok::<_, ()>(k + 100)).collect())
        .max_batch_size(2)
        .max_delay(Duration::from_secs(60))
        .build()
        .unwrap();
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        let a = s.spawn(|| {
            barrier.wait();
            futures::executor::block_on(b.load_async(1))
        });
        barrier.wait();
        assert_eq!(b.load(2), Ok(102));
        assert_eq!(a.join().unwrap(), Ok(101));
    });
    assert_eq!(b.batches(), 1, "size 2 reached: one batch, no 60 s delay");
}

#[test]
fn clones_share_one_dispatcher_until_the_last_drops() {
    let b = Batcher::builder(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(k * 10)).collect())
        .max_batch_size(2)
        .max_delay(Duration::from_secs(3600))
        .build()
        .unwrap();
    let other = b.clone();
    // Two keys fill one batch of two, whichever handle each arrived through.
    let results = std::thread::scope(|s| {
        let x = s.spawn(|| b.load(1));
        let y = s.spawn(|| other.load(2));
        (x.join().unwrap(), y.join().unwrap())
    });
    assert_eq!(results, (Ok(10), Ok(20)));
    assert_eq!(b.batches(), 1);
    drop(b);
    assert_eq!(other.config().max_batch_size, 2, "the clone still works after the first drops");
    let z = other.clone();
    std::thread::scope(|s| {
        let h = s.spawn(|| z.load(3));
        assert_eq!(other.load(4), Ok(40));
        assert_eq!(h.join().unwrap(), Ok(30));
    });
}
