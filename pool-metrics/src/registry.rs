//! A registry of named, labelled metrics.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use crate::counter::Counter;
use crate::gauge::Gauge;
use crate::histogram::{Histogram, HistogramSnapshot};
use crate::timer::{Timer, TimerSnapshot};

/// Why a registry refused a name or labels.
///
/// ```
/// use pool_metrics::{Registry, RegistryErrorKind};
///
/// let r = Registry::new();
/// let err = r.counter("bad name", &[]).unwrap_err();
/// assert_eq!(err.kind(), RegistryErrorKind::InvalidName);
/// assert_eq!(
///     err.to_string(),
///     "metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*, got \"bad name\""
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    kind: RegistryErrorKind,
    message: String,
}

/// What was wrong with a registration.
///
/// ```
/// use pool_metrics::{Registry, RegistryErrorKind};
///
/// let r = Registry::new();
/// r.timer("req", &[])?;
/// // The timer exports `req_success_total` itself: a counter of that name would clash.
/// let err = r.counter("req_success_total", &[]).unwrap_err();
/// assert_eq!(err.kind(), RegistryErrorKind::NameClash);
/// # Ok::<(), pool_metrics::RegistryError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryErrorKind {
    /// The metric name is not a valid Prometheus name.
    InvalidName,
    /// A label name is invalid, reserved (`__` prefix, or `le` on a histogram or timer) or
    /// repeated.
    InvalidLabel,
    /// The name is already registered (with these or other labels) as another kind of metric:
    /// every series of one name must be one kind.
    TypeMismatch,
    /// The metric would export a series name that another metric already exports (a
    /// histogram or timer `x` exports `x_bucket`, `x_sum` and `x_count`; a timer also
    /// `x_success_total` and `x_error_total`), which would make the Prometheus text invalid.
    NameClash,
}

impl RegistryError {
    /// What was wrong.
    ///
    /// ```
    /// let r = pool_metrics::Registry::new();
    /// r.counter("x", &[])?;
    /// assert_eq!(r.gauge("x", &[]).unwrap_err().kind(), pool_metrics::RegistryErrorKind::TypeMismatch);
    /// # Ok::<(), pool_metrics::RegistryError>(())
    /// ```
    pub fn kind(&self) -> RegistryErrorKind {
        self.kind
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RegistryError {}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    name: String,
    labels: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
enum Metric {
    Counter(Arc<Counter>),
    Gauge(Arc<Gauge>),
    Histogram(Arc<Histogram>),
    Timer(Arc<Timer>),
}

impl Metric {
    fn kind(&self) -> &'static str {
        match self {
            Metric::Counter(_) => "counter",
            Metric::Gauge(_) => "gauge",
            Metric::Histogram(_) => "histogram",
            Metric::Timer(_) => "timer",
        }
    }
}

/// Named metrics with labels. Registering returns a shared handle: keep it and record through
/// it on the hot path (registration takes a lock and a map lookup; recording takes neither).
/// Registering the same name and labels again returns the same metric.
///
/// A `Registry` is a cheap handle: clones share the same metrics (one `Arc` inside), like every
/// other handle a user shares across threads in this workspace.
///
/// ```
/// use pool_metrics::Registry;
///
/// let registry = Registry::new();
/// let hits = registry.counter("cache_hits_total", &[("tier", "l1")])?;
/// hits.inc();
/// assert_eq!(registry.counter("cache_hits_total", &[("tier", "l1")])?.get(), 1);
/// // A clone is the same registry.
/// let shared = registry.clone();
/// std::thread::spawn(move || shared.counter("cache_hits_total", &[("tier", "l1")]).map(|c| c.inc()))
///     .join()
///     .unwrap()?;
/// assert_eq!(registry.counter("cache_hits_total", &[("tier", "l1")])?.get(), 2);
/// let snapshot = registry.snapshot();
/// assert_eq!(snapshot.metrics.len(), 1);
/// # Ok::<(), pool_metrics::RegistryError>(())
/// ```
#[derive(Default, Clone)]
pub struct Registry {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    metrics: BTreeMap<Key, Metric>,
    /// Each metric name's kind, whatever its labels.
    families: HashMap<String, &'static str>,
    /// Every series name some metric exports (its own name, a histogram's `_bucket`, `_sum`,
    /// `_count`, a timer's `_success_total` and `_error_total`) → the metric name exporting it.
    series: HashMap<String, String>,
}

/// The series names a metric `name` of `kind` puts in the Prometheus exposition.
fn exported_names(name: &str, kind: &str) -> Vec<String> {
    let suffixes: &[&str] = match kind {
        "histogram" => &["", "_bucket", "_sum", "_count"],
        "timer" => &["", "_bucket", "_sum", "_count", "_success_total", "_error_total"],
        _ => &[""],
    };
    suffixes.iter().map(|s| format!("{name}{s}")).collect()
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.inner.read().unwrap_or_else(PoisonError::into_inner).metrics.len();
        f.debug_struct("Registry").field("metrics", &n).finish()
    }
}

