//! Prometheus text output parses back to the registry's values; JSON round-trips.

use std::collections::BTreeMap;

use pool_metrics::{Registry, RegistrySnapshot};
use proptest::prelude::*;

/// One parsed sample line: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// A strict parser of the subset of the text format we emit.
fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("# TYPE ") {
            let parts: Vec<&str> = line.split(' ').collect();
            let ok = parts.len() == 4 && ["counter", "gauge", "histogram"].contains(&parts[3]);
            if !ok {
                return Err(format!("line {}: bad TYPE {line:?}", n + 1));
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or(format!("line {}: no value", n + 1))?;
        let name = &line[..name_end];
        let valid = name.chars().enumerate().all(|(i, c)| {
            c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
        });
        if !valid || name.is_empty() {
            return Err(format!("line {}: bad name {name:?}", n + 1));
        }
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(r) = rest.strip_prefix('{') {
            let mut chars = r.char_indices();
            let mut key = String::new();
            loop {
                let (_, c) = chars.next().ok_or("unterminated labels")?;
                match c {
                    '}' => break,
                    ',' => {}
                    '=' => {
                        if chars.next().map(|x| x.1) != Some('"') {
                            return Err(format!("line {}: unquoted value", n + 1));
                        }
                        let mut value = String::new();
                        loop {
                            let (_, c) = chars.next().ok_or("unterminated value")?;
                            match c {
                                '"' => break,
                                '\\' => match chars.next().map(|x| x.1) {
                                    Some('\\') => value.push('\\'),
                                    Some('"') => value.push('"'),
                                    Some('n') => value.push('\n'),
                                    other => return Err(format!("bad escape {other:?}")),
                                },
                                c => value.push(c),
                            }
                        }
                        labels.insert(std::mem::take(&mut key), value);
                    }
                    c => key.push(c),
                }
            }
            let consumed = chars.next().map_or(r.len(), |(i, _)| i);
            rest = &r[consumed..];
        }
        let value = rest.trim_start_matches(' ');
        let value =
            value.parse::<f64>().map_err(|e| format!("line {}: {e} in {value:?}", n + 1))?;
        out.push((name.to_owned(), labels, value));
    }
    Ok(out)
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    samples
        .iter()
        .filter(|(n, l, _)| {
            n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn prometheus_output_parses_back(
        counts in proptest::collection::vec(0u64..1_000_000, 1..5),
        gauge in any::<i32>(),
        label in "[ -~\\n]{0,12}",
        values in proptest::collection::vec(0u64..10_000_000_000, 0..200),
    ) {
        let r = Registry::new();
        for (i, &c) in counts.iter().enumerate() {
            r.counter("requests_total", &[("route", &format!("/r{i}")), ("odd", &label)]).unwrap().add(c);
        }
        r.gauge("in_flight", &[("odd", &label)]).unwrap().set(i64::from(gauge));
        let h = r.histogram("latency_nanoseconds", &[]).unwrap();
        for &v in &values {
            h.record(v);
        }
        let text = r.snapshot().to_prometheus();
        let samples = parse(&text).map_err(TestCaseError::fail)?;
        for (i, &c) in counts.iter().enumerate() {
            let route = format!("/r{i}");
            let found = find(&samples, "requests_total", &[("route", &route), ("odd", &label)]);
            prop_assert_eq!(found.len(), 1);
            prop_assert_eq!(found[0].2, c as f64);
        }
        let g = find(&samples, "in_flight", &[("odd", &label)]);
        prop_assert_eq!(g[0].2, f64::from(gauge));
        let buckets = find(&samples, "latency_nanoseconds_bucket", &[]);
        prop_assert!(buckets.windows(2).all(|w| w[0].2 <= w[1].2), "not cumulative");
        let inf = buckets.last().unwrap();
        prop_assert_eq!(inf.1.get("le").map(String::as_str), Some("+Inf"));
        prop_assert_eq!(inf.2, values.len() as f64);
        prop_assert_eq!(find(&samples, "latency_nanoseconds_count", &[])[0].2, values.len() as f64);
        let sum: f64 = values.iter().map(|&v| v as f64).sum();
        let got = find(&samples, "latency_nanoseconds_sum", &[])[0].2;
        prop_assert!((got - sum).abs() <= 0.001 * sum + 1e-6, "sum {} vs {}", got, sum);
        // Each finite bucket holds at least the values clearly below its bound and at most
        // those at or below it.
        for b in &buckets[..buckets.len() - 1] {
            let le: u64 = b.1["le"].parse().unwrap();
            let at_most = values.iter().filter(|&&v| v <= le).count() as f64;
            let clearly = values.iter().filter(|&&v| (v as f64) < le as f64 * 0.998).count() as f64;
            prop_assert!(clearly <= b.2 && b.2 <= at_most, "le={} got={} [{}, {}]", le, b.2, clearly, at_most);
        }
    }
}

#[test]
fn json_round_trips_and_timers_export_outcomes() {
    let r = Registry::new();
    let t = r.timer("op_nanoseconds", &[("kind", "read")]).unwrap();
    t.time(|| ());
    let _: Result<(), ()> = t.time_result(|| Err(()));
    let snap = r.snapshot();
    let back: RegistrySnapshot = serde_json::from_str(&snap.to_json()).unwrap();
    assert_eq!(back, snap);
    let samples = parse(&snap.to_prometheus()).unwrap();
    assert_eq!(find(&samples, "op_nanoseconds_success_total", &[("kind", "read")])[0].2, 1.0);
    assert_eq!(find(&samples, "op_nanoseconds_error_total", &[("kind", "read")])[0].2, 1.0);
    assert_eq!(find(&samples, "op_nanoseconds_count", &[("kind", "read")])[0].2, 2.0);
}

#[cfg(target_os = "linux")]
#[test]
fn process_metrics_parse_back() {
    let p = pool_metrics::process_stats().unwrap();
    let samples = parse(&p.to_prometheus()).unwrap();
    assert_eq!(find(&samples, "process_resident_memory_bytes", &[])[0].2, p.rss_bytes as f64);
    assert!(find(&samples, "process_threads", &[])[0].2 >= 1.0);
}
