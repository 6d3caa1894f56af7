//! Prometheus text exposition (format 0.0.4) of registry snapshots and process figures.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::memory::ProcessStats;
use crate::registry::{CumulativeBucket, MetricSnapshot, MetricValue, RegistrySnapshot};
use crate::timer::TimerSnapshot;

impl RegistrySnapshot {
    /// The snapshot in the Prometheus text format: counters and gauges as themselves,
    /// histograms as cumulative `_bucket{le=..}` series (1-2-5 bounds and `+Inf`) with `_sum`
    /// and `_count`, timers as a histogram plus `_success_total` and `_error_total` counters.
    /// `_sum` is the histogram mean times the count, so within the histogram's relative error.
    /// Label values are escaped (`\\`, `\"`, `\n`). Each name is one family with one
    /// `# TYPE` line and its series together; a [`Registry`](crate::Registry) refuses at
    /// registration any metric whose series would collide with another's, so its snapshots
    /// always give valid text.
    ///
    /// ```
    /// let r = pool_metrics::Registry::new();
    /// r.counter("jobs_total", &[("queue", "a\"b")])?.add(3);
    /// let text = r.snapshot().to_prometheus();
    /// assert!(text.contains("# TYPE jobs_total counter\n"));
    /// assert!(text.contains("jobs_total{queue=\"a\\\"b\"} 3\n"));
    /// # Ok::<(), pool_metrics::RegistryError>(())
    /// ```
    pub fn to_prometheus(&self) -> String {
        // Group the series of each name into one family, in first-seen order: the format wants
        // one `# TYPE` line per family and a family's lines together. (A registry's snapshot is
        // sorted by name already, and its registration checks make the families disjoint.)
        let mut order: Vec<&str> = Vec::new();
        let mut families: BTreeMap<&str, Vec<&MetricSnapshot>> = BTreeMap::new();
        for m in &self.metrics {
            let family = families.entry(m.name.as_str()).or_default();
            if family.is_empty() {
                order.push(&m.name);
            }
            family.push(m);
        }
        let mut out = String::new();
        for name in order {
            let members = &families[name];
            let kind = match members[0].value {
                MetricValue::Counter { .. } => "counter",
                MetricValue::Gauge { .. } => "gauge",
                _ => "histogram",
            };
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for m in members {
                let labels = label_pairs(m);
                match &m.value {
                    MetricValue::Counter { value } => {
                        line(&mut out, name, &labels, None, *value as f64)
                    }
                    MetricValue::Gauge { value } => {
                        line(&mut out, name, &labels, None, *value as f64)
                    }
                    MetricValue::Histogram { summary, buckets } => {
                        histogram(&mut out, name, &labels, buckets, summary.count, summary.mean);
                    }
                    MetricValue::Timer { summary, buckets } => {
                        let l = &summary.latency;
                        histogram(&mut out, name, &labels, buckets, l.count, l.mean);
                    }
                }
            }
            // A timer's outcome counters are families of their own, after its histogram.
            let outcomes: [(&str, Outcome); 2] =
                [("success_total", |t| t.successes), ("error_total", |t| t.errors)];
            for (suffix, get) in outcomes {
                let mut header = false;
                for m in members {
                    if let MetricValue::Timer { summary, .. } = &m.value {
                        let family = format!("{name}_{suffix}");
                        if !header {
                            let _ = writeln!(out, "# TYPE {family} counter");
                            header = true;
                        }
                        line(&mut out, &family, &label_pairs(m), None, get(summary) as f64);
                    }
                }
            }
        }
        out
    }
}

/// Reads one outcome count of a timer.
type Outcome = fn(&TimerSnapshot) -> u64;

fn label_pairs(m: &MetricSnapshot) -> Vec<(&str, &str)> {
    m.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

impl ProcessStats {
    /// The standard Prometheus process metrics: `process_resident_memory_bytes`,
    /// `process_virtual_memory_bytes`, `process_cpu_seconds_total`, `process_threads`.
    ///
    /// ```
    /// let p = pool_metrics::ProcessStats { rss_bytes: 1, virtual_bytes: 2, cpu_seconds: 0.5, threads: 3 };
    /// assert!(p.to_prometheus().contains("process_cpu_seconds_total 0.5\n"));
    /// ```
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        for (name, kind, v) in [
            ("process_resident_memory_bytes", "gauge", self.rss_bytes as f64),
            ("process_virtual_memory_bytes", "gauge", self.virtual_bytes as f64),
            ("process_cpu_seconds_total", "counter", self.cpu_seconds),
            ("process_threads", "gauge", self.threads as f64),
        ] {
            let _ = writeln!(out, "# TYPE {name} {kind}");
            line(&mut out, name, &[], None, v);
        }
        out
    }
}

fn histogram(
    out: &mut String,
    name: &str,
    labels: &[(&str, &str)],
    buckets: &[CumulativeBucket],
    count: u64,
    mean: f64,
) {
    let bucket = format!("{name}_bucket");
    for b in buckets {
        line(out, &bucket, labels, Some(&b.le.to_string()), b.count as f64);
    }
    line(out, &bucket, labels, Some("+Inf"), count as f64);
    line(out, &format!("{name}_sum"), labels, None, mean * count as f64);
    line(out, &format!("{name}_count"), labels, None, count as f64);
}

fn line(out: &mut String, name: &str, labels: &[(&str, &str)], le: Option<&str>, value: f64) {
    out.push_str(name);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        for (k, v) in labels.iter().copied().chain(le.map(|le| ("le", le))) {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(k);
            out.push_str("=\"");
            escape(out, v);
            out.push('"');
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Escapes a label value as the exposition format requires: backslash, double quote, newline.
fn escape(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}
