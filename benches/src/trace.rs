//! Cache-trace parsing for `cachesim`: the ARC (`.lis`), LIRS and plain formats, read through
//! zstd, gzip or xz when the bytes say so.
//!
//! A trace turns into a flat `Vec<u64>` of requested keys, in order. The formats:
//!
//! | format | one line | keys it yields |
//! |---|---|---|
//! | [`TraceFormat::Arc`] | `start n ignore req` (four unsigned integers) | `start, start+1, .., start+n-1` |
//! | [`TraceFormat::Lirs`] | one integer | that integer (negative ones wrap to `u64`) |
//! | [`TraceFormat::Plain`] | any string | the xxh3 hash (seed [`PLAIN_KEY_SEED`]) of the trimmed line |
//!
//! Blank lines and lines starting with `#` are skipped in every format. LIRS also skips lines that
//! are not numeric at all (the `*` markers in its traces); a line that *starts* like a number but
//! is not one (`12x`, an integer wider than 64 bits) is an error, so a corrupt file is not silently
//! shortened. Every error names the file and, where there is one, the 1-based line.
//!
//! Compression is recognised by the magic bytes (zstd, gzip, xz), not by the file name, so a
//! renamed file still reads. [`TraceFormat::Auto`] picks the format from the file extension that
//! is left once compression extensions are stripped (`.lis` → ARC, `.trace`/`.lirs` → LIRS) and
//! otherwise from the first meaningful line.
//!
//! ```
//! use pool_benches::trace::{parse_bytes, TraceFormat};
//! use std::path::Path;
//!
//! let keys = parse_bytes(b"10 3 0 0\n20 1 0 0\n", TraceFormat::Arc, Path::new("t.lis"))?;
//! assert_eq!(keys, [10, 11, 12, 20]);
//! let keys = parse_bytes(b"5\n*\n7\r\n", TraceFormat::Lirs, Path::new("t.trace"))?;
//! assert_eq!(keys, [5, 7]);
//! # Ok::<(), pool_benches::trace::TraceError>(())
//! ```

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Seed for hashing plain-trace keys to `u64`: fixed, so two runs (or two machines) agree.
pub const PLAIN_KEY_SEED: u64 = 0x6361_6368_6573_696d; // "cachesim"

/// Longest run one ARC line may expand to. The ARC traces never exceed 512 blocks per line
/// (measured on OLTP, P3 and P12); the limit only stops a corrupt or hostile line such as
/// `0 1000000000000 0 0` from asking for terabytes.
pub const MAX_ARC_RUN: u64 = 1 << 20;

/// Largest decompressed trace we accept (4 GiB): P12, the largest trace here, is 11 MB.
pub const MAX_TRACE_BYTES: u64 = 4 << 30;

/// How the lines of a trace are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TraceFormat {
    /// Decide from the file extension, else from the first meaningful line.
    #[default]
    Auto,
    /// ARC traces: `start n ignore req` per line, meaning keys `start..start+n`.
    Arc,
    /// LIRS traces: one integer per line; non-numeric lines (such as `*`) are skipped.
    Lirs,
    /// One key per line, any string, hashed to `u64` with xxh3.
    Plain,
}

