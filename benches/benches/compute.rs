//! Criterion benches for the compute area (placeholder until its issue lands).
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};

fn placeholder(c: &mut Criterion) {
    c.bench_function("compute/placeholder", |b| b.iter(|| std::hint::black_box(1u64) + 1));
}

criterion_group!(benches, placeholder);
criterion_main!(benches);