impl Registry {
    /// An empty registry.
    ///
    /// ```
    /// assert!(pool_metrics::Registry::new().snapshot().metrics.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide registry (used by [`timed`](crate::timed)).
    ///
    /// ```
    /// let c = pool_metrics::Registry::global().counter("doc_global_total", &[])?;
    /// c.inc();
    /// # Ok::<(), pool_metrics::RegistryError>(())
    /// ```
    pub fn global() -> &'static Registry {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(Registry::new)
    }

    /// The counter `name` with `labels`, created at zero on first use.
    ///
    /// # Errors
    ///
    /// [`RegistryError`] for an invalid name or label, if `name` is registered as another
    /// kind ([`TypeMismatch`](RegistryErrorKind::TypeMismatch)), or if another metric
    /// already exports a series named `name` ([`NameClash`](RegistryErrorKind::NameClash)).
    ///
    /// ```
    /// let r = pool_metrics::Registry::new();
    /// r.counter("requests_total", &[("route", "/a")])?.add(2);
    /// # Ok::<(), pool_metrics::RegistryError>(())
    /// ```
    pub fn counter(
        &self,
        name: &str,
        labels: &[(&str, &str)],
    ) -> Result<Arc<Counter>, RegistryError> {
        match self.get_or_insert(name, labels, || Metric::Counter(Arc::default()), "counter")? {
            Metric::Counter(c) => Ok(c),
            _ => unreachable_kind(),
        }
    }

    /// The gauge `name` with `labels`, created at zero on first use.
    ///
    /// # Errors
    ///
    /// As [`counter`](Self::counter).
    ///
    /// ```
    /// let r = pool_metrics::Registry::new();
    /// r.gauge("queue_depth", &[])?.set(3);
    /// # Ok::<(), pool_metrics::RegistryError>(())
    /// ```
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Result<Arc<Gauge>, RegistryError> {
        match self.get_or_insert(name, labels, || Metric::Gauge(Arc::default()), "gauge")? {
            Metric::Gauge(g) => Ok(g),
            _ => unreachable_kind(),
        }
    }

    /// The histogram `name` with `labels`, created with [`Histogram::new`] on first use.
    ///
    /// # Errors
    ///
    /// As [`counter`](Self::counter).
    ///
    /// ```
    /// let r = pool_metrics::Registry::new();
    /// r.histogram("payload_bytes", &[])?.record(512);
    /// # Ok::<(), pool_metrics::RegistryError>(())
    /// ```
    pub fn histogram(
        &self,
        name: &str,
        labels: &[(&str, &str)],
    ) -> Result<Arc<Histogram>, RegistryError> {
        match self.get_or_insert(name, labels, || Metric::Histogram(Arc::default()), "histogram")? {
            Metric::Histogram(h) => Ok(h),
            _ => unreachable_kind(),
        }
    }

    /// The timer `name` with `labels` (latency in nanoseconds plus success and error counts).
    ///
    /// # Errors
    ///
    /// As [`counter`](Self::counter).
    ///
    /// ```
    /// let r = pool_metrics::Registry::new();
    /// let t = r.timer("db_query_nanoseconds", &[("table", "users")])?;
    /// t.time(|| ());
    /// # Ok::<(), pool_metrics::RegistryError>(())
    /// ```
    pub fn timer(&self, name: &str, labels: &[(&str, &str)]) -> Result<Arc<Timer>, RegistryError> {
        match self.get_or_insert(name, labels, || Metric::Timer(Arc::default()), "timer")? {
            Metric::Timer(t) => Ok(t),
            _ => unreachable_kind(),
        }
    }

    fn get_or_insert(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        make: impl FnOnce() -> Metric,
        kind: &'static str,
    ) -> Result<Metric, RegistryError> {
        let key = key(name, labels)?;
        if matches!(kind, "histogram" | "timer") && key.labels.iter().any(|(k, _)| k == "le") {
            return Err(RegistryError {
                kind: RegistryErrorKind::InvalidLabel,
                message: format!(
                    "a {kind} cannot have a label named \"le\" (its buckets use it); rename the \
                     label of {name:?}"
                ),
            });
        }
        let check = |m: &Metric| {
            if m.kind() == kind { Ok(m.clone()) } else { Err(mismatch(name, m.kind(), kind)) }
        };
        if let Some(m) = self.inner.read().unwrap_or_else(PoisonError::into_inner).metrics.get(&key)
        {
            return check(m);
        }
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(m) = inner.metrics.get(&key) {
            return check(m);
        }
        match inner.families.get(name) {
            Some(&family) if family != kind => return Err(mismatch(name, family, kind)),
            Some(_) => {}
            None => {
                let exported = exported_names(name, kind);
                for series in &exported {
                    if let Some(owner) = inner.series.get(series) {
                        let owner_kind = inner.families.get(owner).copied().unwrap_or("metric");
                        return Err(RegistryError {
                            kind: RegistryErrorKind::NameClash,
                            message: format!(
                                "{kind} {name:?} would export the series {series:?}, which the \
                                 {owner_kind} {owner:?} already exports; rename one of them"
                            ),
                        });
                    }
                }
                for series in exported {
                    inner.series.insert(series, name.to_owned());
                }
                inner.families.insert(name.to_owned(), kind);
            }
        }
        let metric = make();
        inner.metrics.insert(key, metric.clone());
        Ok(metric)
    }

    /// Every metric's current value, sorted by name then labels.
    ///
    /// ```
    /// let r = pool_metrics::Registry::new();
    /// r.gauge("b", &[])?.set(-1);
    /// r.counter("a", &[])?.inc();
    /// let s = r.snapshot();
    /// assert_eq!(s.metrics[0].name, "a");
    /// assert!(s.to_json().contains("\"type\":\"gauge\""));
    /// # Ok::<(), pool_metrics::RegistryError>(())
    /// ```
    pub fn snapshot(&self) -> RegistrySnapshot {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let metrics = inner
            .metrics
            .iter()
            .map(|(k, m)| MetricSnapshot {
                name: k.name.clone(),
                labels: k.labels.iter().cloned().collect(),
                value: match m {
                    Metric::Counter(c) => MetricValue::Counter { value: c.get() },
                    Metric::Gauge(g) => MetricValue::Gauge { value: g.get() },
                    Metric::Histogram(h) => {
                        MetricValue::Histogram { summary: h.snapshot(), buckets: cumulative(h) }
                    }
                    Metric::Timer(t) => MetricValue::Timer {
                        summary: t.snapshot(),
                        buckets: cumulative(t.latency()),
                    },
                },
            })
            .collect();
        RegistrySnapshot { metrics }
    }
}

