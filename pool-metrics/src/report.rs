//! The profiler and its bottleneck report (the seeds' `Profiler.report` and
//! `getBottlenecks`).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use crate::clock::Start;
use crate::histogram::Histogram;

/// One named section of a [`Profiler`]: its durations and their exact total.
///
/// ```
/// let p = pool_metrics::Profiler::new();
/// let parse = p.section("parse");
/// parse.time(|| ());
/// assert_eq!(parse.calls(), 1);
/// ```
#[derive(Debug, Default)]
pub struct Section {
    latency: Histogram,
    total_ns: AtomicU64,
}

impl Section {
    /// Times `f` into this section.
    ///
    /// ```
    /// let p = pool_metrics::Profiler::new();
    /// assert_eq!(p.section("s").time(|| 5), 5);
    /// ```
    #[inline]
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = Start::now();
        let out = f();
        self.record_ns(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        out
    }

    /// Records one call that took `ns` nanoseconds.
    ///
    /// ```
    /// let p = pool_metrics::Profiler::new();
    /// p.section("s").record_ns(1_000);
    /// assert_eq!(p.report().sections[0].total_ns, 1_000);
    /// ```
    #[inline]
    pub fn record_ns(&self, ns: u64) {
        self.latency.record(ns);
        self.total_ns.fetch_add(ns, Relaxed);
    }

    /// Calls recorded.
    ///
    /// ```
    /// let p = pool_metrics::Profiler::new();
    /// assert_eq!(p.section("s").calls(), 0);
    /// ```
    pub fn calls(&self) -> u64 {
        self.latency.count()
    }
}

/// Records the time since [`Profiler::scope`] into its section when dropped.
///
/// ```
/// let p = pool_metrics::Profiler::new();
/// {
///     let _g = p.scope("load");
/// }
/// assert_eq!(p.report().sections[0].calls, 1);
/// ```
#[derive(Debug)]
#[must_use = "the guard records when dropped"]
pub struct SectionGuard {
    section: Arc<Section>,
    start: Start,
}

impl Drop for SectionGuard {
    fn drop(&mut self) {
        self.section.record_ns(u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
}

/// Named sections with calls, total, mean, min, max, p95, p99 and share of the total; a report
/// sorted by total time as a text table or JSON, and the bottlenecks above a share.
///
/// Looking a section up by name takes a read lock; on a hot path keep the
/// [`section`](Self::section) handle.
///
/// ```
/// use pool_metrics::Profiler;
///
/// let p = Profiler::new();
/// p.section("parse").record_ns(3_000_000);
/// p.section("render").record_ns(1_000_000);
/// let report = p.report();
/// assert_eq!(report.sections[0].name, "parse");
/// assert_eq!(report.sections[0].share, 0.75);
/// assert_eq!(report.bottlenecks(0.5).len(), 1);
/// assert!(report.to_table().contains("parse"));
/// ```
#[derive(Debug, Default)]
pub struct Profiler {
    sections: RwLock<BTreeMap<String, Arc<Section>>>,
}

impl Profiler {
    /// A profiler with no sections.
    ///
    /// ```
    /// assert!(pool_metrics::Profiler::new().report().sections.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The section `name`, created on first use. Any string is a valid section name.
    ///
    /// ```
    /// let p = pool_metrics::Profiler::new();
    /// let a = p.section("a");
    /// a.record_ns(1);
    /// assert_eq!(p.section("a").calls(), 1);
    /// ```
    pub fn section(&self, name: &str) -> Arc<Section> {
        if let Some(s) = self.sections.read().unwrap_or_else(PoisonError::into_inner).get(name) {
            return s.clone();
        }
        let mut map = self.sections.write().unwrap_or_else(PoisonError::into_inner);
        map.entry(name.to_owned()).or_default().clone()
    }

    /// Starts timing section `name`; the guard records when dropped.
    ///
    /// ```
    /// let p = pool_metrics::Profiler::new();
    /// drop(p.scope("x"));
    /// assert_eq!(p.section("x").calls(), 1);
    /// ```
    pub fn scope(&self, name: &str) -> SectionGuard {
        SectionGuard { section: self.section(name), start: Start::now() }
    }

    /// Times `f` into section `name`.
    ///
    /// ```
    /// let p = pool_metrics::Profiler::new();
    /// assert_eq!(p.time("x", || 1 + 1), 2);
    /// ```
    pub fn time<T>(&self, name: &str, f: impl FnOnce() -> T) -> T {
        self.section(name).time(f)
    }

    /// Forgets every section.
    ///
    /// ```
    /// let p = pool_metrics::Profiler::new();
    /// p.time("x", || ());
    /// p.reset();
    /// assert!(p.report().sections.is_empty());
    /// ```
    pub fn reset(&self) {
        self.sections.write().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// The report, sections sorted by total time, largest first (ties by name).
    ///
    /// ```
    /// let p = pool_metrics::Profiler::new();
    /// p.section("a").record_ns(10);
    /// let r = p.report();
    /// assert_eq!((r.total_ns, r.sections[0].mean_ns), (10, 10.0));
    /// ```
    pub fn report(&self) -> ProfileReport {
        let map = self.sections.read().unwrap_or_else(PoisonError::into_inner);
        let mut sections: Vec<SectionReport> = map
            .iter()
            .filter(|(_, s)| s.calls() > 0)
            .map(|(name, s)| {
                let h = s.latency.snapshot();
                let total_ns = s.total_ns.load(Relaxed);
                SectionReport {
                    name: name.clone(),
                    calls: h.count,
                    total_ns,
                    mean_ns: total_ns as f64 / h.count as f64,
                    min_ns: h.min,
                    max_ns: h.max,
                    p95_ns: h.p95,
                    p99_ns: h.p99,
                    share: 0.0,
                }
            })
            .collect();
        let total_ns: u64 = sections.iter().map(|s| s.total_ns).sum();
        for s in &mut sections {
            s.share = if total_ns == 0 { 0.0 } else { s.total_ns as f64 / total_ns as f64 };
        }
        sections.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then_with(|| a.name.cmp(&b.name)));
        ProfileReport { total_ns, sections }
    }
}

/// One section's line in a [`ProfileReport`]. Times in nanoseconds.
///
/// ```
/// let p = pool_metrics::Profiler::new();
/// p.section("s").record_ns(7);
/// let s = &p.report().sections[0];
/// assert_eq!((s.min_ns, s.max_ns, s.p99_ns), (7, 7, 7));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionReport {
    /// Section name.
    pub name: String,
    /// Calls.
    pub calls: u64,
    /// Exact total time.
    pub total_ns: u64,
    /// Exact mean (`total / calls`).
    pub mean_ns: f64,
    /// Shortest call.
    pub min_ns: u64,
    /// Longest call.
    pub max_ns: u64,
    /// 95th percentile (within 0.1 %).
    pub p95_ns: u64,
    /// 99th percentile (within 0.1 %).
    pub p99_ns: u64,
    /// Share of the sum of all sections' totals, in `[0, 1]`. Nested sections are counted in
    /// both, so shares of nested profiles add up to more than one.
    pub share: f64,
}

/// The profiler's report: sections sorted by total time.
///
/// ```
/// let p = pool_metrics::Profiler::new();
/// p.section("s").record_ns(1);
/// let json = serde_json::to_value(p.report()).unwrap();
/// assert_eq!(json["sections"][0]["name"], "s");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileReport {
    /// Sum of the sections' totals, ns.
    pub total_ns: u64,
    /// Sections, largest total first.
    pub sections: Vec<SectionReport>,
}

