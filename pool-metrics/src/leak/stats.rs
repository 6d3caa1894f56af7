//! The three trend statistics of the leak report: least squares, Theil–Sen, Mann–Kendall.

/// A least-squares line `y = intercept + slope * x` and its coefficient of determination.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LineFit {
    pub(crate) slope: f64,
    pub(crate) r2: f64,
}

/// Ordinary least squares over `points`; `None` with fewer than two distinct `x`.
pub(crate) fn least_squares(points: impl Iterator<Item = (f64, f64)> + Clone) -> Option<LineFit> {
    let (mut n, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for (x, y) in points.clone() {
        n += 1.0;
        sx += x;
        sy += y;
    }
    if n < 2.0 {
        return None;
    }
    let (mx, my) = (sx / n, sy / n);
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in points {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    // A perfectly flat series is explained perfectly by a flat line.
    let r2 = if syy <= 0.0 { 1.0 } else { (sxy * sxy) / (sxx * syy) };
    Some(LineFit { slope, r2 })
}

/// The Theil–Sen slope: the median of the slopes between every pair of points with distinct
/// `x`. Breaks down only when more than 29 % of the points are outliers. `scratch` is reused
/// between calls to avoid allocating.
pub(crate) fn theil_sen(points: &[(f64, f64)], scratch: &mut Vec<f64>) -> Option<f64> {
    scratch.clear();
    for (i, &(xi, yi)) in points.iter().enumerate() {
        for &(xj, yj) in &points[i + 1..] {
            if xj != xi {
                scratch.push((yj - yi) / (xj - xi));
            }
        }
    }
    median(scratch)
}

/// The median of `values` (reordered in place); `None` when empty.
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mid = values.len() / 2;
    let (_, &mut upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    if values.len() % 2 == 1 {
        Some(upper)
    } else {
        let lower = values[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((lower + upper) / 2.0)
    }
}

/// The Mann–Kendall trend statistic of `ys` in order: `Z` (approximately standard normal when
/// there is no trend; positive for an upward trend), with the continuity correction and
/// without the ties correction (floors of real memory rarely tie exactly).
pub(crate) fn mann_kendall_z(ys: &[f64]) -> f64 {
    let n = ys.len();
    if n < 3 {
        return 0.0;
    }
    let mut s: i64 = 0;
    for i in 0..n {
        for j in i + 1..n {
            s += match ys[j].partial_cmp(&ys[i]) {
                Some(std::cmp::Ordering::Greater) => 1,
                Some(std::cmp::Ordering::Less) => -1,
                _ => 0,
            };
        }
    }
    let n = n as f64;
    let var = n * (n - 1.0) * (2.0 * n + 5.0) / 18.0;
    match s {
        0 => 0.0,
        s if s > 0 => (s as f64 - 1.0) / var.sqrt(),
        s => (s as f64 + 1.0) / var.sqrt(),
    }
}

/// The standard normal CDF, `Phi(z)`, from the Abramowitz–Stegun 7.1.26 erf approximation
/// (absolute error below 1.5e-7): the one-sided confidence that a `Z` shows a real trend.
pub(crate) fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn least_squares_of_a_line_is_exact() {
        let fit = least_squares((0..10).map(|i| (f64::from(i), 3.0 + 2.0 * f64::from(i)))).unwrap();
        assert!((fit.slope - 2.0).abs() < 1e-12);
        assert!((fit.r2 - 1.0).abs() < 1e-12);
        assert!(least_squares([(1.0, 1.0)].into_iter()).is_none());
        assert!(least_squares([(1.0, 1.0), (1.0, 2.0)].into_iter()).is_none());
    }

    #[test]
    fn theil_sen_ignores_a_minority_of_outliers() {
        let mut pts: Vec<(f64, f64)> =
            (0..20).map(|i| (f64::from(i), f64::from(i) * 5.0)).collect();
        pts[3].1 = 1e9;
        pts[11].1 = -1e9;
        let mut scratch = Vec::new();
        assert_eq!(theil_sen(&pts, &mut scratch), Some(5.0));
        assert_eq!(theil_sen(&[], &mut scratch), None);
    }

    #[test]
    fn mann_kendall_sign_follows_the_trend() {
        let up: Vec<f64> = (0..10).map(f64::from).collect();
        let down: Vec<f64> = up.iter().rev().copied().collect();
        assert!(mann_kendall_z(&up) > 3.0);
        assert!(mann_kendall_z(&down) < -3.0);
        assert_eq!(mann_kendall_z(&[1.0, 1.0, 1.0]), 0.0);
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-2.326_348) - 0.01).abs() < 1e-6);
    }

    proptest! {
        #[test]
        fn median_matches_sorting(mut v in proptest::collection::vec(-1e6f64..1e6, 1..50)) {
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len();
            let want = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
            prop_assert_eq!(median(&mut v), Some(want));
        }
    }
}
