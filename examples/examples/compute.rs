//! The compute pool: result handles, panic isolation, deadlines, nested submission and a
//! streaming map whose memory stays bounded however long the input is.
//!
//! `cargo run -p pool-examples --example compute`

use std::time::{Duration, Instant};

use pool_core::{ComputePool, TaskError};

fn fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}

fn main() -> anyhow::Result<()> {
    // The default hook would print the caught panic below with a backtrace; one line will do.
    std::panic::set_hook(Box::new(|info| eprintln!("(a task panicked: {info})")));
    let pool = ComputePool::new(2)?;

    // A result handle: join it (or `.await` it on any executor).
    let answer = pool.submit(|| fib(30))?;
    // A panicking task is caught: its handle says why, and the pool keeps its threads.
    let broken = pool.submit(|| -> u64 { panic!("division by zero in report 7") })?;
    // A task still queued when its deadline passes is never run.
    let late = pool.submit_before(Instant::now(), || fib(40))?;
    let (answer, broken, late) = (answer.join(), broken.join(), late.join());
    println!("fib(30) = {answer:?}");
    println!("broken task: {broken:?}");
    println!("late task: {late:?}");
    anyhow::ensure!(answer == Ok(832_040), "fib(30) gave {answer:?}");
    anyhow::ensure!(matches!(broken, Err(TaskError::Panicked(_))), "the panic was not caught");
    anyhow::ensure!(matches!(late, Err(TaskError::Expired)), "the late task ran: {late:?}");

    // Nested submission: a task that submits to its own pool and joins the result runs the
    // inner task inline if no worker is free, so recursion cannot deadlock.
    let inner_pool = pool.clone();
    let nested = pool.submit(move || {
        let inner = inner_pool.submit(|| fib(20)).map_err(|e| e.to_string())?;
        inner.join().map_err(|e: TaskError| e.to_string())
    })?;
    let nested = nested.join();
    println!("nested: {nested:?}");
    anyhow::ensure!(nested == Ok(Ok(6_765)), "the nested task gave {nested:?}");

    // Streaming: an endless input, at most 64 tasks in flight, results in input order.
    let squares: u64 =
        pool.map_iter(0u64.., 64, |x| x * x).take(10_000).map(|r| r.unwrap_or(0)).sum();
    println!("sum of the first 10 000 squares: {squares}");
    // 0² + 1² + ... + 9 999² = n(n-1)(2n-1)/6 with n = 10 000.
    anyhow::ensure!(squares == 10_000 * 9_999 * 19_999 / 6, "wrong sum {squares}");

    pool.shutdown_timeout(Duration::from_secs(5));
    let stats = pool.stats();
    println!(
        "stats: {} submitted, {} completed, {} panicked, {} expired; balanced: {}",
        stats.submitted,
        stats.completed,
        stats.panicked,
        stats.expired,
        stats.is_balanced()
    );
    anyhow::ensure!(stats.is_balanced(), "pool counters do not balance");
    Ok(())
}
