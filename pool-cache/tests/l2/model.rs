//! Each backend against a reference model: a `HashMap` of value and deadline, on a clock the
//! test moves by hand.

use pool_cache::{L2, L2Entry, ManualClock, MemoryL2, Put};
use proptest::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

/// One step of a test.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Get(u8),
    GetMany(Vec<u8>),
    Set(u8, u8, Option<u64>),
    SetMany(Vec<(u8, u8, Option<u64>)>),
    Delete(u8),
    DeleteMany(Vec<u8>),
    DeletePrefix(u8),
    SetIfAbsent(u8, u8, Option<u64>),
    CompareAndDelete(u8, u8),
    Advance(u64),
}

/// Keys share prefixes ("a", "ab", "abc", "b", ...) so prefix deletion has something to get wrong.
const KEYS: [&[u8]; 6] = [b"a", b"ab", b"abc", b"b", b"ba", b"c"];

fn key(tag: &[u8], i: u8) -> Vec<u8> {
    [tag, KEYS[usize::from(i) % KEYS.len()]].concat()
}

fn value(v: u8) -> Vec<u8> {
    vec![v; usize::from(v % 5)]
}

fn ttl(ms: Option<u64>) -> Duration {
    ms.map_or(Duration::MAX, Duration::from_millis)
}

/// Ops for a backend whose time the test moves (`advance`), or not (Redis: long TTLs only).
pub(crate) fn ops(advance: bool) -> impl Strategy<Value = Vec<Op>> {
    let k = 0u8..6;
    let t = if advance {
        proptest::option::of(1u64..50).boxed()
    } else {
        proptest::option::of(Just(3_600_000u64)).boxed()
    };
    let v = any::<u8>();
    let kvt = (k.clone(), v, t.clone());
    let op = prop_oneof![
        3 => k.clone().prop_map(Op::Get),
        1 => proptest::collection::vec(k.clone(), 0..4).prop_map(Op::GetMany),
        3 => kvt.clone().prop_map(|(k, v, t)| Op::Set(k, v, t)),
        1 => proptest::collection::vec(kvt.clone(), 0..4).prop_map(Op::SetMany),
        1 => k.clone().prop_map(Op::Delete),
        1 => proptest::collection::vec(k.clone(), 0..4).prop_map(Op::DeleteMany),
        1 => k.clone().prop_map(Op::DeletePrefix),
        2 => kvt.prop_map(|(k, v, t)| Op::SetIfAbsent(k, v, t)),
        1 => (k, v).prop_map(|(k, v)| Op::CompareAndDelete(k, v)),
        if advance { 2 } else { 0 } => (1u64..40).prop_map(Op::Advance),
    ];
    proptest::collection::vec(op, 1..40)
}

/// The reference: value and deadline (model milliseconds) per key.
#[derive(Default)]
struct Model {
    now: u64,
    map: HashMap<Vec<u8>, (Vec<u8>, Option<u64>)>,
}

impl Model {
    fn live(&mut self, k: &[u8]) -> Option<(Vec<u8>, Option<u64>)> {
        let now = self.now;
        if self.map.get(k).is_some_and(|(_, d)| d.is_some_and(|d| d <= now)) {
            self.map.remove(k);
        }
        self.map.get(k).cloned()
    }
    fn entry(&mut self, k: &[u8]) -> Option<L2Entry> {
        let now = self.now;
        self.live(k)
            .map(|(value, d)| L2Entry { value, ttl: d.map(|d| Duration::from_millis(d - now)) })
    }
    fn set(&mut self, k: Vec<u8>, v: Vec<u8>, t: Option<u64>) {
        let d = t.map(|t| self.now + t);
        self.map.insert(k, (v, d));
    }
}

/// Checks a TTL the backend reported: exact where time is the test's, else within the TTL.
fn same(got: &Option<L2Entry>, want: &Option<L2Entry>, exact_ttl: bool) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(g), Some(w)) if g.value == w.value => match (g.ttl, w.ttl) {
            (None, None) => true,
            (Some(g), Some(w)) => {
                if exact_ttl {
                    g == w
                } else {
                    g <= w && g + Duration::from_secs(60) > w
                }
            }
            _ => false,
        },
        _ => false,
    }
}

