use std::sync::Arc;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal};

use super::SimTime;

/// A random stream: ChaCha8, documented by its authors as portable (the same numbers on every
/// platform for the same seed and stream).
pub type Stream = ChaCha8Rng;

/// The source of every random stream of a run.
///
/// Each model component asks for its own stream by a fixed number. Streams are independent
/// ChaCha streams of the same key, so the draws of one component never shift because another
/// component drew more or less: adding a client does not change the CVM creation delays of an
/// otherwise equal scenario (common random numbers).
#[derive(Clone, Copy, Debug)]
pub struct Streams {
    seed: u64,
}

impl Streams {
    /// The streams of a run whose scenario has this `seed`.
    pub fn new(seed: u64) -> Self {
        Streams { seed }
    }

    /// Stream number `id`, from its start: the same seed and `id` always give the same draws.
    pub fn stream(&self, id: u64) -> Stream {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(id);
        rng
    }
}

/// True with probability `p`. `p <= 0` never draws true, `p >= 1` always does.
pub fn bernoulli(rng: &mut Stream, p: f64) -> bool {
    if p <= 0.0 {
        return false;
    }
    rng.random::<f64>() < p
}

/// A distribution of durations. Parameters are in microseconds; every sample is rounded to a
/// whole microsecond and clamped to `[0, SimTime::MAX]`, so the last-bit differences that
/// floating-point maths may show across platforms practically never reach the model.
#[derive(Clone, Debug)]
pub enum Delay {
    /// Always this duration.
    Constant(SimTime),
    /// Integer-uniform over `[min, max]` microseconds, both included.
    Uniform {
        /// The shortest draw, in microseconds.
        min: u64,
        /// The longest draw, in microseconds; not below `min`.
        max: u64,
    },
    /// Exponential, its rate per microsecond (see [`Delay::exponential`]).
    Exponential(Exp<f64>),
    /// Negative samples are clamped to zero.
    Normal(Normal<f64>),
    /// Log-normal over microseconds (see [`Delay::lognormal`]).
    LogNormal(LogNormal<f64>),
    /// A uniform pick among the given values.
    Empirical(Arc<[SimTime]>),
}

impl Delay {
    /// `mean_us` must be finite and positive.
    pub fn exponential(mean_us: f64) -> Option<Delay> {
        Exp::new(1.0 / mean_us).ok().map(Delay::Exponential)
    }

    /// Mean and standard deviation in microseconds; `None` when `std_us` is not finite.
    pub fn normal(mean_us: f64, std_us: f64) -> Option<Delay> {
        Normal::new(mean_us, std_us).ok().map(Delay::Normal)
    }

    /// `median_us` must be positive; the underlying normal has mean `ln(median)`.
    pub fn lognormal(median_us: f64, sigma: f64) -> Option<Delay> {
        LogNormal::new(median_us.ln(), sigma).ok().map(Delay::LogNormal)
    }

    /// Whether a draw can be 0 once quantised: a constant 0, a uniform from 0, an empirical list
    /// holding 0, and the continuous distributions whose support reaches 0 (exponential,
    /// lognormal, and normal, clamped there).
    pub fn can_draw_zero(&self) -> bool {
        match self {
            Delay::Constant(t) => *t == SimTime::ZERO,
            Delay::Uniform { min, .. } => *min == 0,
            Delay::Exponential(_) | Delay::Normal(_) | Delay::LogNormal(_) => true,
            Delay::Empirical(values) => values.contains(&SimTime::ZERO),
        }
    }

    /// Whether every draw is the same duration (a [`Delay::Constant`]).
    pub fn is_constant(&self) -> bool {
        matches!(self, Delay::Constant(_))
    }

    /// One draw from `rng`, in whole microseconds.
    pub fn sample(&self, rng: &mut Stream) -> SimTime {
        match self {
            Delay::Constant(t) => *t,
            Delay::Uniform { min, max } => SimTime(rng.random_range(*min..=*max)),
            Delay::Exponential(d) => quantise(d.sample(rng)),
            Delay::Normal(d) => quantise(d.sample(rng)),
            Delay::LogNormal(d) => quantise(d.sample(rng)),
            Delay::Empirical(values) => values[rng.random_range(0..values.len())],
        }
    }
}

fn quantise(micros: f64) -> SimTime {
    if micros.is_nan() || micros <= 0.0 {
        SimTime::ZERO
    } else if micros >= u64::MAX as f64 {
        SimTime::MAX
    } else {
        SimTime(round_half_up(micros))
    }
}

/// `x.round() as u64` for `0 < x < 2^64`, without the libm call `f64::round` is on baseline
/// x86-64 (a few per cent of a run). Exact: the fraction `x - trunc(x)` is computed without
/// rounding, and at 2^52 and above every `f64` is a whole number.
#[inline]
fn round_half_up(x: f64) -> u64 {
    let whole = x as u64;
    whole + u64::from(x - whole as f64 >= 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_stream_give_the_same_draws_and_other_streams_differ() {
        let streams = Streams::new(42);
        let draws = |id| -> Vec<u64> { (0..4).map(|_| streams.stream(id).random::<u64>()).collect() };
        assert_eq!(draws(1), draws(1));
        let mut a = streams.stream(1);
        let mut b = streams.stream(2);
        assert_ne!(a.random::<u64>(), b.random::<u64>());
    }

    #[test]
    fn samples_are_whole_microseconds_within_bounds() {
        let mut rng = Streams::new(7).stream(0);
        let uniform = Delay::Uniform { min: 5, max: 9 };
        let normal = Delay::normal(10.0, 1000.0).unwrap();
        for _ in 0..1000 {
            let u = uniform.sample(&mut rng);
            assert!((5..=9).contains(&u.0));
            // A normal centred near zero must be clamped, never wrap to a huge value.
            assert!(normal.sample(&mut rng).0 < 10_000);
        }
    }

    #[test]
    fn lognormal_median_is_its_parameter() {
        let mut rng = Streams::new(3).stream(0);
        let d = Delay::lognormal(90e6, 0.25).unwrap();
        let mut s: Vec<u64> = (0..20_001).map(|_| d.sample(&mut rng).0).collect();
        s.sort_unstable();
        let median = s[10_000] as f64;
        assert!((median / 90e6 - 1.0).abs() < 0.02, "median {median}");
    }

    #[test]
    fn rounding_matches_f64_round_everywhere_it_is_used() {
        let mut rng = Streams::new(11).stream(0);
        let mut cases = vec![0.5, 1.5, 2.5, 0.49999999999999994, 4503599627370495.5, 4503599627370496.0];
        cases.extend([9007199254740993.0, 1e19, (u64::MAX as f64) * 0.999_999, f64::MIN_POSITIVE, 1e-300]);
        for _ in 0..100_000 {
            let x: f64 = rng.random::<f64>() * 10f64.powi(rng.random_range(0..19));
            cases.push(x);
            cases.push(x.trunc() + 0.5);
        }
        for x in cases {
            assert_eq!(round_half_up(x), x.round() as u64, "{x:e}");
        }
    }

    #[test]
    fn bernoulli_extremes_are_exact() {
        let mut rng = Streams::new(1).stream(0);
        assert!((0..1000).all(|_| !bernoulli(&mut rng, 0.0)));
        assert!((0..1000).all(|_| bernoulli(&mut rng, 1.0)));
    }
}
