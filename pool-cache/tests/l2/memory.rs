//! MemoryL2: the conformance suite, the byte bound and its bad input.

use crate::conformance::{self, Harness};
use pool_cache::{
    L2, L2BuildErrorKind, L2ErrorKind, MEMORY_RECORD_OVERHEAD, ManualClock, MemoryL2,
};
use std::time::Duration;

struct Mem {
    l2: MemoryL2,
    clock: ManualClock,
}

impl Harness for Mem {
    fn l2(&self) -> &dyn L2 {
        &self.l2
    }
    fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
    fn too_large(&self) -> usize {
        self.l2.max_value_size() + 1
    }
    fn tag(&self) -> &[u8] {
        b"mem:"
    }
}

#[test]
fn conformance() {
    let clock = ManualClock::new();
    let l2 = MemoryL2::builder(1 << 20).max_value_size(4096).clock(clock.clone()).build().unwrap();
    futures::executor::block_on(conformance::run(&Mem { l2, clock }));
}

#[test]
fn stays_within_its_byte_bound_and_counts_evictions() {
    let l2 = MemoryL2::builder(64 * 1024).max_value_size(1024).build().unwrap();
    futures::executor::block_on(async {
        for i in 0..1000u32 {
            l2.set(format!("k{i}").as_bytes(), &[1u8; 500], Duration::MAX).await.unwrap();
        }
    });
    assert!(l2.used_bytes() <= 64 * 1024, "{}", l2.used_bytes());
    let per = 500 + 4 + MEMORY_RECORD_OVERHEAD; // k0..k999 keys are 2-4 bytes
    assert!(l2.stats().evicted >= 1000 - (64 * 1024) / (per - 2), "{:?}", l2.stats());
    // The most recent write survives.
    assert!(futures::executor::block_on(l2.get(b"k999")).unwrap().is_some());
}

#[test]
fn value_limit_follows_the_builder_and_refuses_nothing_partway() {
    let l2 = MemoryL2::builder(1 << 20).max_value_size(10).build().unwrap();
    assert_eq!(l2.max_value_size(), 10);
    futures::executor::block_on(async {
        l2.set(b"k", &[0; 10], Duration::MAX).await.unwrap();
        let err = l2.set(b"k", &[0; 11], Duration::MAX).await.unwrap_err();
        assert_eq!(err.kind(), L2ErrorKind::ValueTooLarge { size: 11, limit: 10 });
        assert_eq!(
            err.to_string(),
            "value of 11 bytes is over the l2 limit of 10 bytes; raise max_value_size or store less"
        );
        assert_eq!(l2.get(b"k").await.unwrap().unwrap().value, vec![0; 10]);
    });
}

#[test]
fn builder_refuses_zero_and_inverted_bounds() {
    assert_eq!(MemoryL2::new(0).unwrap_err().kind(), L2BuildErrorKind::Capacity);
    let err = MemoryL2::builder(100).max_value_size(101).build().unwrap_err();
    assert_eq!(err.kind(), L2BuildErrorKind::Capacity);
    assert_eq!(err.to_string(), "max_value_size must be > 0 and <= max_bytes (100), got 101");
    assert_eq!(
        MemoryL2::builder(100).max_value_size(0).build().unwrap_err().kind(),
        L2BuildErrorKind::Capacity
    );
}