fn mismatch(name: &str, registered: &str, wanted: &str) -> RegistryError {
    RegistryError {
        kind: RegistryErrorKind::TypeMismatch,
        message: format!(
            "metric {name:?} is registered as a {registered}, not a {wanted}; every series of one \
             name must be one kind"
        ),
    }
}

fn unreachable_kind<T>() -> Result<T, RegistryError> {
    // `get_or_insert` checked the kind; kept as an error rather than a panic.
    Err(RegistryError {
        kind: RegistryErrorKind::TypeMismatch,
        message: "metric kind changed during registration".to_owned(),
    })
}

/// Whether `name` is a valid Prometheus metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(crate) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

fn key(name: &str, labels: &[(&str, &str)]) -> Result<Key, RegistryError> {
    if !valid_name(name) {
        return Err(RegistryError {
            kind: RegistryErrorKind::InvalidName,
            message: format!("metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*, got {name:?}"),
        });
    }
    let mut sorted: Vec<(String, String)> =
        labels.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect();
    sorted.sort();
    for (i, (k, _)) in sorted.iter().enumerate() {
        let repeated = i > 0 && sorted[i - 1].0 == *k;
        if !valid_label(k) || repeated {
            return Err(RegistryError {
                kind: RegistryErrorKind::InvalidLabel,
                message: format!(
                    "label names must match [a-zA-Z_][a-zA-Z0-9_]*, not start with __, and \
                     not repeat; got {k:?}"
                ),
            });
        }
    }
    Ok(Key { name: name.to_owned(), labels: sorted })
}

