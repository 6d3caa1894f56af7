//! Prometheus text output parses back to the registry's values; JSON round-trips.

use std::collections::BTreeMap;

use pool_metrics::{Registry, RegistrySnapshot};
use proptest::prelude::*;

/// One parsed sample line: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// A strict parser of the subset of the text format we emit. Beyond each line's syntax it
/// checks what Prometheus checks across lines: one `# TYPE` line per family, every sample
/// after its family's `# TYPE` and inside that family (a histogram's `_bucket`, `_sum` and
/// `_count`, a counter's or gauge's own name), a family's lines together, no repeated label.
fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut out = Vec::new();
    let mut families: Vec<String> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("# TYPE ") {
            let parts: Vec<&str> = line.split(' ').collect();
            let ok = parts.len() == 4 && ["counter", "gauge", "histogram"].contains(&parts[3]);
            if !ok {
                return Err(format!("line {}: bad TYPE {line:?}", n + 1));
            }
            if families.iter().any(|f| f == parts[2]) {
                return Err(format!("line {}: second TYPE line for {:?}", n + 1, parts[2]));
            }
            families.push(parts[2].to_owned());
            current = Some((parts[2].to_owned(), parts[3].to_owned()));
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
        let Some((family, kind)) = &current else {
            return Err(format!("line {}: sample {name:?} before any TYPE line", n + 1));
        };
        let member = match kind.as_str() {
            "histogram" => ["_bucket", "_sum", "_count"]
                .iter()
                .any(|s| name.strip_suffix(s) == Some(family.as_str())),
            _ => name == family,
        };
        if !member {
            return Err(format!(
                "line {}: {name:?} is outside the {kind} family {family:?}",
                n + 1
            ));
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
                        if labels.insert(std::mem::take(&mut key), value).is_some() {
                            return Err(format!("line {}: repeated label", n + 1));
                        }
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
    #[test]
    fn prometheus_output_parses_back(
        counts in proptest::collection::vec(0u64..1_000_000, 1..5),
        gauge in any::<i32>(),
        label in "[ -~\\n]{0,12}",
        values in proptest::collection::vec(0u64..10_000_000_000, 0..200),
        outcomes in proptest::collection::vec((0usize..3, any::<bool>()), 0..30),
    ) {
        let r = Registry::new();
        // Timers under several label sets, and names that share prefixes with the timer's
        // series: every kind in one exposition.
        let timers: Vec<_> = (0..3)
            .map(|i| r.timer("op_nanoseconds", &[("op", &format!("o{i}")), ("odd", &label)]).unwrap())
            .collect();
        r.counter("op_nanoseconds_total", &[]).unwrap().inc();
        r.gauge("op", &[]).unwrap().set(-4);
        let mut model = [(0u64, 0u64); 3];
        for &(i, ok) in &outcomes {
            let _: Result<(), ()> = timers[i].time_result(|| if ok { Ok(()) } else { Err(()) });
            if ok { model[i].0 += 1 } else { model[i].1 += 1 }
        }
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
        for (i, &(ok, err)) in model.iter().enumerate() {
            let op = format!("o{i}");
            let labels = [("op", op.as_str()), ("odd", label.as_str())];
            let got = |name: &str| find(&samples, name, &labels)[0].2;
            prop_assert_eq!(got("op_nanoseconds_success_total"), ok as f64);
            prop_assert_eq!(got("op_nanoseconds_error_total"), err as f64);
            prop_assert_eq!(got("op_nanoseconds_count"), (ok + err) as f64);
            let inf = find(&samples, "op_nanoseconds_bucket", &[("le", "+Inf"), labels[0]]);
            prop_assert_eq!(inf[0].2, (ok + err) as f64);
        }
        prop_assert_eq!(find(&samples, "op_nanoseconds_total", &[])[0].2, 1.0);
        prop_assert_eq!(find(&samples, "op", &[])[0].2, -4.0);
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
fn the_parser_rejects_what_prometheus_rejects() {
    // The clashes the registry now refuses, written by hand: the parser must catch them, or
    // the test above proves nothing.
    let histogram_under_counter = "# TYPE x counter\nx 1\nx_bucket{a=\"b\",le=\"+Inf\"} 1\n";
    assert!(parse(histogram_under_counter).is_err());
    let two_types = "# TYPE req_success_total counter\nreq_success_total 1\n\
                     # TYPE req_success_total counter\nreq_success_total{a=\"b\"} 1\n";
    assert!(parse(two_types).is_err());
    assert!(parse("x 1\n").is_err());
    assert!(parse("# TYPE h histogram\nh_bucket{le=\"1\",le=\"2\"} 1\n").is_err());
    assert!(parse("# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"2\"} 2\n").is_ok());
}

#[test]
fn a_timer_family_is_contiguous_across_label_sets() {
    let r = Registry::new();
    for route in ["/a", "/b", "/c"] {
        r.timer("http_nanoseconds", &[("route", route)]).unwrap().time(|| ());
    }
    let text = r.snapshot().to_prometheus();
    parse(&text).unwrap();
    assert_eq!(text.matches("# TYPE http_nanoseconds_success_total counter").count(), 1);
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
