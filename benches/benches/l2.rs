//! Criterion benches for the L2 tier, each next to its anchor in the same group, so ratios
//! are read off one report (medians; the machine is shared, so quote same-run ratios only):
//!
//! * `l2/redis_get_100`: `RedisL2::get_many` of 100 keys (one `MGET` + 100 `PTTL`s in one
//!   pipeline) against 100 sequential `GET`s on one redis-rs connection, and a raw `MGET`.
//! * `l2/redis_batch_2_tasks`: keys per second of `get_many(100)` from 2 tokio tasks. The
//!   anchor is `redis-benchmark -t get -P 100 -c 2 -d 100` on the same server, run just before
//!   the group and printed to stderr.
//! * `l2/disk_get`: `DiskL2::get_sync` against a raw redb read transaction of the same key
//!   in a table of the same shape (10K records, 100-byte values).
//! * `l2/disk_set_many_1000`: `DiskL2::set_many_sync` of 1000 records against a raw redb
//!   write transaction of the same 1000 records into the same two tables (data + expiry
//!   index), both committed with `Durability::None`.
//! * `l2/disk_set`: one `set` with group commit next to one with an fsync per write.
//! * `l2/codec/size=N`: encode + decode through `ValueCodec` (compression off, and lz4 above
//!   the default threshold) against raw postcard; sizes and ratios printed to stderr.
//!
//! `cargo bench -p pool-benches --bench l2`
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pool_cache::{DiskDurability, DiskL2, L2, Put, RedisL2, ValueCodec};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redb::{Database, Durability, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SEED: u64 = 0x00C0_FFEE;
const VALUE: usize = 100;
const RESIDENT: usize = 10_000;
const HOUR: Duration = Duration::from_secs(3600);

const DATA: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("anchor_data");
const EXPIRY: TableDefinition<'_, (u64, u64), &[u8]> = TableDefinition::new("anchor_expiry");

fn key(i: usize) -> Vec<u8> {
    format!("key:{i:08}").into_bytes()
}

fn value(rng: &mut StdRng) -> Vec<u8> {
    (0..VALUE).map(|_| rng.random()).collect()
}

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

fn redis(c: &mut Criterion) {
    let fleet = match pool_testkit::RedisFleet::start(1) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("l2/redis_*: skipped ({e})");
            return;
        }
    };
    let rt = runtime(2);
    let url = fleet.url(0);
    let l2 = Arc::new(RedisL2::new(url.clone()).unwrap());
    let mut rng = StdRng::seed_from_u64(SEED);
    let keys: Vec<Vec<u8>> = (0..100).map(key).collect();
    rt.block_on(async {
        let owned: Vec<(Vec<u8>, Vec<u8>)> =
            keys.iter().map(|k| (k.clone(), value(&mut rng))).collect();
        let puts: Vec<Put<'_>> = owned.iter().map(|(k, v)| Put::new(k, v, HOUR)).collect();
        l2.set_many(&puts).await.unwrap();
    });
    // The anchor connection: redis-rs's own manager, TCP_NODELAY on as in RedisL2.
    let raw = rt.block_on(async {
        let info = redis::IntoConnectionInfo::into_connection_info(url.as_str())
            .unwrap()
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info).unwrap();
        redis::aio::ConnectionManager::new(client).await.unwrap()
    });
    let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();

    // Each timing runs all its iterations inside one `block_on`, so no runtime entry is timed.
    let mut g = c.benchmark_group("l2/redis_get_100");
    g.throughput(Throughput::Elements(100));
    g.bench_function("anchor_100_sequential_get", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut conn = raw.clone();
                let start = Instant::now();
                for _ in 0..iters {
                    for k in &keys {
                        let v: Option<Vec<u8>> = redis::cmd("GET")
                            .arg(k.as_slice())
                            .query_async(&mut conn)
                            .await
                            .unwrap();
                        black_box(v);
                    }
                }
                start.elapsed()
            })
        });
    });
    g.bench_function("anchor_raw_mget", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut conn = raw.clone();
                let start = Instant::now();
                for _ in 0..iters {
                    let v: Vec<Option<Vec<u8>>> =
                        redis::cmd("MGET").arg(&keys).query_async(&mut conn).await.unwrap();
                    black_box(v);
                }
                start.elapsed()
            })
        });
    });
    g.bench_function("redis_l2_get_many", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(l2.get_many(&refs).await.unwrap());
                }
                start.elapsed()
            })
        });
    });
    g.finish();

    // Same server, same run: redis-benchmark's pipelined GETs from 2 clients.
    let port = fleet.port(0).unwrap().to_string();
    match std::process::Command::new("redis-benchmark")
        .args([
            "-p", &port, "-t", "set,get", "-P", "100", "-c", "2", "-n", "2000000", "-d", "100",
            "-q",
        ])
        .output()
    {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout).replace('\r', "\n");
            let get = text.lines().rfind(|l| l.starts_with("GET:")).unwrap_or("GET: ?");
            eprintln!(
                "l2/redis_batch_2_tasks anchor: redis-benchmark -t get -P 100 -c 2 -d 100: {get}"
            );
        }
        Err(e) => eprintln!("l2/redis_batch_2_tasks anchor: redis-benchmark unavailable ({e})"),
    }
    const ROUNDS: u64 = 20;
    let mut g = c.benchmark_group("l2/redis_batch_2_tasks");
    g.throughput(Throughput::Elements(2 * ROUNDS * 100));
    g.bench_function("redis_l2_get_many_100_x2_tasks", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = (0..2)
                    .map(|_| {
                        let l2 = Arc::clone(&l2);
                        let keys = keys.clone();
                        tokio::spawn(async move {
                            let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
                            for _ in 0..iters * ROUNDS {
                                black_box(l2.get_many(&refs).await.unwrap());
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                start.elapsed()
            })
        });
    });
    g.finish();
}

