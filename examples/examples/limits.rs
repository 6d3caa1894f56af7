//! Resource pool, rate limiter and circuit breaker around a flaky "database".
//!
//! `cargo run -p pool-examples --example limits`

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pool_core::{CallError, CircuitBreaker, Manager, RateLimiter, ResourcePool, SlidingWindow};

/// A stand-in for a database driver: connections are numbered, and the server starts failing
/// after its 30th query.
#[derive(Debug, Default)]
struct Db {
    opened: AtomicU64,
    queries: AtomicU64,
}

#[derive(Debug)]
struct Conn {
    id: u64,
}

impl Manager for &'static Db {
    type Resource = Conn;
    type Error = String;
    fn create(&self, _timeout: Duration) -> Result<Conn, String> {
        Ok(Conn { id: self.opened.fetch_add(1, Ordering::Relaxed) })
    }
}

impl Db {
    fn query(&self, conn: &Conn) -> Result<u64, String> {
        let n = self.queries.fetch_add(1, Ordering::Relaxed);
        if n >= 30 { Err(format!("connection {} reset by peer", conn.id)) } else { Ok(n) }
    }
}

fn main() -> anyhow::Result<()> {
    let db: &'static Db = Box::leak(Box::default());
    let pool = ResourcePool::builder(db).max_size(4).max_uses(Some(10)).build()?;
    let limiter = RateLimiter::builder().per_second(10.0).burst(40).build()?;
    let breaker = CircuitBreaker::builder()
        .sliding_window(SlidingWindow::CountBased(10))
        .minimum_calls(5)
        .failure_rate_threshold(50.0)
        .build()?;

    let (mut ok, mut failed, mut refused, mut limited) = (0, 0, 0, 0);
    for _ in 0..60 {
        if limiter.check().is_err() {
            limited += 1;
            continue;
        }
        match breaker.call(|| {
            let conn = pool.get().map_err(|e| e.to_string())?;
            db.query(&conn)
        }) {
            Ok(_) => ok += 1,
            Err(CallError::NotPermitted(_)) => refused += 1,
            Err(_) => failed += 1, // CallError::Inner: the query itself failed
        }
    }
    println!(
        "{ok} ok, {failed} failed, {refused} refused by the open breaker, {limited} rate-limited"
    );
    println!("breaker is now {:?}", breaker.state());
    let stats = pool.stats();
    println!(
        "pool: {} connections opened (each retired after 10 uses), {} idle, {} in use",
        db.opened.load(Ordering::Relaxed),
        stats.idle,
        stats.in_use
    );
    anyhow::ensure!(refused > 0, "the breaker never opened");
    // Every connection served at most 10 uses: the pool opened enough of them.
    let uses = ok + failed;
    let opened = db.opened.load(Ordering::Relaxed);
    anyhow::ensure!(opened * 10 >= uses, "{opened} connections served {uses} uses");
    anyhow::ensure!(limited > 0, "the rate limiter never refused");
    Ok(())
}
