use std::fmt;
use std::ops::{Add, Sub};

/// A point in simulated time, or a span of it, in whole microseconds since the start of the run.
///
/// Arithmetic saturates at [`SimTime::MAX`], which the model uses as "never": a delay that would
/// overflow simply never happens within any horizon.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    /// The start of the run, or a span of no time.
    pub const ZERO: SimTime = SimTime(0);
    /// "Never": the time of something that does not happen within any horizon.
    pub const MAX: SimTime = SimTime(u64::MAX);
    /// Microseconds in one second.
    pub const MICROS_PER_SECOND: u64 = 1_000_000;

    /// `secs` whole seconds, saturating at [`SimTime::MAX`].
    pub const fn from_secs(secs: u64) -> SimTime {
        SimTime(secs.saturating_mul(Self::MICROS_PER_SECOND))
    }

    /// `millis` milliseconds, saturating at [`SimTime::MAX`].
    pub const fn from_millis(millis: u64) -> SimTime {
        SimTime(millis.saturating_mul(1000))
    }

    /// The time in microseconds.
    pub const fn micros(self) -> u64 {
        self.0
    }

    /// Seconds as a float, for reports only: never feed this back into the model.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / Self::MICROS_PER_SECOND as f64
    }

    /// Reads seconds as the outputs write them (`92.000050`): exact, no float in between.
    /// At most six decimals; `None` for anything else.
    pub fn parse_seconds(text: &str) -> Option<SimTime> {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (int, frac) = match text.split_once('.') {
            Some((int, frac)) if digits(frac) => (int, frac),
            Some(_) => return None,
            None => (text, ""),
        };
        if !digits(int) || frac.len() > 6 {
            return None;
        }
        let whole: u64 = int.parse().ok()?;
        let mut micros: u64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
        micros *= 10u64.pow(6 - frac.len() as u32);
        whole.checked_mul(Self::MICROS_PER_SECOND)?.checked_add(micros).map(SimTime)
    }

    /// The smallest whole multiple of `interval` that is not before `self`.
    /// An interval of zero means "now".
    pub fn next_multiple_of(self, interval: SimTime) -> SimTime {
        if interval.0 == 0 {
            return self;
        }
        let rem = self.0 % interval.0;
        if rem == 0 { self } else { self + SimTime(interval.0 - rem) }
    }
}

impl Add for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(rhs.0))
    }
}

/// Seconds with six decimals, the format of every `*_s` column.
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.0 / Self::MICROS_PER_SECOND, self.0 % Self::MICROS_PER_SECOND)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_seconds_with_six_decimals() {
        assert_eq!(SimTime(92_000_050).to_string(), "92.000050");
        assert_eq!(SimTime::ZERO.to_string(), "0.000000");
    }

    #[test]
    fn parses_what_it_displays() {
        assert_eq!(SimTime::parse_seconds("92.000050"), Some(SimTime(92_000_050)));
        assert_eq!(SimTime::parse_seconds("3684.212335"), Some(SimTime(3_684_212_335)));
        assert_eq!(SimTime::parse_seconds("7"), Some(SimTime::from_secs(7)));
        assert_eq!(SimTime::parse_seconds("0.5"), Some(SimTime(500_000)));
        for bad in ["", ".5", "1.", "1.0000001", "-1", "1e3", "x", "99999999999999999999"] {
            assert_eq!(SimTime::parse_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn next_multiple_rounds_up_and_keeps_exact_multiples() {
        let ten = SimTime::from_secs(10);
        assert_eq!(SimTime::from_secs(92).next_multiple_of(ten), SimTime::from_secs(100));
        assert_eq!(SimTime::from_secs(90).next_multiple_of(ten), SimTime::from_secs(90));
        assert_eq!(SimTime(7).next_multiple_of(SimTime::ZERO), SimTime(7));
    }

    #[test]
    fn addition_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::MAX + SimTime(1), SimTime::MAX);
    }
}
