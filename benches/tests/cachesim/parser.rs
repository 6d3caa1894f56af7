//! The trace parser on small fixtures made at test time, for every format and codec.

use std::io::Write;
use std::path::{Path, PathBuf};

use pool_benches::trace::{self, PLAIN_KEY_SEED, TraceErrorKind, TraceFormat, parse_bytes};
use proptest::prelude::*;

const ARC: &str = "# start n ignore req\n100 3 0 0\n7 1 0 0\r\n\n200 2 5 9\n";
const ARC_KEYS: [u64; 6] = [100, 101, 102, 7, 200, 201];
const LIRS: &str = "5\r\n*\r\n6\n\n*\n5\n";
const LIRS_KEYS: [u64; 3] = [5, 6, 5];
const PLAIN: &str = "# keys\nuser:1\n\nuser:2\n  user:1  \n";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn zstd(data: &str) -> Vec<u8> {
    zstd::encode_all(data.as_bytes(), 3).unwrap()
}

fn gzip(data: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data.as_bytes()).unwrap();
    enc.finish().unwrap()
}

fn xz(data: &str) -> Vec<u8> {
    let mut enc = xz2::write::XzEncoder::new(Vec::new(), 6);
    enc.write_all(data.as_bytes()).unwrap();
    enc.finish().unwrap()
}

fn plain_keys() -> Vec<u64> {
    let h = |s: &str| xxhash_rust::xxh3::xxh3_64_with_seed(s.as_bytes(), PLAIN_KEY_SEED);
    vec![h("user:1"), h("user:2"), h("user:1")]
}

#[test]
fn every_format_reads_raw_and_through_every_codec() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, Vec<u64>, TraceFormat); 3] = [
        ("arc.lis", ARC, ARC_KEYS.to_vec(), TraceFormat::Arc),
        ("lirs.trace", LIRS, LIRS_KEYS.to_vec(), TraceFormat::Lirs),
        ("keys.txt", PLAIN, plain_keys(), TraceFormat::Plain),
    ];
    for (name, text, want, format) in cases {
        let codecs: [(&str, Vec<u8>); 4] = [
            ("", text.as_bytes().to_vec()),
            (".zst", zstd(text)),
            (".gz", gzip(text)),
            (".xz", xz(text)),
        ];
        for (ext, bytes) in codecs {
            let path = write(dir.path(), &format!("{name}{ext}"), &bytes);
            // Auto picks the format from the name (or, for .txt, from the content).
            let auto = trace::load(&path, TraceFormat::Auto).unwrap();
            assert_eq!(auto.keys, want, "{}", path.display());
            assert_eq!(auto.format, format, "{}", path.display());
            let stem = name.split('.').next().unwrap();
            assert_eq!(auto.name, stem);
            // Naming the format explicitly gives the same keys.
            assert_eq!(trace::load(&path, format).unwrap().keys, want);
        }
    }
}

#[test]
fn compression_is_recognised_by_content_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "misnamed.lis", &gzip(ARC));
    assert_eq!(trace::load(&path, TraceFormat::Auto).unwrap().keys, ARC_KEYS);
}

#[test]
fn auto_sniffs_content_when_the_name_says_nothing() {
    let p = Path::new("trace");
    assert_eq!(parse_bytes(ARC.as_bytes(), TraceFormat::Auto, p).unwrap(), ARC_KEYS);
    assert_eq!(parse_bytes(b"*\n3\n4\n", TraceFormat::Auto, p).unwrap(), [3, 4]);
    assert_eq!(parse_bytes(PLAIN.as_bytes(), TraceFormat::Auto, p).unwrap(), plain_keys());
}

#[test]
fn a_malformed_line_names_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "broken.lis.zst", &zstd("1 1 0 0\n2 1 0 0\n3 one 0 0\n"));
    let err = trace::load(&path, TraceFormat::Auto).unwrap_err();
    assert_eq!(err.line(), Some(3));
    assert_eq!(err.path(), path);
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{}:3: ", path.display())), "{msg}");
    assert!(msg.contains("`n`") && msg.contains("\"one\""), "{msg}");

    let path = write(dir.path(), "broken.trace", b"1\n*\n2\n4.5\n");
    let err = trace::load(&path, TraceFormat::Auto).unwrap_err();
    assert_eq!(err.line(), Some(4));
    assert!(matches!(err.kind(), TraceErrorKind::BadInteger { field: "key", .. }));
}