impl TraceFormat {
    /// Every format name [`FromStr`] accepts, in the order the help text lists them.
    pub const NAMES: [&'static str; 4] = ["auto", "arc", "lirs", "plain"];

    /// The name [`FromStr`] accepts for this format.
    ///
    /// ```
    /// use pool_benches::trace::TraceFormat;
    /// assert_eq!(TraceFormat::Lirs.name(), "lirs");
    /// assert_eq!("lirs".parse::<TraceFormat>(), Ok(TraceFormat::Lirs));
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Arc => "arc",
            Self::Lirs => "lirs",
            Self::Plain => "plain",
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a format name that is not one of [`TraceFormat::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat {
    name: String,
}

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown trace format {:?}; valid formats: {}",
            self.name,
            TraceFormat::NAMES.join(", ")
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for TraceFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "arc" | "lis" => Ok(Self::Arc),
            "lirs" => Ok(Self::Lirs),
            "plain" => Ok(Self::Plain),
            _ => Err(UnknownFormat { name: s.to_owned() }),
        }
    }
}

/// What went wrong while reading a trace; see [`TraceError::kind`].
#[derive(Debug)]
#[non_exhaustive]
pub enum TraceErrorKind {
    /// The file could not be opened or read.
    Io(io::Error),
    /// The bytes start like a compressed stream (`codec`) that does not decompress.
    Decompress {
        /// `"zstd"`, `"gzip"` or `"xz"`.
        codec: &'static str,
        /// The decoder's error.
        source: io::Error,
    },
    /// The decompressed trace is larger than [`MAX_TRACE_BYTES`].
    TooLarge,
    /// An ARC line without exactly four whitespace-separated fields.
    ArcFieldCount {
        /// How many fields the line had.
        found: usize,
    },
    /// A field that should be an integer is not one (or does not fit in 64 bits).
    BadInteger {
        /// Which field: `"start"`, `"n"`, `"ignore"`, `"req"` (ARC) or `"key"` (LIRS).
        field: &'static str,
        /// The offending text, shortened to at most 40 characters.
        text: String,
    },
    /// An ARC line whose run `n` exceeds [`MAX_ARC_RUN`].
    ArcRunTooLong {
        /// The run length on the line.
        n: u64,
    },
    /// An ARC line whose keys `start..start+n` would pass `u64::MAX`.
    ArcOverflow {
        /// The first key.
        start: u64,
        /// The run length.
        n: u64,
    },
}

impl fmt::Display for TraceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot read the trace: {e}"),
            Self::Decompress { codec, source } => {
                write!(f, "looks {codec}-compressed but does not decompress: {source}")
            }
            Self::TooLarge => {
                write!(f, "trace is larger than {} bytes once decompressed", MAX_TRACE_BYTES)
            }
            Self::ArcFieldCount { found } => {
                write!(f, "an ARC line needs 4 fields `start n ignore req`, found {found}")
            }
            Self::BadInteger { field, text } => {
                write!(f, "field `{field}` must be an integer, got {text:?}")
            }
            Self::ArcRunTooLong { n } => {
                write!(f, "run length n = {n} exceeds the limit of {MAX_ARC_RUN}")
            }
            Self::ArcOverflow { start, n } => {
                write!(f, "keys {start}..{start}+{n} overflow u64")
            }
        }
    }
}

/// A trace that could not be read: which file, which line (1-based, where the problem is in one
/// line) and what was wrong.
///
/// ```
/// use pool_benches::trace::{parse_bytes, TraceFormat};
/// use std::path::Path;
///
/// let err = parse_bytes(b"1 1 0 0\n1 x 0 0\n", TraceFormat::Arc, Path::new("bad.lis")).unwrap_err();
/// assert_eq!(err.line(), Some(2));
/// assert_eq!(err.to_string(), "bad.lis:2: field `n` must be an integer, got \"x\"");
/// ```
#[derive(Debug)]
pub struct TraceError {
    path: PathBuf,
    line: Option<u64>,
    kind: TraceErrorKind,
}

impl TraceError {
    fn new(path: &Path, line: Option<u64>, kind: TraceErrorKind) -> Self {
        Self { path: path.to_owned(), line, kind }
    }

    /// The trace file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The 1-based line number, when the error is about one line.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// What was wrong.
    pub fn kind(&self) -> &TraceErrorKind {
        &self.kind
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.kind),
            None => write!(f, "{}: {}", self.path.display(), self.kind),
        }
    }
}

impl std::error::Error for TraceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            TraceErrorKind::Io(e) | TraceErrorKind::Decompress { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

/// A trace read into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The name reports use: the file name without any extension (`OLTP.lis.zst` → `OLTP`).
    pub name: String,
    /// The format the lines were read as (never [`TraceFormat::Auto`]).
    pub format: TraceFormat,
    /// The requested keys, in order.
    pub keys: Vec<u64>,
}

/// The report name of a trace file: its file name up to the first `.`
/// (`OLTP.lis.zst` → `OLTP`, `2_pools.trace.gz` → `2_pools`).
///
/// ```
/// use pool_benches::trace::trace_name;
/// use std::path::Path;
/// assert_eq!(trace_name(Path::new("../traces/OLTP.lis.zst")), "OLTP");
/// assert_eq!(trace_name(Path::new("keys")), "keys");
/// ```
pub fn trace_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned());
    match file.split('.').next() {
        Some(stem) if !stem.is_empty() => stem.to_owned(),
        _ => file,
    }
}