impl ProfileReport {
    /// Sections taking at least `min_share` (0..=1) of the total, largest first.
    ///
    /// ```
    /// let p = pool_metrics::Profiler::new();
    /// p.section("big").record_ns(90);
    /// p.section("small").record_ns(10);
    /// let names: Vec<_> = p.report().bottlenecks(0.2).iter().map(|s| s.name.clone()).collect();
    /// assert_eq!(names, ["big"]);
    /// ```
    pub fn bottlenecks(&self, min_share: f64) -> Vec<&SectionReport> {
        self.sections.iter().filter(|s| s.share >= min_share).collect()
    }

    /// The report as a fixed-width text table, one row per section.
    ///
    /// ```
    /// let p = pool_metrics::Profiler::new();
    /// p.section("db").record_ns(2_500_000);
    /// let table = p.report().to_table();
    /// assert!(table.lines().nth(1).unwrap().starts_with("db"));
    /// assert!(table.contains("2.500ms"));
    /// ```
    pub fn to_table(&self) -> String {
        let width = self.sections.iter().map(|s| s.name.len()).max().unwrap_or(0).max(7);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$} {:>10} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>7}",
            "section", "calls", "total", "mean", "min", "max", "p95", "p99", "share"
        );
        for s in &self.sections {
            let _ = writeln!(
                out,
                "{:<width$} {:>10} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>6.1}%",
                s.name,
                s.calls,
                Ns(s.total_ns as f64),
                Ns(s.mean_ns),
                Ns(s.min_ns as f64),
                Ns(s.max_ns as f64),
                Ns(s.p95_ns as f64),
                Ns(s.p99_ns as f64),
                s.share * 100.0
            );
        }
        out
    }

    /// The report as JSON.
    ///
    /// ```
    /// assert_eq!(pool_metrics::ProfileReport::default().to_json(), r#"{"total_ns":0,"sections":[]}"#);
    /// ```
    pub fn to_json(&self) -> String {
        // Cannot fail: plain structs of numbers and strings.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Nanoseconds in a readable unit.
struct Ns(f64);

impl fmt::Display for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let s = if ns < 1e3 {
            format!("{ns:.0}ns")
        } else if ns < 1e6 {
            format!("{:.3}us", ns / 1e3)
        } else if ns < 1e9 {
            format!("{:.3}ms", ns / 1e6)
        } else {
            format!("{:.3}s", ns / 1e9)
        };
        f.pad(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_sorts_by_total_and_shares_sum_to_one() {
        let p = Profiler::new();
        for (name, ns, calls) in [("a", 10, 5), ("b", 1_000, 1), ("c", 7, 100)] {
            for _ in 0..calls {
                p.section(name).record_ns(ns);
            }
        }
        let r = p.report();
        let names: Vec<&str> = r.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["b", "c", "a"]);
        assert_eq!(r.total_ns, 1_000 + 700 + 50);
        let share: f64 = r.sections.iter().map(|s| s.share).sum();
        assert!((share - 1.0).abs() < 1e-12);
        assert_eq!(r.sections[1].calls, 100);
        assert_eq!(r.sections[1].mean_ns, 7.0);
    }

    #[test]
    fn concurrent_sections_count_every_call() {
        let p = Profiler::new();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let sec = p.section("hot");
                    for _ in 0..1_000 {
                        sec.record_ns(3);
                    }
                });
            }
        });
        let r = p.report();
        assert_eq!((r.sections[0].calls, r.total_ns), (4_000, 12_000));
    }
}
