//! ShardedL2 over real redis-servers: placement, losing a node, recovery, adding a node.

use crate::{BULK_TIMEOUT, CALL_TIMEOUT, keys, sharded, sharded_with};
use pool_cache::{L2, Put, RedisL2};
use pool_cluster::{HealthEventKind, Rebalance};
use pool_core::CircuitState;
use pool_testkit::RedisFleet;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(600);

async fn write_all(l2: &impl L2, keys: &[Vec<u8>]) {
    for chunk in keys.chunks(5000) {
        let puts: Vec<Put<'_>> = chunk.iter().map(|k| Put::new(k, k, TTL)).collect();
        l2.set_many(&puts).await.expect("all nodes up");
    }
}

fn placement(fleet: &RedisFleet) -> HashMap<Vec<u8>, HashSet<String>> {
    let mut at: HashMap<Vec<u8>, HashSet<String>> = HashMap::new();
    for i in 0..fleet.len() {
        for k in fleet.scan_keys(i).expect("scan") {
            at.entry(k).or_default().insert(fleet.url(i));
        }
    }
    at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placement_of_100k_keys_r1_and_r2() {
    let Some(fleet) = RedisFleet::start_or_skip("placement_of_100k_keys_r1_and_r2", 3) else {
        return;
    };
    let all = keys(0..100_000);
    for r in [1, 2] {
        for i in 0..fleet.len() {
            fleet.command(i, &["FLUSHALL"]).expect("flush");
        }
        let l2 = sharded_with(&fleet.urls(), r, BULK_TIMEOUT);
        write_all(&l2, &all).await;
        let at = placement(&fleet);
        assert_eq!(at.len(), all.len(), "r = {r}: every key is stored somewhere");
        let mut per_node: HashMap<String, usize> = HashMap::new();
        for k in &all {
            let owners: HashSet<String> = l2.owners(k).expect("nodes").into_iter().collect();
            assert_eq!(owners.len(), r);
            assert_eq!(at.get(k), Some(&owners), "r = {r}: key {k:?} lives exactly on its owners");
            for o in owners {
                *per_node.entry(o).or_default() += 1;
            }
        }
        // 160 vnodes per node keep three nodes within a few percent of a third each.
        for (node, n) in per_node {
            let share = n as f64 / (all.len() * r) as f64;
            assert!((0.25..0.42).contains(&share), "r = {r}: node {node} holds {share:.3}");
        }
        // Every key reads back through the ring, in per-node batches.
        for chunk in all.chunks(5000) {
            let ks: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
            let got = l2.get_many(&ks).await.expect("all up");
            assert!(got.iter().zip(chunk).all(|(g, k)| g.as_ref().is_some_and(|e| &e.value == k)));
        }
    }
}

/// Losing a node with r = 2, then restarting it: every key reads, the breaker opens within
/// 1.5 s, only the dead node's keys re-route, no call outlives its bound, the node rejoins
/// after the recovery threshold and keys written while it was down are readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_and_recovering_a_node_with_r2() {
    let Some(mut fleet) = RedisFleet::start_or_skip("losing_and_recovering_a_node_with_r2", 3)
    else {
        return;
    };
    let l2 = sharded(&fleet.urls(), 2);
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    let _sub = l2.health_monitor().subscribe(move |e| {
        log.lock().expect("log").push((e.node.clone(), e.kind, Instant::now()));
    });
    let _prober = l2.spawn_prober(&tokio::runtime::Handle::current());
    let before = keys(0..3000);
    write_all(&l2, &before).await;

    let dead = fleet.url(1);
    fleet.kill(1).expect("kill");
    let killed_at = Instant::now();
    // Every read goes on while the node dies: each call bounded, every key found.
    let call_bound = CALL_TIMEOUT * 3 + Duration::from_millis(200);
    let mut rounds = 0;
    while killed_at.elapsed() < Duration::from_millis(1500) && rounds < 200 {
        rounds += 1;
        for chunk in before.chunks(500) {
            let ks: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
            let t = Instant::now();
            let got = l2.get_many(&ks).await.expect("r = 2: one owner of each key is up");
            assert!(t.elapsed() < call_bound, "get_many took {:?}", t.elapsed());
            assert!(got.iter().all(Option::is_some), "a key was lost with one node down");
        }
        let t = Instant::now();
        let k = &before[rounds % before.len()];
        assert!(l2.get(k).await.expect("one owner up").is_some());
        assert!(t.elapsed() < call_bound, "get took {:?}", t.elapsed());
        let health = l2.node_health(&dead).expect("placed");
        if health.breaker().state() == CircuitState::Open && !health.is_up() {
            break;
        }
    }
    let health = l2.node_health(&dead).expect("placed");
    assert_eq!(health.breaker().state(), CircuitState::Open, "breaker open within 1.5 s");
    assert!(!health.is_up(), "marked down within 1.5 s");
    assert!(killed_at.elapsed() < Duration::from_millis(1500) + call_bound);

    // Only the dead node's keys re-route.
    let mut rerouted = 0;
    for k in &before {
        let owners = l2.owners(k).expect("nodes");
        let route = l2.route(k);
        assert!(!route.contains(&dead));
        if owners.contains(&dead) {
            rerouted += 1;
            let survivors: Vec<&String> = owners.iter().filter(|o| **o != dead).collect();
            assert_eq!(route.iter().take(survivors.len()).collect::<Vec<_>>(), survivors);
        } else {
            assert_eq!(route, owners, "a key the dead node does not own must not move");
        }
    }
    assert!(rerouted > 0);

    // Writes while it is down land on the routes.
    let during = keys(3000..4000);
    write_all(&l2, &during).await;
    let at = placement_of(fleet_alive(&fleet, 1));
    for k in &during {
        let route: HashSet<String> = l2.route(k).into_iter().collect();
        assert_eq!(at.get(k), Some(&route), "written to its current route");
    }

    // Restart: empty, back up after two good probes.
    fleet.restart(1).expect("restart");
    let restarted_at = Instant::now();
    while !l2.node_health(&dead).expect("placed").is_up()
        && restarted_at.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(l2.node_health(&dead).expect("placed").is_up(), "rejoined within 5 s");
    let kinds: Vec<HealthEventKind> = events
        .lock()
        .expect("log")
        .iter()
        .filter(|(n, _, _)| *n == dead)
        .map(|(_, k, _)| *k)
        .collect();
    assert_eq!(kinds, [HealthEventKind::Down, HealthEventKind::Up]);
    let up_at = events.lock().expect("log").last().map(|e| e.2).expect("an up event");
    // Two probes 100 ms apart had to succeed first.
    assert!(up_at.duration_since(restarted_at) >= Duration::from_millis(90));

    // Keys written while it was down (and before) read back; the restarted node is repaired.
    let repairs_before = l2.sharded_stats().repairs;
    for chunk in before.iter().chain(&during).collect::<Vec<_>>().chunks(500) {
        let ks: Vec<&[u8]> = chunk.iter().map(|k| k.as_slice()).collect();
        let got = l2.get_many(&ks).await.expect("all up");
        assert!(got.iter().all(Option::is_some), "a key was lost across the restart");
    }
    assert!(l2.sharded_stats().repairs > repairs_before, "read-repair refilled the node");
    let refilled: HashSet<Vec<u8>> = fleet.scan_keys(1).expect("scan").into_iter().collect();
    let owned_first = before.iter().filter(|k| l2.owners(k).expect("nodes")[0] == dead);
    for k in owned_first {
        assert!(refilled.contains(k), "a key the node owns first was repaired onto it");
    }
}

