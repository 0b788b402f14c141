//! Retry timing: exponential backoff with seeded jitter, and `Retry-After` parsing.
//!
//! Jitter comes from a hash of (policy seed, request key, attempt), never from a global
//! RNG, so the schedule of one request does not depend on what else runs concurrently.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// When and how often to retry a failed call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// Backoff before the first retry, in milliseconds; doubles on each further retry.
    pub initial_backoff_ms: u64,
    /// Upper bound of one backoff, in milliseconds.
    pub max_backoff_ms: u64,
    /// Upper bound on a server's `Retry-After`, in milliseconds (longer waits are cut).
    pub max_retry_after_ms: u64,
    /// Seed of the jitter.
    pub jitter_seed: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
            max_retry_after_ms: 120_000,
            jitter_seed: 0,
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `retry` (0-based) of the request hashed as `request_key`.
    ///
    /// A server's `Retry-After` is honoured (capped at `max_retry_after_ms`); otherwise the
    /// delay is `min(max, initial * 2^retry)` scaled by a jitter factor in `[0.5, 1.0)`.
    #[must_use]
    pub fn delay(&self, retry: u32, request_key: u64, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(Duration::from_millis(self.max_retry_after_ms));
        }
        let exponential = self
            .initial_backoff_ms
            .saturating_mul(1u64.checked_shl(retry).unwrap_or(u64::MAX))
            .min(self.max_backoff_ms);
        let unit = unit_interval(splitmix64(
            self.jitter_seed ^ request_key.rotate_left(17) ^ u64::from(retry),
        ));
        let jittered = exponential as f64 * (0.5 + 0.5 * unit);
        Duration::from_micros((jittered * 1000.0) as u64)
    }
}

/// Parses a `Retry-After` value: delay seconds or an IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`). A date in the past means no wait.
#[must_use]
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_imf_fixdate(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the Unix epoch of an IMF-fixdate (RFC 9110 §5.6.7).
fn parse_imf_fixdate(value: &str) -> Option<u64> {
    let mut parts = value.split_ascii_whitespace();
    let _weekday = parts.next()?.strip_suffix(',')?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts
        .next()?
        .split(':')
        .map(|part| part.parse::<u64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next()? != "GMT" || parts.next().is_some() || !(1..=31).contains(&day) {
        return None;
    }
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u64, day: u64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = month as i64;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// SplitMix64: a small, well-mixed hash of a 64-bit state.
pub(crate) fn splitmix64(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_bounds_and_is_capped() {
        let policy = RetryPolicy {
            initial_backoff_ms: 100,
            max_backoff_ms: 1_000,
            ..RetryPolicy::default()
        };
        for (retry, nominal) in [
            (0, 100u64),
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1000),
            (40, 1000),
        ] {
            let delay = policy.delay(retry, 7, None).as_secs_f64() * 1000.0;
            assert!(
                delay >= nominal as f64 * 0.5 && delay < nominal as f64,
                "retry {retry}: {delay} ms not in [{}, {nominal})",
                nominal / 2
            );
        }
    }

    #[test]
    fn jitter_is_seeded() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(2, 11, None), policy.delay(2, 11, None));
        let other_seed = RetryPolicy {
            jitter_seed: 1,
            ..RetryPolicy::default()
        };
        assert_ne!(policy.delay(2, 11, None), other_seed.delay(2, 11, None));
        assert_ne!(policy.delay(2, 11, None), policy.delay(2, 12, None));
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let policy = RetryPolicy {
            max_retry_after_ms: 5_000,
            ..RetryPolicy::default()
        };
        let wait = Some(Duration::from_secs(3));
        assert_eq!(policy.delay(0, 1, wait), Duration::from_secs(3));
        let long = Some(Duration::from_secs(600));
        assert_eq!(policy.delay(0, 1, long), Duration::from_secs(5));
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770); // 1994-11-06 08:49:30 UTC
        assert_eq!(
            parse_retry_after(" 12 ", now),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 PST", now),
            None
        );
    }
}
