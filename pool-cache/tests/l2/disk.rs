//! DiskL2 on a real redb file: conformance, model, reopen, kill -9 mid-write, corrupt
//! records, the byte bound, reclamation and bad paths.

use crate::conformance::{self, Harness};
use crate::model;
use pool_cache::{DiskDurability, DiskL2, L2, L2BuildErrorKind, ManualClock, Put};
use proptest::prelude::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A realistic "now" for the manual wall clock: 2026-01-01 in Unix nanoseconds.
const JAN_2026: u64 = 1_767_225_600 * 1_000_000_000;

fn manual() -> ManualClock {
    let clock = ManualClock::new();
    clock.set_nanos(JAN_2026);
    clock
}

struct Disk {
    l2: DiskL2,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

impl Harness for Disk {
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
        b"disk:"
    }
}

fn open(dir: &Path, clock: &ManualClock) -> DiskL2 {
    DiskL2::builder(dir.join("l2.redb")).max_value_size(4096).clock(clock.clone()).build().unwrap()
}

#[test]
fn conformance() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual();
    let l2 = open(dir.path(), &clock);
    futures::executor::block_on(conformance::run(&Disk { l2, clock, _dir: dir }));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn matches_the_model(ops in model::ops(true)) {
        let dir = tempfile::tempdir().unwrap();
        let clock = manual();
        let l2 = open(dir.path(), &clock);
        let advance = |ms| clock.advance(Duration::from_millis(ms));
        futures::executor::block_on(model::check(&l2, b"d:", &ops, &advance, true))?;
    }
}

#[test]
fn survives_a_reopen_with_expiry_in_wall_clock_time() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual();
    {
        let l2 = open(dir.path(), &clock);
        l2.set_sync(b"long", b"1", Duration::from_secs(3600)).unwrap();
        l2.set_sync(b"short", b"2", Duration::from_secs(10)).unwrap();
        l2.set_sync(b"forever", b"3", Duration::MAX).unwrap();
    }
    // The process "restarts" 20 s later: wall-clock expiry still holds.
    clock.advance(Duration::from_secs(20));
    let l2 = open(dir.path(), &clock);
    let long = l2.get_sync(b"long").unwrap().unwrap();
    assert_eq!((long.value.as_slice(), long.ttl), (&b"1"[..], Some(Duration::from_secs(3580))));
    assert_eq!(l2.get_sync(b"short").unwrap(), None);
    assert_eq!(l2.get_sync(b"forever").unwrap().unwrap().ttl, None);
    // The byte total survived too: reclaiming "short" brings it down by exactly its size.
    let before = l2.used_bytes();
    assert_eq!(l2.reclaim_expired(10).unwrap(), 1);
    assert_eq!(before - l2.used_bytes(), (5 + pool_cache::RECORD_HEADER_LEN + 1) as u64);
}

#[test]
fn expired_records_are_reclaimed_in_bounded_batches() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual();
    let l2 = open(dir.path(), &clock);
    let keys: Vec<Vec<u8>> = (0..300).map(|i| format!("k{i}").into_bytes()).collect();
    let puts: Vec<Put<'_>> =
        keys.iter().map(|k| Put::new(k, b"v", Duration::from_secs(1))).collect();
    l2.set_many_sync(&puts).unwrap();
    clock.advance(Duration::from_secs(2));
    // One write reclaims at most DEFAULT_RECLAIM_BATCH of them.
    l2.set_sync(b"other", b"v", Duration::MAX).unwrap();
    assert_eq!(l2.stats().expired, pool_cache::DEFAULT_RECLAIM_BATCH as u64);
    assert_eq!(l2.reclaim_expired(100).unwrap(), 100);
    assert_eq!(
        l2.reclaim_expired(1000).unwrap(),
        300 - 100 - pool_cache::DEFAULT_RECLAIM_BATCH as u64
    );
    assert_eq!(l2.used_bytes(), (5 + pool_cache::RECORD_HEADER_LEN + 1) as u64);
}

