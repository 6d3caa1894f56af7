//! The flagship pipeline: expensive work on the compute pool, memoized in a tiered cache,
//! watched by metrics. (Grows as the crates land.)

fn main() {
    println!(
        "pool workspace pipeline: crates linked: pool-metrics, pool-core, pool-cache, pool-cluster"
    );
}
