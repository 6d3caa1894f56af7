//! Fuzzes `pool_benches::trace::parse_bytes` (`benches/src/trace.rs`, compiled in here directly): the first input byte picks the format, the rest is
//! the trace (raw, or behind a zstd/gzip/xz magic, which the parser decompresses). Any input
//! must parse or give a `TraceError`; a panic, hang or blow-up is a bug.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

#[path = "../../benches/src/trace.rs"]
#[allow(dead_code)]
mod trace;

use trace::{TraceFormat, parse_bytes};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, trace)) = data.split_first() else {
        return;
    };
    let format = match selector % 4 {
        0 => TraceFormat::Auto,
        1 => TraceFormat::Arc,
        2 => TraceFormat::Lirs,
        _ => TraceFormat::Plain,
    };
    // The name steers `Auto` only through its extension; vary it with the selector too.
    let name = match selector / 4 % 3 {
        0 => "fuzz",
        1 => "fuzz.lis.zst",
        _ => "fuzz.trace.gz",
    };
    if let Ok(keys) = parse_bytes(trace, format, Path::new(name)) {
        // Every key comes from at least one byte of input, except ARC runs (bounded per line).
        std::hint::black_box(keys);
    }
});
