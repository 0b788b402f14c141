//! The time shown on a face and the exact hand angles it implies.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// A time of day. `hour` is `0..=23`; the dial shows it modulo 12.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub struct ClockTime {
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl ClockTime {
    /// A checked constructor: `None` unless `hour < 24`, `minute < 60`, `second < 60`.
    pub fn new(hour: u8, minute: u8, second: u8) -> Option<ClockTime> {
        let t = ClockTime {
            hour,
            minute,
            second,
        };
        t.is_valid().then_some(t)
    }

    /// A uniformly random time of day (`0..86400` seconds) from this seed.
    pub fn sample(seed: u64) -> ClockTime {
        let s = Rng::with_domain(seed, "pixmo-gen-clock/time").range_u32(0, 86_400);
        ClockTime::from_seconds_of_day(s)
    }

    /// `s` seconds after midnight, taken modulo one day.
    pub fn from_seconds_of_day(s: u32) -> ClockTime {
        let s = s % 86_400;
        ClockTime {
            hour: (s / 3600) as u8,
            minute: (s / 60 % 60) as u8,
            second: (s % 60) as u8,
        }
    }

    pub fn is_valid(&self) -> bool {
        self.hour < 24 && self.minute < 60 && self.second < 60
    }

    /// Hour hand: `30 * (h % 12) + 0.5 * m + s / 120` degrees clockwise from 12.
    pub fn hour_angle_deg(&self) -> f64 {
        30.0 * f64::from(self.hour % 12)
            + 0.5 * f64::from(self.minute)
            + f64::from(self.second) / 120.0
    }

    /// Minute hand: `6 * m + 0.1 * s` degrees clockwise from 12.
    pub fn minute_angle_deg(&self) -> f64 {
        6.0 * f64::from(self.minute) + 0.1 * f64::from(self.second)
    }

    /// Second hand: `6 * s` degrees clockwise from 12.
    pub fn second_angle_deg(&self) -> f64 {
        6.0 * f64::from(self.second)
    }
}

impl fmt::Display for ClockTime {
    /// `HH:MM:SS`, 24-hour.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angle_formulas() {
        let t = ClockTime::new(15, 30, 0).unwrap();
        assert_eq!(t.hour_angle_deg(), 105.0);
        assert_eq!(t.minute_angle_deg(), 180.0);
        let t = ClockTime::new(0, 0, 30).unwrap();
        assert_eq!(t.hour_angle_deg(), 0.25);
        assert_eq!(t.minute_angle_deg(), 3.0);
        assert_eq!(t.second_angle_deg(), 180.0);
        let t = ClockTime::new(23, 59, 59).unwrap();
        assert!(t.hour_angle_deg() < 360.0 && t.minute_angle_deg() < 360.0);
    }

    #[test]
    fn sample_is_valid_and_covers_the_day() {
        let mut pm = 0;
        for seed in 0..500 {
            let t = ClockTime::sample(seed);
            assert!(t.is_valid());
            pm += usize::from(t.hour >= 12);
        }
        assert!((150..350).contains(&pm), "{pm}");
        assert!(ClockTime::new(24, 0, 0).is_none());
    }
}
