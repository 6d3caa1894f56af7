//! Process memory and CPU figures from `/proc/self`, read without allocating.

use serde::{Deserialize, Serialize};

use super::error::{MemoryError, MemoryErrorKind};

/// Resident and virtual size of the process, and the live heap bytes when a
/// [`CountingAlloc`](crate::CountingAlloc) is installed and given to the monitor.
///
/// ```
/// let s = pool_metrics::MemorySnapshot { rss_bytes: 10, virtual_bytes: 20, allocated_bytes: None };
/// assert_eq!(s.used_bytes(), 10);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemorySnapshot {
    /// Resident set size.
    pub rss_bytes: u64,
    /// Virtual size.
    pub virtual_bytes: u64,
    /// Bytes live in the counting allocator, if one is installed.
    pub allocated_bytes: Option<u64>,
}

impl MemorySnapshot {
    /// The figure thresholds and the leak detector watch: allocator live bytes when known
    /// (they follow the program, not the allocator's caching), else RSS.
    ///
    /// ```
    /// let s = pool_metrics::MemorySnapshot { rss_bytes: 10, virtual_bytes: 20, allocated_bytes: Some(4) };
    /// assert_eq!(s.used_bytes(), 4);
    /// ```
    pub fn used_bytes(&self) -> u64 {
        self.allocated_bytes.unwrap_or(self.rss_bytes)
    }
}

/// Process figures for exporters: memory, CPU time and threads.
///
/// ```
/// if let Ok(p) = pool_metrics::process_stats() {
///     assert!(p.threads >= 1);
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessStats {
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// Virtual size, bytes.
    pub virtual_bytes: u64,
    /// User plus system CPU time, seconds.
    pub cpu_seconds: f64,
    /// Threads in the process.
    pub threads: u64,
}

/// Reads `/proc/self/statm` through a file kept open, so a snapshot is one `pread` and two
/// integer parses (about 1–2 µs; see the `metrics` bench) instead of open + read + close. It
/// never reads `/proc/self/smaps`, whose cost grows with the number of mappings.
///
/// ```
/// use pool_metrics::MemoryProbe;
///
/// if let Ok(probe) = MemoryProbe::new() {
///     let s = probe.snapshot()?;
///     assert!(s.virtual_bytes >= s.rss_bytes);
/// }
/// # Ok::<(), pool_metrics::MemoryError>(())
/// ```
#[derive(Debug)]
pub struct MemoryProbe {
    #[cfg(target_os = "linux")]
    statm: std::fs::File,
    page_size: u64,
}

impl MemoryProbe {
    /// Opens `/proc/self/statm` and learns the page size.
    ///
    /// # Errors
    ///
    /// [`MemoryErrorKind::Unsupported`] off Linux or without `/proc`.
    ///
    /// ```
    /// let probe = pool_metrics::MemoryProbe::new();
    /// assert!(probe.is_ok() || !cfg!(target_os = "linux"));
    /// ```
    pub fn new() -> Result<Self, MemoryError> {
        #[cfg(target_os = "linux")]
        {
            let statm = std::fs::File::open("/proc/self/statm").map_err(|e| {
                MemoryError::new(
                    MemoryErrorKind::Unsupported,
                    format!("memory figures need /proc/self/statm, which cannot be opened: {e}"),
                )
            })?;
            Ok(Self { statm, page_size: page_size() })
        }
        #[cfg(not(target_os = "linux"))]
        {
            Err(unsupported())
        }
    }

    /// The page size used to convert statm's page counts, in bytes.
    ///
    /// ```
    /// if let Ok(p) = pool_metrics::MemoryProbe::new() {
    ///     assert!(p.page_size().is_power_of_two());
    /// }
    /// ```
    pub fn page_size(&self) -> u64 {
        self.page_size
    }

