//! Per point and metric: mean, sample standard deviation and the 95 % confidence interval of
//! the mean from Student's t with n − 1 degrees of freedom.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// What the replications of one point say about one metric.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Estimate {
    /// Replications that gave a value (a latency is null in a run without terminations).
    pub n: usize,
    /// Mean of the values; `None` without any.
    pub mean: Option<f64>,
    /// Sample standard deviation (n − 1); `None` below two values.
    pub sd: Option<f64>,
    /// Half-width of the 95 % confidence interval of the mean; `None` below two values.
    pub ci95: Option<f64>,
}

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom.
pub(super) fn t_975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64).expect("df >= 1").inverse_cdf(0.975)
}

/// The estimate from the values the replications gave.
pub(super) fn estimate(values: &[f64]) -> Estimate {
    let n = values.len();
    if n == 0 {
        return Estimate { n, mean: None, sd: None, ci95: None };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Estimate { n, mean: Some(mean), sd: None, ci95: None };
    }
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
    let sd = variance.sqrt();
    Estimate { n, mean: Some(mean), sd: Some(sd), ci95: Some(t_975(n - 1) * sd / (n as f64).sqrt()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked by hand: values 10, 12, 14, 16, 18: mean 14; squared deviations 16, 4, 0, 4, 16
    /// sum to 40, variance 40 / 4 = 10, sd √10 = 3.162278; t(0.975, 4) = 2.776445 (tables);
    /// half-width 2.776445 × 3.162278 / √5 = 2.776445 × √2 = 3.926486.
    #[test]
    fn a_confidence_interval_worked_by_hand() {
        let e = estimate(&[10.0, 12.0, 14.0, 16.0, 18.0]);
        assert_eq!(e.n, 5);
        assert_eq!(e.mean, Some(14.0));
        assert!((e.sd.unwrap() - 3.162278).abs() < 1e-6);
        assert!((e.ci95.unwrap() - 3.926486).abs() < 1e-6, "{:?}", e.ci95);
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        for (df, t) in [(1, 12.706205), (2, 4.302653), (9, 2.262157), (29, 2.045230), (1000, 1.962339)] {
            assert!((t_975(df) - t).abs() < 1e-5, "df {df}: {}", t_975(df));
        }
    }

    #[test]
    fn one_value_has_a_mean_but_no_spread() {
        assert_eq!(estimate(&[3.5]), Estimate { n: 1, mean: Some(3.5), sd: None, ci95: None });
        assert_eq!(estimate(&[]).mean, None);
    }
}