/// Runs `ops` against `l2` and the model; `advance` moves the backend's clock.
pub(crate) async fn check(
    l2: &dyn L2,
    tag: &[u8],
    ops: &[Op],
    advance: &dyn Fn(u64),
    exact_ttl: bool,
) -> Result<(), TestCaseError> {
    let mut m = Model::default();
    for op in ops {
        match op {
            Op::Get(k) => {
                let k = key(tag, *k);
                let got = l2.get(&k).await.unwrap();
                let want = m.entry(&k);
                prop_assert!(same(&got, &want, exact_ttl), "{op:?}: got {got:?}, want {want:?}");
            }
            Op::GetMany(ks) => {
                let ks: Vec<Vec<u8>> = ks.iter().map(|k| key(tag, *k)).collect();
                let refs: Vec<&[u8]> = ks.iter().map(Vec::as_slice).collect();
                let got = l2.get_many(&refs).await.unwrap();
                prop_assert_eq!(got.len(), ks.len());
                for (g, k) in got.iter().zip(&ks) {
                    let want = m.entry(k);
                    prop_assert!(same(g, &want, exact_ttl), "{op:?}: got {g:?}, want {want:?}");
                }
            }
            Op::Set(k, v, t) => {
                l2.set(&key(tag, *k), &value(*v), ttl(*t)).await.unwrap();
                m.set(key(tag, *k), value(*v), *t);
            }
            Op::SetMany(items) => {
                let owned: Vec<(Vec<u8>, Vec<u8>, Option<u64>)> =
                    items.iter().map(|(k, v, t)| (key(tag, *k), value(*v), *t)).collect();
                let puts: Vec<Put<'_>> =
                    owned.iter().map(|(k, v, t)| Put::new(k, v, ttl(*t))).collect();
                l2.set_many(&puts).await.unwrap();
                for (k, v, t) in owned {
                    m.set(k, v, t);
                }
            }
            Op::Delete(k) => {
                let k = key(tag, *k);
                let want = m.live(&k).is_some();
                m.map.remove(&k);
                prop_assert_eq!(l2.delete(&k).await.unwrap(), want, "{:?}", op);
            }
            Op::DeleteMany(ks) => {
                let mut ks: Vec<Vec<u8>> = ks.iter().map(|k| key(tag, *k)).collect();
                let refs: Vec<&[u8]> = ks.iter().map(Vec::as_slice).collect();
                let got = l2.delete_many(&refs).await.unwrap();
                ks.sort();
                ks.dedup();
                let want = ks.iter().filter(|k| m.live(k).is_some()).count() as u64;
                for k in &ks {
                    m.map.remove(k);
                }
                prop_assert_eq!(got, want, "{:?}", op);
            }
            Op::DeletePrefix(k) => {
                let p = key(tag, *k);
                let got = l2.delete_prefix(&p).await.unwrap();
                let keys: Vec<Vec<u8>> =
                    m.map.keys().filter(|k| k.starts_with(&p)).cloned().collect();
                let want = keys.iter().filter(|k| m.live(k).is_some()).count() as u64;
                for k in &keys {
                    m.map.remove(k);
                }
                prop_assert_eq!(got, want, "{:?}", op);
            }
            Op::SetIfAbsent(k, v, t) => {
                let k = key(tag, *k);
                let want = m.live(&k).is_none();
                if want {
                    m.set(k.clone(), value(*v), *t);
                }
                prop_assert_eq!(
                    l2.set_if_absent(&k, &value(*v), ttl(*t)).await.unwrap(),
                    want,
                    "{:?}",
                    op
                );
            }
            Op::CompareAndDelete(k, v) => {
                let k = key(tag, *k);
                let want = m.live(&k).is_some_and(|(cur, _)| cur == value(*v));
                if want {
                    m.map.remove(&k);
                }
                prop_assert_eq!(
                    l2.compare_and_delete(&k, &value(*v)).await.unwrap(),
                    want,
                    "{:?}",
                    op
                );
            }
            Op::Advance(ms) => {
                m.now += ms;
                advance(*ms);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    #[test]
    fn memory_matches_the_model(ops in ops(true)) {
        let clock = ManualClock::new();
        let l2 = MemoryL2::builder(1 << 20).clock(clock.clone()).build().unwrap();
        let advance = |ms| clock.advance(Duration::from_millis(ms));
        futures::executor::block_on(check(&l2, b"m:", &ops, &advance, true))?;
    }
}