#[test]
fn a_truncated_compressed_file_is_an_error_not_a_short_trace() {
    let dir = tempfile::tempdir().unwrap();
    let long: String = (0..5000).map(|i| format!("{i} 1 0 0\n")).collect();
    let mut bytes = zstd(&long);
    bytes.truncate(bytes.len() / 2);
    let path = write(dir.path(), "cut.lis.zst", &bytes);
    let err = trace::load(&path, TraceFormat::Auto).unwrap_err();
    assert!(matches!(err.kind(), TraceErrorKind::Decompress { codec: "zstd", .. }), "{err}");
}

#[test]
fn a_missing_file_names_the_file() {
    let err = trace::load(Path::new("/no/such/trace.lis"), TraceFormat::Auto).unwrap_err();
    assert!(matches!(err.kind(), TraceErrorKind::Io(_)));
    assert!(err.to_string().starts_with("/no/such/trace.lis: "), "{err}");
}

#[test]
fn the_shared_traces_have_their_documented_request_counts() {
    // Request counts from shared/traces/README.md (the small traces; the big ARC ones are read by
    // the OLTP check in `sim`).
    for (name, requests) in
        [("gli.trace.gz", 6_015), ("multi2.trace.gz", 26_311), ("2_pools.trace.gz", 100_000)]
    {
        let Some(path) = crate::shared_trace(name) else {
            return;
        };
        let trace = trace::load(&path, TraceFormat::Auto).unwrap();
        assert_eq!(trace.keys.len(), requests, "{name}");
        assert_eq!(trace.format, TraceFormat::Lirs);
    }
}

fn any_format() -> impl Strategy<Value = TraceFormat> {
    prop_oneof![
        Just(TraceFormat::Auto),
        Just(TraceFormat::Arc),
        Just(TraceFormat::Lirs),
        Just(TraceFormat::Plain),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes never panic the parser: they parse or give an error.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), format in any_format()) {
        let _ = parse_bytes(&bytes, format, Path::new("fuzz"));
    }

    /// Bytes behind a compression magic (so the decoders see garbage) never panic either.
    #[test]
    fn garbage_behind_a_codec_magic_never_panics(
        magic in prop_oneof![
            Just(vec![0x28u8, 0xB5, 0x2F, 0xFD]),
            Just(vec![0x1F, 0x8B]),
            Just(vec![0xFD, b'7', b'z', b'X', b'Z', 0x00]),
        ],
        tail in proptest::collection::vec(any::<u8>(), 0..256),
        format in any_format(),
    ) {
        let mut bytes = magic;
        bytes.extend(tail);
        let _ = parse_bytes(&bytes, format, Path::new("fuzz.zst"));
    }

    /// Well-formed ARC text round-trips: every line's run comes back, in order.
    #[test]
    fn arc_runs_round_trip(lines in proptest::collection::vec((0u64..1 << 40, 0u64..64), 0..50)) {
        let text: String = lines.iter().map(|(s, n)| format!("{s} {n} 0 0\n")).collect();
        let want: Vec<u64> = lines.iter().flat_map(|&(s, n)| s..s + n).collect();
        prop_assert_eq!(parse_bytes(text.as_bytes(), TraceFormat::Arc, Path::new("p.lis")).unwrap(), want);
    }

    /// Well-formed LIRS text with `*` markers round-trips.
    #[test]
    fn lirs_keys_round_trip(keys in proptest::collection::vec(any::<u64>(), 0..100)) {
        let text: String = keys.iter().map(|k| format!("{k}\n*\n")).collect();
        prop_assert_eq!(parse_bytes(text.as_bytes(), TraceFormat::Lirs, Path::new("p.trace")).unwrap(), keys);
    }
}