/// A raw redb store with the same tables as DiskL2's (data + expiry index), the anchor.
fn raw_redb(dir: &std::path::Path, records: &[(Vec<u8>, Vec<u8>)]) -> Database {
    let db = Database::create(dir.join("anchor.redb")).unwrap();
    raw_write(&db, records, 0);
    // A durable checkpoint, as DiskL2's background thread makes one, so both files are read
    // in the same state.
    db.begin_write().unwrap().commit().unwrap();
    db
}

/// The anchor's write: what DiskL2 does per record minus the checksum and the running totals
/// (insert the record, drop the replaced record's index entry, index the new one).
fn raw_write(db: &Database, records: &[(Vec<u8>, Vec<u8>)], seq0: u64) {
    let mut txn = db.begin_write().unwrap();
    txn.set_durability(Durability::None).unwrap();
    {
        let mut data = txn.open_table(DATA).unwrap();
        let mut expiry = txn.open_table(EXPIRY).unwrap();
        for (i, (k, v)) in records.iter().enumerate() {
            let seq = seq0 + i as u64;
            let mut rec = Vec::with_capacity(24 + v.len());
            rec.extend_from_slice(&[0; 8]);
            rec.extend_from_slice(&u64::MAX.to_le_bytes());
            rec.extend_from_slice(&seq.to_le_bytes());
            rec.extend_from_slice(v);
            let old = data.insert(k.as_slice(), rec.as_slice()).unwrap().map(|o| {
                let o = o.value();
                (
                    u64::from_le_bytes(o[8..16].try_into().unwrap()),
                    u64::from_le_bytes(o[16..24].try_into().unwrap()),
                )
            });
            if let Some(at) = old {
                expiry.remove(at).unwrap();
            }
            expiry.insert((u64::MAX, seq), k.as_slice()).unwrap();
        }
    }
    txn.commit().unwrap();
}