#[test]
fn the_byte_bound_evicts_soonest_expiring_then_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual();
    let per = (3 + pool_cache::RECORD_HEADER_LEN + 100) as u64; // "kNN" keys
    let l2 = DiskL2::builder(dir.path().join("l2.redb"))
        .max_bytes(per * 10)
        .max_value_size(100)
        .clock(clock.clone())
        .build()
        .unwrap();
    let v = [1u8; 100];
    for i in 0..5 {
        l2.set_sync(format!("k{i:02}").as_bytes(), &v, Duration::MAX).unwrap();
    }
    l2.set_sync(b"k05", &v, Duration::from_secs(60)).unwrap(); // expires soonest
    for i in 6..10 {
        l2.set_sync(format!("k{i:02}").as_bytes(), &v, Duration::from_secs(3600)).unwrap();
    }
    assert_eq!(l2.used_bytes(), per * 10);
    l2.set_sync(b"k10", &v, Duration::MAX).unwrap();
    assert_eq!(l2.get_sync(b"k05").unwrap(), None, "soonest expiry goes first");
    l2.set_sync(b"k11", &v, Duration::MAX).unwrap();
    assert_eq!(l2.get_sync(b"k06").unwrap(), None, "then the next soonest");
    for i in (7..10).chain(0..5) {
        assert!(l2.get_sync(format!("k{i:02}").as_bytes()).unwrap().is_some(), "k{i}");
    }
    assert!(l2.used_bytes() <= per * 10);
    assert_eq!(l2.stats().evicted, 2);
}

/// Writes a record straight into the data table, as a torn write or another program would.
fn poke(path: &Path, key: &[u8], bytes: &[u8]) {
    let db = redb::Database::create(path).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let def: redb::TableDefinition<'_, &[u8], &[u8]> =
            redb::TableDefinition::new("pool_l2_data");
        let mut table = txn.open_table(def).unwrap();
        table.insert(key, bytes).unwrap();
    }
    txn.commit().unwrap();
}

#[test]
fn corrupt_records_read_as_counted_misses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let clock = manual();
    let good = {
        let l2 = open(dir.path(), &clock);
        l2.set_sync(b"a", b"value-a", Duration::MAX).unwrap();
        l2.set_sync(b"b", b"value-b", Duration::MAX).unwrap();
        l2.set_sync(b"c", b"value-c", Duration::MAX).unwrap();
        l2.get_sync(b"c").unwrap().unwrap().value
    };
    assert_eq!(good, b"value-c");
    poke(&path, b"a", b"garbage");
    poke(&path, b"b", &[0u8; 40]);
    let l2 = open(dir.path(), &clock);
    assert_eq!(l2.get_sync(b"a").unwrap(), None);
    assert_eq!(l2.get_many_sync(&[b"b", b"c"]).unwrap().iter().filter(|e| e.is_some()).count(), 1);
    assert_eq!(l2.stats().corrupt, 2);
    // Writing over a corrupt record repairs it.
    l2.set_sync(b"a", b"fresh", Duration::MAX).unwrap();
    assert_eq!(l2.get_sync(b"a").unwrap().unwrap().value, b"fresh");
}

#[test]
fn a_record_moved_under_another_key_is_foreign() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let clock = manual();
    // A record valid for key "x" placed under key "y".
    let rec = {
        let l2 = open(dir.path(), &clock);
        l2.set_sync(b"x", b"secret", Duration::MAX).unwrap();
        drop(l2);
        let db = redb::Database::create(&path).unwrap();
        let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
        let def: redb::TableDefinition<'_, &[u8], &[u8]> =
            redb::TableDefinition::new("pool_l2_data");
        let table = txn.open_table(def).unwrap();
        redb::ReadableTable::get(&table, &b"x"[..]).unwrap().unwrap().value().to_vec()
    };
    poke(&path, b"y", &rec);
    let l2 = open(dir.path(), &clock);
    assert_eq!(l2.get_sync(b"y").unwrap(), None);
    assert_eq!(l2.stats().corrupt, 1);
}