/// Reads and parses the trace at `path`, decompressing it if needed.
///
/// # Errors
///
/// A [`TraceError`] naming the file (and the line, for a malformed line).
pub fn load(path: &Path, format: TraceFormat) -> Result<Trace, TraceError> {
    let file = std::fs::File::open(path)
        .map_err(|e| TraceError::new(path, None, TraceErrorKind::Io(e)))?;
    let mut raw = Vec::new();
    file.take(MAX_TRACE_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(|e| TraceError::new(path, None, TraceErrorKind::Io(e)))?;
    let data = decompress(&raw, path)?;
    let format = resolve_format(format, path, &data);
    let keys = parse_lines(&data, format, path)?;
    Ok(Trace { name: trace_name(path), format, keys })
}

/// Parses a whole trace held in memory: decompresses it if its magic bytes say so, resolves
/// [`TraceFormat::Auto`] (from `path`'s extension, then the content), and parses the lines.
/// `path` is used for the format guess and in error messages only; nothing is read from it.
///
/// Never panics, whatever the bytes (a fuzz target checks this).
///
/// # Errors
///
/// A [`TraceError`] for a stream that fails to decompress or a malformed line.
pub fn parse_bytes(data: &[u8], format: TraceFormat, path: &Path) -> Result<Vec<u64>, TraceError> {
    let data = decompress(data, path)?;
    let format = resolve_format(format, path, &data);
    parse_lines(&data, format, path)
}

/// The compression a buffer starts with, by magic bytes.
fn codec_of(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        Some("zstd")
    } else if data.starts_with(&[0x1F, 0x8B]) {
        Some("gzip")
    } else if data.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        Some("xz")
    } else {
        None
    }
}

fn decompress<'a>(data: &'a [u8], path: &Path) -> Result<std::borrow::Cow<'a, [u8]>, TraceError> {
    let Some(codec) = codec_of(data) else {
        if data.len() as u64 > MAX_TRACE_BYTES {
            return Err(TraceError::new(path, None, TraceErrorKind::TooLarge));
        }
        return Ok(std::borrow::Cow::Borrowed(data));
    };
    let fail = |source: io::Error| {
        TraceError::new(path, None, TraceErrorKind::Decompress { codec, source })
    };
    let reader: Box<dyn Read + '_> = match codec {
        "zstd" => Box::new(zstd::stream::read::Decoder::new(data).map_err(fail)?),
        "gzip" => Box::new(flate2::read::MultiGzDecoder::new(data)),
        _ => Box::new(xz2::read::XzDecoder::new_multi_decoder(data)),
    };
    let mut out = Vec::new();
    reader.take(MAX_TRACE_BYTES + 1).read_to_end(&mut out).map_err(fail)?;
    if out.len() as u64 > MAX_TRACE_BYTES {
        return Err(TraceError::new(path, None, TraceErrorKind::TooLarge));
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// Resolves [`TraceFormat::Auto`]: by extension first, then by the first meaningful line.
fn resolve_format(format: TraceFormat, path: &Path, data: &[u8]) -> TraceFormat {
    if format != TraceFormat::Auto {
        return format;
    }
    let name =
        path.file_name().map(|f| f.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let mut parts: Vec<&str> = name.split('.').skip(1).collect();
    while matches!(parts.last(), Some(&("zst" | "zstd" | "gz" | "xz"))) {
        parts.pop();
    }
    match parts.last() {
        Some(&"lis") => return TraceFormat::Arc,
        Some(&("trace" | "lirs")) => return TraceFormat::Lirs,
        _ => {}
    }
    let first =
        lines(data).map(|(_, l)| l).find(|l| !l.is_empty() && !l.starts_with(b"#") && l != b"*");
    let Some(first) = first else {
        return TraceFormat::Plain;
    };
    let fields: Vec<&[u8]> = fields(first).collect();
    let all_unsigned = fields.iter().all(|f| parse_u64(f).is_some());
    match fields.len() {
        4 if all_unsigned => TraceFormat::Arc,
        1 if parse_i64(fields[0]).is_some() => TraceFormat::Lirs,
        _ => TraceFormat::Plain,
    }
}

/// The lines of `data` with their 1-based numbers, trimmed of surrounding ASCII whitespace
/// (which also drops a `\r` before the `\n`).
fn lines(data: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    data.split(|&b| b == b'\n').zip(1u64..).map(|(line, no)| (no, line.trim_ascii()))
}

fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty())
}

fn parse_u64(text: &[u8]) -> Option<u64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn parse_i64(text: &[u8]) -> Option<i64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn bad_integer(field: &'static str, text: &[u8]) -> TraceErrorKind {
    let text: String = String::from_utf8_lossy(text).chars().take(40).collect();
    TraceErrorKind::BadInteger { field, text }
}

/// Does this (trimmed) LIRS line look like an attempt at a number?
fn looks_numeric(line: &[u8]) -> bool {
    match line {
        [b'-' | b'+', d, ..] => d.is_ascii_digit(),
        [d, ..] => d.is_ascii_digit(),
        [] => false,
    }
}