fn disk(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(SEED);
    let records: Vec<(Vec<u8>, Vec<u8>)> =
        (0..RESIDENT).map(|i| (key(i), value(&mut rng))).collect();
    let ours = DiskL2::open(dir.path().join("ours.redb")).unwrap();
    for chunk in records.chunks(1000) {
        let puts: Vec<Put<'_>> = chunk.iter().map(|(k, v)| Put::new(k, v, Duration::MAX)).collect();
        ours.set_many_sync(&puts).unwrap();
    }
    let anchor = raw_redb(dir.path(), &records);
    let probe: Vec<usize> = (0..1024).map(|_| rng.random_range(0..RESIDENT)).collect();

    let mut g = c.benchmark_group("l2/disk_get");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("anchor_raw_redb_read", |b| {
        b.iter(|| {
            i = (i + 1) % probe.len();
            let txn = anchor.begin_read().unwrap();
            let table = txn.open_table(DATA).unwrap();
            let v = redb::ReadableTable::get(&table, records[probe[i]].0.as_slice())
                .unwrap()
                .map(|g| g.value()[24..].to_vec());
            black_box(v)
        });
    });
    let mut i = 0;
    g.bench_function("disk_l2_get_sync", |b| {
        b.iter(|| {
            i = (i + 1) % probe.len();
            black_box(ours.get_sync(&records[probe[i]].0).unwrap())
        });
    });
    g.finish();

    let batch = &records[..1000];
    let puts: Vec<Put<'_>> = batch.iter().map(|(k, v)| Put::new(k, v, Duration::MAX)).collect();
    let mut g = c.benchmark_group("l2/disk_set_many_1000");
    g.throughput(Throughput::Elements(1000));
    let mut seq = 1u64 << 40;
    g.bench_function("anchor_raw_redb_txn", |b| {
        b.iter(|| {
            seq += 1000;
            raw_write(&anchor, batch, seq);
        });
    });
    g.bench_function("disk_l2_set_many", |b| b.iter(|| ours.set_many_sync(&puts).unwrap()));
    g.finish();

    let durable = DiskL2::builder(dir.path().join("durable.redb"))
        .durability(DiskDurability::EveryWrite)
        .build()
        .unwrap();
    let v = &records[0].1;
    let mut g = c.benchmark_group("l2/disk_set");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("fsync_every_write", |b| {
        b.iter(|| {
            i = (i + 1) % RESIDENT;
            durable.set_sync(&records[i].0, v, HOUR).unwrap();
        });
    });
    let mut i = 0;
    g.bench_function("group_commit", |b| {
        b.iter(|| {
            i = (i + 1) % RESIDENT;
            ours.set_sync(&records[i].0, v, HOUR).unwrap();
        });
    });
    g.finish();
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Doc {
    id: u64,
    title: String,
    tags: Vec<String>,
    body: String,
}

/// A document whose postcard encoding is about `size` bytes of word-like text.
fn doc(size: usize, rng: &mut StdRng) -> Doc {
    const WORDS: [&str; 16] = [
        "cache", "pool", "value", "request", "user", "order", "the", "and", "latency", "disk",
        "redis", "key", "time", "shard", "ring", "node",
    ];
    let mut body = String::new();
    while body.len() < size.saturating_sub(40) {
        body.push_str(WORDS[rng.random_range(0..WORDS.len())]);
        body.push(' ');
    }
    Doc { id: rng.random(), title: "a title".into(), tags: vec!["x".into(), "yz".into()], body }
}

fn codec(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(SEED);
    for size in [100usize, 10_000] {
        let d = doc(size, &mut rng);
        let plain = ValueCodec::new().compress_above(None);
        let lz4 = ValueCodec::new();
        let raw_len = postcard::to_allocvec(&d).unwrap().len();
        let lz4_len = lz4.encode(&d).unwrap().len();
        eprintln!(
            "l2/codec/size={size}: postcard {raw_len} B, with header {} B, lz4 {lz4_len} B (ratio {:.2})",
            plain.encode(&d).unwrap().len(),
            raw_len as f64 / lz4_len as f64
        );
        let mut g = c.benchmark_group(format!("l2/codec/size={size}"));
        g.throughput(Throughput::Bytes(raw_len as u64));
        g.bench_function("anchor_raw_postcard", |b| {
            b.iter(|| {
                let bytes = postcard::to_allocvec(black_box(&d)).unwrap();
                black_box(postcard::from_bytes::<Doc>(&bytes).unwrap())
            });
        });
        g.bench_function("value_codec_plain", |b| {
            b.iter(|| {
                let bytes = plain.encode(black_box(&d)).unwrap();
                black_box(plain.decode::<Doc>(&bytes).unwrap())
            });
        });
        g.bench_function("value_codec_lz4_default", |b| {
            b.iter(|| {
                let bytes = lz4.encode(black_box(&d)).unwrap();
                black_box(lz4.decode::<Doc>(&bytes).unwrap())
            });
        });
        g.finish();
    }
    // What lz4 costs per size, to place the default threshold.
    let mut g = c.benchmark_group("l2/lz4_round_trip");
    for size in [256usize, 1024, 4096] {
        let d = doc(size, &mut rng);
        let bytes = postcard::to_allocvec(&d).unwrap();
        let packed = lz4_flex::block::compress(&bytes);
        eprintln!("l2/lz4_round_trip/{size}: {} -> {} B", bytes.len(), packed.len());
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &bytes, |b, bytes| {
            b.iter(|| {
                let packed = lz4_flex::block::compress(black_box(bytes));
                black_box(lz4_flex::block::decompress(&packed, bytes.len()).unwrap())
            });
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = codec, disk, redis }
criterion_main!(benches);