#[test]
fn bad_paths_and_foreign_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = DiskL2::open(dir.path().join("no/such/dir/l2.redb")).unwrap_err();
    assert_eq!(err.kind(), L2BuildErrorKind::Path);
    assert!(err.to_string().contains("does not exist"), "{err}");

    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let err = DiskL2::open(file.join("l2.redb")).unwrap_err();
    assert_eq!(err.kind(), L2BuildErrorKind::Path);
    assert!(err.to_string().contains("is not a directory"), "{err}");

    assert_eq!(DiskL2::open(dir.path()).unwrap_err().kind(), L2BuildErrorKind::Path);

    let foreign = dir.path().join("foreign.redb");
    std::fs::write(&foreign, b"this is a text file, not a database\n".repeat(200)).unwrap();
    let err = DiskL2::open(&foreign).unwrap_err();
    assert_eq!(err.kind(), L2BuildErrorKind::NotADatabase);
    assert!(err.to_string().contains("is not a redb database"), "{err}");
    // Nothing was lost: the file is untouched.
    assert_eq!(std::fs::read(&foreign).unwrap().len(), 36 * 200);

    let b = |f: fn(pool_cache::DiskL2Builder) -> pool_cache::DiskL2Builder| {
        f(DiskL2::builder(dir.path().join("x.redb"))).build().unwrap_err().kind()
    };
    assert_eq!(b(|b| b.max_bytes(0)), L2BuildErrorKind::Capacity);
    assert_eq!(b(|b| b.max_bytes(10).max_value_size(11)), L2BuildErrorKind::Capacity);
    assert_eq!(
        b(|b| b.durability(DiskDurability::GroupCommit { checkpoint_interval: Duration::ZERO })),
        L2BuildErrorKind::ZeroDuration
    );
}

#[test]
fn a_second_open_of_the_same_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = DiskL2::open(dir.path().join("l2.redb")).unwrap();
    let err = DiskL2::open(dir.path().join("l2.redb")).unwrap_err();
    assert_eq!(err.kind(), L2BuildErrorKind::Open);
}

#[test]
fn every_write_durability_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    {
        let l2 = DiskL2::builder(&path).durability(DiskDurability::EveryWrite).build().unwrap();
        l2.set_sync(b"k", b"v", Duration::MAX).unwrap();
    }
    assert_eq!(DiskL2::open(&path).unwrap().get_sync(b"k").unwrap().unwrap().value, b"v");
}

const CHILD_ENV: &str = "POOL_L2_KILL_CHILD_PATH";
const CHILD_WRITES: u32 = 200_000;

fn child_value(i: u32) -> Vec<u8> {
    format!("value-{i}-{}", "x".repeat((i % 50) as usize)).into_bytes()
}

/// In the child: write keys forever (bounded), checkpointing every 100 writes and reporting
/// how many writes the checkpoint covered. The background checkpointer runs as well.
fn child_writer(path: &str) {
    let l2 = DiskL2::builder(path)
        .durability(DiskDurability::GroupCommit { checkpoint_interval: Duration::from_millis(20) })
        .build()
        .unwrap();
    for i in 0..CHILD_WRITES {
        l2.set_sync(format!("k{i}").as_bytes(), &child_value(i), Duration::MAX).unwrap();
        if (i + 1) % 100 == 0 {
            l2.checkpoint().unwrap();
            println!("durable {}", i + 1);
        }
    }
}

#[test]
fn kill_minus_nine_mid_write_keeps_every_checkpointed_write() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        child_writer(&path);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "disk::kill_minus_nine_mid_write_keeps_every_checkpointed_write",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut durable = 0u32;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("durable ") {
            durable = n.trim().parse().unwrap();
            if durable >= 2000 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the child wrote too slowly");
    }
    child.kill().unwrap(); // SIGKILL, mid-write: the child never stops writing on its own this early
    child.wait().unwrap();
    assert!(durable >= 2000, "child stopped early after {durable} writes");

    let l2 = DiskL2::open(&path).unwrap();
    for i in 0..durable {
        let got = l2.get_sync(format!("k{i}").as_bytes()).unwrap();
        assert_eq!(got.map(|e| e.value), Some(child_value(i)), "acknowledged write k{i} lost");
    }
    // Whatever else survived is whole, and the store takes writes.
    let mut extra = 0;
    for i in durable..durable + 5000 {
        if let Some(e) = l2.get_sync(format!("k{i}").as_bytes()).unwrap() {
            assert_eq!(e.value, child_value(i));
            extra += 1;
        }
    }
    assert_eq!(l2.stats().corrupt, 0);
    l2.set_sync(b"after", b"restart", Duration::MAX).unwrap();
    println!("kill -9 after {durable} checkpointed writes; {extra} later writes also survived");
}