    /// The current RSS and virtual size (`allocated_bytes` is `None`; the monitor fills it).
    ///
    /// # Errors
    ///
    /// [`MemoryErrorKind::Io`] or [`MemoryErrorKind::Parse`] if the kernel's answer cannot be
    /// read; [`MemoryErrorKind::Unsupported`] off Linux.
    ///
    /// ```
    /// if let Ok(p) = pool_metrics::MemoryProbe::new() {
    ///     assert!(p.snapshot()?.rss_bytes > 0);
    /// }
    /// # Ok::<(), pool_metrics::MemoryError>(())
    /// ```
    pub fn snapshot(&self) -> Result<MemorySnapshot, MemoryError> {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::FileExt;
            // statm is seven integers of page counts: 128 bytes hold them on any 64-bit box.
            let mut buf = [0u8; 128];
            let n = self.statm.read_at(&mut buf, 0).map_err(|e| {
                MemoryError::new(MemoryErrorKind::Io, format!("reading /proc/self/statm: {e}"))
            })?;
            let mut fields = buf[..n].split(|b| b.is_ascii_whitespace());
            let mut next = |what: &str| {
                fields.next().and_then(parse_u64).ok_or_else(|| {
                    MemoryError::new(
                        MemoryErrorKind::Parse,
                        format!("/proc/self/statm has no {what} field"),
                    )
                })
            };
            let size = next("size")?;
            let resident = next("resident")?;
            Ok(MemorySnapshot {
                rss_bytes: resident * self.page_size,
                virtual_bytes: size * self.page_size,
                allocated_bytes: None,
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            Err(unsupported())
        }
    }
}

/// RSS, virtual size, CPU time and thread count of this process from `/proc/self/stat`.
///
/// CPU time is `utime + stime` in clock ticks divided by `USER_HZ`, which the Linux ABI fixes
/// at 100 on every architecture (`sysconf(_SC_CLK_TCK)`; reading it would need `unsafe`).
///
/// # Errors
///
/// [`MemoryErrorKind::Unsupported`] off Linux; `Io` or `Parse` if `/proc/self/stat` is odd.
///
/// ```
/// match pool_metrics::process_stats() {
///     Ok(p) => assert!(p.rss_bytes > 0 && p.threads >= 1),
///     Err(e) => assert_eq!(e.kind(), pool_metrics::MemoryErrorKind::Unsupported),
/// }
/// ```
pub fn process_stats() -> Result<ProcessStats, MemoryError> {
    #[cfg(target_os = "linux")]
    {
        const USER_HZ: f64 = 100.0;
        let stat = std::fs::read_to_string("/proc/self/stat").map_err(|e| {
            MemoryError::new(MemoryErrorKind::Unsupported, format!("reading /proc/self/stat: {e}"))
        })?;
        // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or_else(|| {
            MemoryError::new(MemoryErrorKind::Parse, "/proc/self/stat has no ')'".to_owned())
        })?;
        // `rest` starts at field 3 (state); proc(5) numbers fields from 1.
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| {
            fields.get(n - 3).and_then(|f| f.parse::<u64>().ok()).ok_or_else(|| {
                MemoryError::new(
                    MemoryErrorKind::Parse,
                    format!("/proc/self/stat field {n} missing"),
                )
            })
        };
        let (utime, stime, threads) = (field(14)?, field(15)?, field(20)?);
        let memory = MemoryProbe::new()?.snapshot()?;
        Ok(ProcessStats {
            rss_bytes: memory.rss_bytes,
            virtual_bytes: memory.virtual_bytes,
            cpu_seconds: (utime + stime) as f64 / USER_HZ,
            threads,
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(unsupported())
    }
}

#[cfg(not(target_os = "linux"))]
fn unsupported() -> MemoryError {
    MemoryError::new(
        MemoryErrorKind::Unsupported,
        "memory figures need Linux's /proc; this platform has none".to_owned(),
    )
}

fn parse_u64(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit().then(|| acc.checked_mul(10)?.checked_add(u64::from(b - b'0')))?
    })
}

/// The kernel page size from the first `KernelPageSize:` line of `/proc/self/smaps`, read
/// once per probe (only its first 4 KiB, never on a hot path); 4096 if absent.
#[cfg(target_os = "linux")]
fn page_size() -> u64 {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    let n = std::fs::File::open("/proc/self/smaps").and_then(|mut f| f.read(&mut buf)).unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]);
    text.lines()
        .find_map(|l| l.strip_prefix("KernelPageSize:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(4096, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_digits_only() {
        assert_eq!(parse_u64(b"123"), Some(123));
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"12a"), None);
        assert_eq!(parse_u64(b"99999999999999999999999"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn snapshot_sees_a_big_allocation() {
        let probe = MemoryProbe::new().unwrap();
        let before = probe.snapshot().unwrap();
        let mut v = vec![1u8; 64 << 20];
        v[12345] = 2;
        let after = probe.snapshot().unwrap();
        assert!(after.rss_bytes >= before.rss_bytes + (32 << 20), "{before:?} {after:?}");
        assert!(after.virtual_bytes >= after.rss_bytes);
        assert_eq!(std::hint::black_box(v)[12345], 2);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_stats_are_plausible() {
        let p = process_stats().unwrap();
        assert!(p.threads >= 1 && p.rss_bytes > 0 && p.cpu_seconds >= 0.0);
    }
}
