//! The statistics behind the figures: rounding, percentages, means, 95%
//! Wilson intervals and two-proportion z-tests.

/// Rounds to two decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `100·part/whole` with two decimals; `None` over zero.
#[allow(clippy::cast_precision_loss)]
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole != 0).then(|| round2(100.0 * part as f64 / whole as f64))
}

/// `100·(now − before)/before`; `None` when there was nothing before.
#[allow(clippy::cast_precision_loss)]
pub fn change_percent(now: i64, before: i64) -> Option<f64> {
    (before != 0).then(|| round2(100.0 * (now - before) as f64 / before as f64))
}

/// The mean of some values; `None` for none.
#[allow(clippy::cast_precision_loss)]
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The z of a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The 95% Wilson score interval of `good` successes in `n`, in percent.
#[allow(clippy::cast_precision_loss)]
pub fn wilson(good: i64, n: i64) -> Option<(f64, f64)> {
    if n <= 0 {
        return None;
    }
    let (n, p) = (n as f64, good as f64 / n as f64);
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some((100.0 * (centre - half).max(0.0), 100.0 * (centre + half).min(1.0)))
}

/// The complementary error function (Numerical Recipes' Chebyshev fit,
/// relative error below 1.2e-7 everywhere).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The two-sided p-value of the pooled two-proportion z-test: is `g1/n1`
/// different from `g2/n2`? `None` when either group is empty or the pooled
/// rate is 0 or 1 (no variance to test against).
#[allow(clippy::cast_precision_loss)]
pub fn two_proportion_p(g1: i64, n1: i64, g2: i64, n2: i64) -> Option<f64> {
    if n1 <= 0 || n2 <= 0 {
        return None;
    }
    let (p1, p2) = (g1 as f64 / n1 as f64, g2 as f64 / n2 as f64);
    let pooled = (g1 + g2) as f64 / (n1 + n2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    if se == 0.0 {
        return (p1 == p2).then_some(1.0);
    }
    let z = (p1 - p2) / se;
    Some(erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0))
}