/// The upper bounds of exported histogram buckets: 1, 2, 5, 10, 20, 50, ... up to `highest`.
/// A fixed 1-2-5 series keeps the bucket set identical across scrapes and processes, which
/// Prometheus needs to aggregate; at 3 per decade a nanosecond histogram over 1 h has 38.
pub(crate) fn export_bounds(highest: u64) -> impl Iterator<Item = u64> {
    let mut decade = 1u64;
    let mut step = 0;
    std::iter::from_fn(move || {
        let v = decade.checked_mul([1, 2, 5][step])?;
        step += 1;
        if step == 3 {
            step = 0;
            decade = decade.checked_mul(10)?;
        }
        Some(v)
    })
    .take_while(move |&v| v <= highest)
}

/// Cumulative counts at the export bounds. A histogram bucket straddling a bound counts
/// above it (its values are within the histogram's relative error of the bound).
fn cumulative(h: &Histogram) -> Vec<CumulativeBucket> {
    let raw = h.buckets();
    let mut out = Vec::new();
    let mut seen = 0;
    let mut i = 0;
    for le in export_bounds(h.highest()) {
        while i < raw.len() && raw[i].0 <= le {
            seen += raw[i].1;
            i += 1;
        }
        out.push(CumulativeBucket { le, count: seen });
    }
    out
}

/// One cumulative histogram bucket: values `<= le`.
///
/// ```
/// use pool_metrics::{CumulativeBucket, MetricValue, Registry};
///
/// let r = Registry::new();
/// let h = r.histogram("size_bytes", &[])?;
/// for v in [3, 4, 30] {
///     h.record(v);
/// }
/// let MetricValue::Histogram { buckets, .. } = &r.snapshot().metrics[0].value else {
///     unreachable!()
/// };
/// // Bounds 1, 2, 5, 10, 20, 50, ...: two values at or below 5, three at or below 50.
/// assert!(buckets.contains(&CumulativeBucket { le: 5, count: 2 }));
/// assert!(buckets.contains(&CumulativeBucket { le: 50, count: 3 }));
/// # Ok::<(), pool_metrics::RegistryError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CumulativeBucket {
    /// Upper bound, inclusive.
    pub le: u64,
    /// Values at or below it.
    pub count: u64,
}

/// A metric's value in a [`RegistrySnapshot`].
///
/// ```
/// let v = pool_metrics::MetricValue::Counter { value: 1 };
/// assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"type":"counter","value":1}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MetricValue {
    /// A counter.
    Counter {
        /// The count.
        value: u64,
    },
    /// A gauge.
    Gauge {
        /// The level.
        value: i64,
    },
    /// A histogram.
    Histogram {
        /// Count, extremes, mean, quantiles.
        summary: HistogramSnapshot,
        /// Cumulative counts at the 1-2-5 export bounds.
        buckets: Vec<CumulativeBucket>,
    },
    /// A timer (nanoseconds).
    Timer {
        /// Latency summary with success and error counts.
        summary: TimerSnapshot,
        /// Cumulative latency counts at the 1-2-5 export bounds.
        buckets: Vec<CumulativeBucket>,
    },
}

