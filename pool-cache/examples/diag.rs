#![allow(missing_docs, clippy::unwrap_used)]
use pool_cache::Cache;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let cap: u64 = std::env::args().nth(2).unwrap().parse().unwrap();
    let keys: Vec<u64> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let c: Cache<u64, u64> = Cache::builder(cap).seed(1).build().unwrap();
    let mut hits = 0;
    for (i, &k) in keys.iter().enumerate() {
        if c.get(&k).is_some() {
            hits += 1
        } else {
            c.insert(k, k)
        }
        if (i + 1) % 500 == 0 {
            let s = c.stats();
            println!(
                "{} hits {} window {:?} rej {} ev {}",
                i + 1,
                hits,
                c.window_capacity(),
                s.admission_rejections,
                s.evictions
            );
            hits = 0;
        }
    }
}