/// A view of the fleet without server `skip` (scan only the live servers).
fn fleet_alive(fleet: &RedisFleet, skip: usize) -> AliveFleet<'_> {
    AliveFleet { fleet, skip }
}

struct AliveFleet<'a> {
    fleet: &'a RedisFleet,
    skip: usize,
}

fn placement_alive(f: &AliveFleet<'_>) -> HashMap<Vec<u8>, HashSet<String>> {
    let mut at: HashMap<Vec<u8>, HashSet<String>> = HashMap::new();
    for i in (0..f.fleet.len()).filter(|i| *i != f.skip) {
        for k in f.fleet.scan_keys(i).expect("scan") {
            at.entry(k).or_default().insert(f.fleet.url(i));
        }
    }
    at
}

fn placement_of(f: AliveFleet<'_>) -> HashMap<Vec<u8>, HashSet<String>> {
    placement_alive(&f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_fourth_node_moves_a_quarter_to_it() {
    let Some(fleet) = RedisFleet::start_or_skip("adding_a_fourth_node_moves_a_quarter_to_it", 4)
    else {
        return;
    };
    let urls = fleet.urls();
    let l2 = sharded_with(&urls[..3], 1, BULK_TIMEOUT);
    let all = keys(0..20_000);
    write_all(&l2, &all).await;
    let owner_before: Vec<String> =
        all.iter().map(|k| l2.owners(k).expect("n")[0].clone()).collect();
    let new = urls[3].clone();
    let backend = RedisL2::builder(new.clone()).build().expect("url parses");
    l2.add_node(new.clone(), backend, Rebalance::Lazy).expect("new id");
    let moved: Vec<&Vec<u8>> = all
        .iter()
        .zip(&owner_before)
        .filter(|(k, before)| l2.owners(k).expect("n")[0] != **before)
        .map(|(k, _)| k)
        .collect();
    for k in &moved {
        assert_eq!(l2.owners(k).expect("n")[0], new, "keys move only to the new node");
    }
    let fraction = moved.len() as f64 / all.len() as f64;
    assert!(fraction > 0.15 && fraction <= 1.25 * 0.25, "moved {fraction:.3} of the keys");

    // Lazy: a sample of moved keys reads from the previous owner and is copied over.
    let sample: Vec<&[u8]> = moved.iter().take(200).map(|k| k.as_slice()).collect();
    let got = l2.get_many(&sample).await.expect("up");
    assert!(got.iter().all(Option::is_some));
    assert_eq!(l2.sharded_stats().previous_owner_hits, sample.len() as u64);

    // Eager: copy the rest, listing keys by scanning the old servers.
    let listed: Vec<Vec<u8>> = (0..3).flat_map(|i| fleet.scan_keys(i).expect("scan")).collect();
    let report = l2.clone().copy_moved(listed, 32).await.expect("copy");
    assert_eq!(report.examined, all.len() as u64);
    assert_eq!(report.moved, moved.len() as u64);
    assert_eq!(report.copied + report.already_there, report.moved);
    assert_eq!(report.already_there, sample.len() as u64);
    assert_eq!(report.failed + report.gone, 0);
    assert!(l2.finish_rebalance());
    let on_new: HashSet<Vec<u8>> = fleet.scan_keys(3).expect("scan").into_iter().collect();
    let expected: HashSet<Vec<u8>> = moved.iter().map(|k| (*k).clone()).collect();
    assert_eq!(on_new, expected, "the new node holds exactly the moved keys");
    // After the rebalance every key reads from its new owner alone.
    for chunk in all.chunks(5000) {
        let ks: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        assert!(l2.get_many(&ks).await.expect("up").iter().all(Option::is_some));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_l2_passes_the_conformance_check() {
    let Some(fleet) = RedisFleet::start_or_skip("sharded_l2_passes_the_conformance_check", 3)
    else {
        return;
    };
    for r in [1, 2] {
        let l2 = sharded_with(&fleet.urls(), r, BULK_TIMEOUT);
        crate::conformance::check(&l2, &format!("r{r}")).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn during_a_lazy_rebalance_get_many_reads_every_previous_owner_as_get_does() {
    use pool_cache::MemoryL2;
    use pool_cluster::ShardedL2;
    let nodes: Vec<Arc<MemoryL2>> =
        (0..3).map(|_| Arc::new(MemoryL2::new(1 << 20).expect("capacity"))).collect();
    let mut b = ShardedL2::builder().replicas(2);
    for (i, n) in nodes.iter().enumerate() {
        b = b.node(format!("n{i}"), n.clone());
    }
    let l2 = b.build().expect("valid");
    let all = keys(0..2_000);
    write_all(&l2, &all).await;
    let before: Vec<Vec<String>> = all.iter().map(|k| l2.owners(k).expect("nodes")).collect();
    l2.add_node("n3", MemoryL2::new(1 << 20).expect("capacity"), Rebalance::Lazy).expect("new id");
    // Keys whose first previous owner is still an owner and whose second is not: drop the
    // copy on the first, so that only the second (a previous owner) holds the key.
    let picked: Vec<(&Vec<u8>, &Vec<String>)> = all
        .iter()
        .zip(&before)
        .filter(|(k, old)| {
            let now = l2.owners(k).expect("nodes");
            now.contains(&old[0]) && !now.contains(&old[1])
        })
        .take(50)
        .collect();
    assert!(!picked.is_empty(), "the new node took some second copies");
    for (k, old) in &picked {
        let first: usize = old[0][1..].parse().expect("n<i>");
        assert!(nodes[first].delete(k).await.expect("in memory"));
    }
    let only_on_previous: Vec<&[u8]> = picked.iter().map(|(k, _)| k.as_slice()).collect();
    let got = l2.get_many(&only_on_previous).await.expect("answered");
    assert!(got.iter().all(Option::is_some), "get_many finds what get finds");
}
