//! An L2 on Redis servers, sharded by the hash ring: each key on its owners and nowhere else,
//! read back through the sharded L2. It starts no server: give it URLs, or it explains how and exits 0.
//!
//! ```sh
//! redis-server --port 7001 --save '' --appendonly no --daemonize yes
//! redis-server --port 7002 --save '' --appendonly no --daemonize yes
//! redis-server --port 7003 --save '' --appendonly no --daemonize yes
//! cargo run -p pool-examples --example redis_l2 -- redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003
//! # or: POOL_REDIS_URLS=redis://127.0.0.1:7001,... cargo run -p pool-examples --example redis_l2
//! redis-cli -p 7001 shutdown nosave   # and 7002, 7003 when done
//! ```
//!
//! `pool_cluster::ShardedL2` routes each key to its owners on the hash ring (two copies here
//! from two servers up), with node health, breakers and failover.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, ensure};
use pool_cache::{BlockingL2, L2Namespace, RedisL2};
use pool_cluster::ShardedL2;

fn main() -> anyhow::Result<()> {
    let urls: Vec<String> = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("POOL_REDIS_URLS").ok())
        .map(|s| s.split(',').map(str::trim).filter(|u| !u.is_empty()).map(String::from).collect())
        .unwrap_or_default();
    if urls.is_empty() {
        println!(
            "redis_l2: no Redis URLs given, nothing to do.\n\
             Start servers with `redis-server --port 7001 --save '' --appendonly no --daemonize yes`\n\
             (and 7002, 7003), then run\n  cargo run -p pool-examples --example redis_l2 -- \
             redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003\n\
             or set POOL_REDIS_URLS to the same list."
        );
        return Ok(());
    }

    // A ShardedL2: the servers on the hash ring, two copies of each key when there are two or
    // more servers, every node call bounded and failed over. BlockingL2 drives it from sync
    // code (a small runtime thread of its own).
    let replicas = urls.len().min(2);
    let mut builder =
        ShardedL2::builder().replicas(replicas).call_timeout(Duration::from_millis(500));
    for url in &urls {
        builder = builder.redis_node(url.clone());
    }
    let sharded = Arc::new(builder.build().context("bad Redis URLs")?);
    let l2 = BlockingL2::with_timeout(sharded.clone(), Duration::from_secs(3))?;
    l2.health().context("no server answers; is redis-server running?")?;

    // One plain handle per server, to look at where the keys landed.
    let mut direct = Vec::with_capacity(urls.len());
    for url in &urls {
        let redis = RedisL2::builder(url.clone()).response_timeout(Duration::from_millis(500));
        direct.push(BlockingL2::with_timeout(redis.build()?, Duration::from_secs(2))?);
    }

    // Write 300 keys under a namespace this example alone uses, and read them back.
    let ns = L2Namespace::new("redis-l2-example", 1)?;
    let ttl = Duration::from_secs(60);
    for i in 0..300u32 {
        l2.set(&ns.key(format!("item:{i}")), &i.to_le_bytes(), ttl)?;
    }
    let mut per_node = vec![0u32; urls.len()];
    for i in 0..300u32 {
        let key = ns.key(format!("item:{i}"));
        let got = l2.get(&key)?.map(|e| e.value);
        ensure!(got.as_deref() == Some(&i.to_le_bytes()[..]), "item:{i} read back {got:?}");
        // The key is on each of its owners in the ring, and nowhere else.
        let owners = sharded.owners(&key)?;
        ensure!(owners.len() == replicas, "item:{i} has owners {owners:?}");
        for (n, url) in urls.iter().enumerate() {
            let here = direct[n].get(&key)?.is_some();
            ensure!(here == owners.contains(url), "item:{i} on {url}: {here}, owners {owners:?}");
            per_node[n] += u32::from(here);
        }
    }
    for (url, n) in urls.iter().zip(&per_node) {
        println!("{url}: {n} of 300 keys");
    }
    ensure!(per_node.iter().sum::<u32>() == 300 * replicas as u32, "copies missing");

    // Clean up: delete the namespace on every server.
    let deleted = l2.delete_prefix(ns.prefix())?;
    println!(
        "{replicas} cop{} of each key, each on its ring owners; deleted {deleted} keys",
        if replicas == 1 { "y" } else { "ies" }
    );
    Ok(())
}