/// One metric in a [`RegistrySnapshot`].
///
/// ```
/// let r = pool_metrics::Registry::new();
/// r.counter("c", &[("k", "v")])?;
/// assert_eq!(r.snapshot().metrics[0].labels["k"], "v");
/// # Ok::<(), pool_metrics::RegistryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSnapshot {
    /// The metric's name.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: MetricValue,
}

/// Every metric of a [`Registry`] at one moment; serialize it with serde, or see
/// [`to_json`](Self::to_json) and (feature `prometheus`) `to_prometheus`.
///
/// ```
/// let r = pool_metrics::Registry::new();
/// r.histogram("h", &[])?.record(3);
/// let json: serde_json::Value = serde_json::from_str(&r.snapshot().to_json()).unwrap();
/// assert_eq!(json["metrics"][0]["value"]["summary"]["max"], 3);
/// # Ok::<(), pool_metrics::RegistryError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistrySnapshot {
    /// The metrics, sorted by name then labels.
    pub metrics: Vec<MetricSnapshot>,
}

impl RegistrySnapshot {
    /// The snapshot as one line of JSON.
    ///
    /// ```
    /// let s = pool_metrics::RegistrySnapshot::default();
    /// assert_eq!(s.to_json(), r#"{"metrics":[]}"#);
    /// ```
    pub fn to_json(&self) -> String {
        // Cannot fail: every map key is a String and every value a plain number or string
        // (a NaN mean would become `null`).
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Times `f` into the timer `name` of the [`Registry::global`] registry: duration, and a
/// success (or an error if `f` panics). Characters not allowed in a metric name are replaced
/// by `_`, so this never fails.
///
/// ```
/// let v = pool_metrics::timed("doc_timed_nanoseconds", || 6 * 7);
/// assert_eq!(v, 42);
/// let t = pool_metrics::Registry::global().timer("doc_timed_nanoseconds", &[])?;
/// assert_eq!(t.snapshot().successes, 1);
/// # Ok::<(), pool_metrics::RegistryError>(())
/// ```
pub fn timed<T>(name: &str, f: impl FnOnce() -> T) -> T {
    match Registry::global().timer(&sanitize(name), &[]) {
        Ok(timer) => timer.time(f),
        // Only a kind clash (the name is a counter, say) lands here: run untimed.
        Err(_) => f(),
    }
}

/// `name` with every character outside `[a-zA-Z0-9_:]` replaced by `_` (and a leading digit
/// prefixed with `_`).
pub(crate) fn sanitize(name: &str) -> String {
    let mut s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == ':' { c } else { '_' }).collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':') {
        s.insert(0, '_');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_are_validated() {
        let r = Registry::new();
        assert!(r.counter("ok_name:x", &[]).is_ok());
        assert_eq!(r.counter("", &[]).unwrap_err().kind(), RegistryErrorKind::InvalidName);
        assert_eq!(r.counter("9x", &[]).unwrap_err().kind(), RegistryErrorKind::InvalidName);
        let bad = [("__x", "v")];
        assert_eq!(r.counter("c", &bad).unwrap_err().kind(), RegistryErrorKind::InvalidLabel);
        let twice = [("a", "1"), ("a", "2")];
        assert_eq!(r.counter("c", &twice).unwrap_err().kind(), RegistryErrorKind::InvalidLabel);
        assert_eq!(
            r.counter("c", &[("a:b", "1")]).unwrap_err().kind(),
            RegistryErrorKind::InvalidLabel
        );
    }

    #[test]
    fn same_key_same_metric_labels_order_ignored() {
        let r = Registry::new();
        r.counter("c", &[("a", "1"), ("b", "2")]).unwrap().inc();
        assert_eq!(r.counter("c", &[("b", "2"), ("a", "1")]).unwrap().get(), 1);
        assert_eq!(r.counter("c", &[("a", "1")]).unwrap().get(), 0);
        assert_eq!(r.snapshot().metrics.len(), 2);
    }

    #[test]
    fn a_name_is_one_kind_whatever_its_labels() {
        let r = Registry::new();
        r.counter("x", &[]).unwrap();
        let err = r.timer("x", &[("a", "b")]).unwrap_err();
        assert_eq!(err.kind(), RegistryErrorKind::TypeMismatch);
        assert_eq!(
            err.to_string(),
            "metric \"x\" is registered as a counter, not a timer; every series of one name \
             must be one kind"
        );
        assert!(r.counter("x", &[("a", "b")]).is_ok());
    }

    #[test]
    fn series_name_clashes_are_refused_in_either_order() {
        let clashes: [(&str, &str, &str, &str); 6] = [
            ("timer", "req", "counter", "req_success_total"),
            ("timer", "req", "gauge", "req_error_total"),
            ("histogram", "h", "counter", "h_count"),
            ("histogram", "h", "gauge", "h_sum"),
            ("histogram", "h", "counter", "h_bucket"),
            ("timer", "t", "histogram", "t_success_total"),
        ];
        let register = |r: &Registry, kind: &str, name: &str| match kind {
            "counter" => r.counter(name, &[]).map(drop),
            "gauge" => r.gauge(name, &[]).map(drop),
            "histogram" => r.histogram(name, &[]).map(drop),
            _ => r.timer(name, &[]).map(drop),
        };
        for (k1, n1, k2, n2) in clashes {
            for ((ka, na), (kb, nb)) in [((k1, n1), (k2, n2)), ((k2, n2), (k1, n1))] {
                let r = Registry::new();
                register(&r, ka, na).unwrap();
                let err = register(&r, kb, nb).unwrap_err();
                assert_eq!(err.kind(), RegistryErrorKind::NameClash, "{ka} {na} then {kb} {nb}");
                assert_eq!(r.snapshot().metrics.len(), 1, "the refused metric is not kept");
            }
        }
        // Names that merely share a prefix are fine.
        let r = Registry::new();
        r.timer("req", &[]).unwrap();
        r.counter("req_total", &[]).unwrap();
        r.counter("requests", &[]).unwrap();
    }

    #[test]
    fn le_is_reserved_on_histograms_and_timers_only() {
        let r = Registry::new();
        let le = [("le", "1")];
        assert_eq!(r.histogram("h", &le).unwrap_err().kind(), RegistryErrorKind::InvalidLabel);
        assert_eq!(r.timer("t", &le).unwrap_err().kind(), RegistryErrorKind::InvalidLabel);
        assert!(r.counter("c", &le).is_ok());
    }

    #[test]
    fn sanitize_makes_valid_names() {
        assert_eq!(sanitize("db query/ms"), "db_query_ms");
        assert_eq!(sanitize("9lives"), "_9lives");
        assert_eq!(sanitize(""), "_");
        assert!(valid_name(&sanitize("é!")));
    }

    #[test]
    fn export_bounds_are_1_2_5() {
        let b: Vec<u64> = export_bounds(100).collect();
        assert_eq!(b, [1, 2, 5, 10, 20, 50, 100]);
        assert_eq!(export_bounds(3_600_000_000_000).count(), 38);
        assert_eq!(export_bounds(u64::MAX).last(), Some(10_000_000_000_000_000_000));
    }

    #[test]
    fn cumulative_buckets_are_monotone_and_end_at_count() {
        let h = Histogram::new();
        for v in [1, 3, 3, 40, 999, 5_000_000] {
            h.record(v);
        }
        let c = cumulative(&h);
        assert!(c.windows(2).all(|w| w[0].count <= w[1].count));
        assert_eq!(c.last().map(|b| b.count), Some(6));
        assert_eq!(c.iter().find(|b| b.le == 5).map(|b| b.count), Some(3));
    }
}