fn parse_lines(data: &[u8], format: TraceFormat, path: &Path) -> Result<Vec<u64>, TraceError> {
    // A line is at least two bytes ("1\n"); reserving for that bound would over-allocate on
    // ARC runs, so reserve a modest guess and let the vector grow.
    let mut keys = Vec::with_capacity(data.len() / 8);
    for (no, line) in lines(data) {
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let at = |kind| TraceError::new(path, Some(no), kind);
        match format {
            TraceFormat::Arc => {
                let mut found = 0usize;
                let mut values = [0u64; 4];
                for (i, field) in fields(line).enumerate() {
                    found = i + 1;
                    if i < 4 {
                        const NAMES: [&str; 4] = ["start", "n", "ignore", "req"];
                        values[i] =
                            parse_u64(field).ok_or_else(|| at(bad_integer(NAMES[i], field)))?;
                    }
                }
                if found != 4 {
                    return Err(at(TraceErrorKind::ArcFieldCount { found }));
                }
                let [start, n, _, _] = values;
                if n > MAX_ARC_RUN {
                    return Err(at(TraceErrorKind::ArcRunTooLong { n }));
                }
                let end = start
                    .checked_add(n)
                    .ok_or_else(|| at(TraceErrorKind::ArcOverflow { start, n }))?;
                keys.extend(start..end);
            }
            TraceFormat::Lirs => {
                if !looks_numeric(line) {
                    continue;
                }
                let key = parse_i64(line)
                    .map(|k| k as u64)
                    .or_else(|| parse_u64(line))
                    .ok_or_else(|| at(bad_integer("key", line)))?;
                keys.push(key);
            }
            TraceFormat::Plain | TraceFormat::Auto => {
                keys.push(xxhash_rust::xxh3::xxh3_64_with_seed(line, PLAIN_KEY_SEED));
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(data: &[u8], format: TraceFormat) -> Result<Vec<u64>, TraceError> {
        parse_bytes(data, format, Path::new("t"))
    }

    #[test]
    fn arc_lines_expand_to_runs() {
        assert_eq!(p(b"# c\n\n3 2 0 0\n9 0 1 1\n", TraceFormat::Arc).unwrap(), [3, 4]);
    }

    #[test]
    fn arc_rejects_wrong_field_count_and_overflow() {
        let e = p(b"1 1 0 0\n1 1 0\n", TraceFormat::Arc).unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(matches!(e.kind(), TraceErrorKind::ArcFieldCount { found: 3 }));
        let e = p(b"18446744073709551615 2 0 0\n", TraceFormat::Arc).unwrap_err();
        assert!(matches!(e.kind(), TraceErrorKind::ArcOverflow { .. }));
        let e = p(b"0 99999999999 0 0\n", TraceFormat::Arc).unwrap_err();
        assert!(matches!(e.kind(), TraceErrorKind::ArcRunTooLong { .. }));
    }

    #[test]
    fn lirs_skips_markers_and_rejects_broken_numbers() {
        assert_eq!(p(b"1\r\n*\r\n-1\n+2\n", TraceFormat::Lirs).unwrap(), [1, u64::MAX, 2]);
        let e = p(b"1\n2\n3x\n", TraceFormat::Lirs).unwrap_err();
        assert_eq!(e.line(), Some(3));
        assert!(p(b"99999999999999999999999\n", TraceFormat::Lirs).is_err());
    }

    #[test]
    fn plain_hashes_trimmed_lines() {
        let keys = p(b"alpha\n  alpha \r\n# no\n\nbeta\n", TraceFormat::Plain).unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2]);
        assert_eq!(keys[0], xxhash_rust::xxh3::xxh3_64_with_seed(b"alpha", PLAIN_KEY_SEED));
    }

    #[test]
    fn auto_uses_extension_then_content() {
        let arc = b"1 2 0 0\n";
        assert_eq!(
            resolve_format(TraceFormat::Auto, Path::new("x.lis.zst"), b"a"),
            TraceFormat::Arc
        );
        assert_eq!(
            resolve_format(TraceFormat::Auto, Path::new("x.trace.gz"), arc),
            TraceFormat::Lirs
        );
        assert_eq!(resolve_format(TraceFormat::Auto, Path::new("x"), arc), TraceFormat::Arc);
        assert_eq!(
            resolve_format(TraceFormat::Auto, Path::new("x"), b"*\n12\n"),
            TraceFormat::Lirs
        );
        assert_eq!(
            resolve_format(TraceFormat::Auto, Path::new("x.txt"), b"GET /a\n"),
            TraceFormat::Plain
        );
    }

    #[test]
    fn names_round_trip() {
        for name in TraceFormat::NAMES {
            assert_eq!(name.parse::<TraceFormat>().unwrap().name(), name);
        }
        let e = "csv".parse::<TraceFormat>().unwrap_err().to_string();
        assert!(e.contains("auto, arc, lirs, plain"), "{e}");
    }
}
