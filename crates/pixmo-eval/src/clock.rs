//! Clock-reading answers, scored after Molmo's `ClockEval` (PIXMO_DATA.md §4): a time is
//! the first `H:MM` or `H:MM:SS` in the answer; a component the gold marks `-1` is not
//! visible on the face and not scored; when none is visible the model must decline (no `:`
//! in its answer); hours compare on the 12-hour dial (0 and 12 are the same hour).

/// A time read from an answer: hour 0–23 (a following `pm` adds 12, `12 am` is 0),
/// minute, and second when written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockTime {
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–59, when written.
    pub second: Option<u32>,
}

/// The gold time; each component is `None` when the face does not show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockGold {
    /// Hour (0–23 or 1–12), when visible.
    pub hour: Option<u32>,
    /// Minute, when visible.
    pub minute: Option<u32>,
    /// Second, when visible.
    pub second: Option<u32>,
}

impl ClockGold {
    /// Whether any component is visible.
    #[must_use]
    pub fn answerable(self) -> bool {
        self.hour.is_some() || self.minute.is_some() || self.second.is_some()
    }
}

fn digits_at(b: &[u8], from: usize) -> usize {
    b.get(from..).map_or(0, |rest| {
        rest.iter().take_while(|c| c.is_ascii_digit()).count()
    })
}

/// The first `H:MM[:SS]` in `text` with hour < 24, minute and second < 60.
#[must_use]
pub fn parse_time(text: &str) -> Option<ClockTime> {
    let b = text.as_bytes();
    let number =
        |from: usize, len: usize| -> Option<u32> { text.get(from..from + len)?.parse().ok() };
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let hour_len = digits_at(b, i);
        let colon = i + hour_len;
        if (1..=2).contains(&hour_len)
            && b.get(colon) == Some(&b':')
            && digits_at(b, colon + 1) == 2
        {
            let hour = number(i, hour_len)?;
            let minute = number(colon + 1, 2)?;
            let mut end = colon + 3;
            let second = if b.get(end) == Some(&b':') && digits_at(b, end + 1) == 2 {
                end += 3;
                number(end - 2, 2)
            } else {
                None
            };
            if hour < 24 && minute < 60 && second.is_none_or(|s| s < 60) {
                let after = text[end..].trim_start().to_ascii_lowercase();
                let hour = if after.starts_with("pm") || after.starts_with("p.m.") {
                    if hour < 12 { hour + 12 } else { hour }
                } else if (after.starts_with("am") || after.starts_with("a.m.")) && hour == 12 {
                    0
                } else {
                    hour
                };
                return Some(ClockTime {
                    hour,
                    minute,
                    second,
                });
            }
        }
        i += hour_len.max(1);
    }
    None
}

/// Scores of one clock answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockScore {
    /// The gold shows at least one component.
    pub answerable: bool,
    /// A time was read from the answer (answerable clocks).
    pub valid: bool,
    /// Every visible component read exactly (hour on the 12-hour dial); for an
    /// unanswerable clock, the model declined.
    pub exact: bool,
    /// Within `close_minutes` on the dial (see [`score_clock`]); for an unanswerable clock,
    /// the model declined.
    pub close: bool,
    /// The hour is right (12-hour), or not visible.
    pub hour: bool,
}

/// Scores an answer. `close` compares the visible hour and minute as a time on the 12-hour
/// dial, wrapping past 12 (`12:58` is 3 minutes from `1:01`), within `close_minutes`
/// (Molmo: 3, and 1 on its real-clock test set); with only the minute visible, minutes on
/// the 60-minute dial; seconds are not part of `close`.
#[must_use]
pub fn score_clock(answer: &str, gold: ClockGold, close_minutes: u32) -> ClockScore {
    if !gold.answerable() {
        let declined = !answer.contains(':');
        return ClockScore {
            answerable: false,
            valid: declined,
            exact: declined,
            close: declined,
            hour: declined,
        };
    }
    let Some(read) = parse_time(answer) else {
        return ClockScore {
            answerable: true,
            ..ClockScore::default()
        };
    };
    let hour = gold.hour.is_none_or(|h| h % 12 == read.hour % 12);
    let minute = gold.minute.is_none_or(|m| m == read.minute);
    let second = gold.second.is_none_or(|s| read.second == Some(s));
    let circular = |a: u32, b: u32, period: u32| {
        let d = (a % period).abs_diff(b % period);
        d.min(period - d)
    };
    let close = match (gold.hour, gold.minute) {
        (Some(h), Some(m)) => {
            circular((h % 12) * 60 + m, (read.hour % 12) * 60 + read.minute, 720) <= close_minutes
        }
        (None, Some(m)) => circular(m, read.minute, 60) <= close_minutes,
        (Some(_), None) => hour,
        (None, None) => gold.second.is_some_and(|s| {
            read.second
                .is_some_and(|r| circular(s, r, 60) <= close_minutes)
        }),
    };
    ClockScore {
        answerable: true,
        valid: true,
        exact: hour && minute && second,
        close,
        hour,
    }
}

/// What kind of misreading a wrong hour is, for a face that shows both the hour and the
/// minute (positions on the dial in minute marks; the first kind that fits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HourError {
    /// No time in the answer.
    NoTime,
    /// The minute within 3, the hour one off: the hour hand read on the wrong side of a
    /// numeral, mostly near the hour change.
    AdjacentHour,
    /// The minute within 3, the hour two or more off.
    FarHour,
    /// The hour read is the one the minute hand would give (within 5 marks of the middle of
    /// that hour's sector) and the minute read is where the hour hand points (within 4
    /// marks): the two hands taken for each other.
    HandsSwapped,
    /// The hour one off and the minute more than 3 off.
    AdjacentHourMinuteOff,
    /// Anything else.
    Other,
}

impl HourError {
    /// Every kind, in declaration order.
    pub const ALL: [HourError; 6] = [
        HourError::NoTime,
        HourError::AdjacentHour,
        HourError::FarHour,
        HourError::HandsSwapped,
        HourError::AdjacentHourMinuteOff,
        HourError::Other,
    ];

    /// Name in reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            HourError::NoTime => "no_time",
            HourError::AdjacentHour => "adjacent_hour",
            HourError::FarHour => "far_hour",
            HourError::HandsSwapped => "hands_swapped",
            HourError::AdjacentHourMinuteOff => "adjacent_hour_minute_off",
            HourError::Other => "other",
        }
    }
}

/// The kind of hour error in `answer`; `None` when the hour is right or the face does not
/// show both the hour and the minute.
#[must_use]
pub fn hour_error(answer: &str, gold: ClockGold) -> Option<HourError> {
    let (Some(hour), Some(minute)) = (gold.hour, gold.minute) else {
        return None;
    };
    let Some(read) = parse_time(answer) else {
        return Some(HourError::NoTime);
    };
    if hour % 12 == read.hour % 12 {
        return None;
    }
    // The distance of two positions on a dial of `period` marks.
    let dial = |a: u32, b: u32, period: u32| {
        let d = (a % period).abs_diff(b % period);
        d.min(period - d)
    };
    let hours_off = dial(hour, read.hour, 12);
    if dial(minute, read.minute, 60) <= 3 {
        return Some(if hours_off == 1 {
            HourError::AdjacentHour
        } else {
            HourError::FarHour
        });
    }
    // Where the hour hand points, in tenths of a minute mark: (h·60 + m)/12 marks.
    let hour_hand = ((hour % 12) * 60 + minute) * 10 / 12;
    // The hour read names the minute hand's sector (its middle is h·5 + 2.5 marks) and the
    // minute read is where the hour hand points.
    if dial((read.hour % 12) * 50 + 25, minute * 10, 600) <= 50
        && dial(read.minute * 10, hour_hand, 600) <= 40
    {
        return Some(HourError::HandsSwapped);
    }
    Some(if hours_off == 1 {
        HourError::AdjacentHourMinuteOff
    } else {
        HourError::Other
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gold(h: i32, m: i32, s: i32) -> ClockGold {
        let v = |x: i32| u32::try_from(x).ok();
        ClockGold {
            hour: v(h),
            minute: v(m),
            second: v(s),
        }
    }

    #[test]
    fn wrong_hours_are_sorted_into_kinds() {
        use HourError::*;
        let g = gold(12, 20, 15);
        assert_eq!(hour_error("12:21:02", g), None, "hour right");
        assert_eq!(hour_error("0:40", g), None, "12 and 0 are one hour");
        assert_eq!(hour_error("no idea", g), Some(NoTime));
        // 12:20: hour hand just past 12 (1.7 marks), minute hand at 20 (the 4): read as 4:02.
        assert_eq!(hour_error("4:02:30", g), Some(HandsSwapped));
        assert_eq!(hour_error("4:01", gold(12, 20, -1)), Some(HandsSwapped));
        // 3:59: the hour hand is almost on the 4.
        assert_eq!(hour_error("4:58", gold(3, 59, -1)), Some(AdjacentHour));
        assert_eq!(hour_error("2:59", gold(3, 59, -1)), Some(AdjacentHour));
        assert_eq!(hour_error("7:57", gold(3, 59, -1)), Some(FarHour));
        assert_eq!(
            hour_error("4:30", gold(3, 59, -1)),
            Some(AdjacentHourMinuteOff)
        );
        assert_eq!(hour_error("8:30", gold(3, 59, -1)), Some(Other));
        // 9:23: hour hand at 46.9 marks, minute hand at the 4 (23): read as 4:46 or 4:47.
        assert_eq!(hour_error("4:47", gold(9, 23, -1)), Some(HandsSwapped));
        assert_eq!(hour_error("5:47", gold(9, 23, -1)), Some(HandsSwapped));
        assert_eq!(hour_error("6:47", gold(9, 23, -1)), Some(Other));
        assert_eq!(hour_error("4:40", gold(9, 23, -1)), Some(Other));
        // The edges, 9:23: the hour read 5 names a sector whose middle (27.5 marks) is 4.5
        // from the minute hand (23), 3's (17.5) is 5.5 away; the minute read 43 is 3.9 from
        // the hour hand (46.9), 42 is 4.9 away.
        assert_eq!(hour_error("5:43", gold(9, 23, -1)), Some(HandsSwapped));
        assert_eq!(hour_error("5:42", gold(9, 23, -1)), Some(Other));
        assert_eq!(
            hour_error("3:47", gold(9, 23, -1)),
            Some(Other),
            "5.5 marks off"
        );
        // Hands near each other (2:14: hour hand at 11.2): the minute right is not a swap.
        assert_eq!(hour_error("3:14", gold(2, 14, -1)), Some(AdjacentHour));
        // Not both shown: no kind.
        assert_eq!(hour_error("4:02", gold(12, -1, -1)), None);
        assert_eq!(hour_error("4:02", gold(-1, 20, -1)), None);
        let names: std::collections::BTreeSet<_> = HourError::ALL.map(HourError::name).into();
        assert_eq!(names.len(), HourError::ALL.len());
    }

    #[test]
    fn times_are_read_with_am_and_pm() {
        let t = |h, m, s| {
            Some(ClockTime {
                hour: h,
                minute: m,
                second: s,
            })
        };
        assert_eq!(parse_time("The watch shows 10:08:32."), t(10, 8, Some(32)));
        assert_eq!(parse_time("at 3:05 pm"), t(15, 5, None));
        assert_eq!(parse_time("12:30 AM"), t(0, 30, None));
        assert_eq!(parse_time("12:30 p.m."), t(12, 30, None));
        assert_eq!(parse_time("no time 123:45 or 25:00 then 7:61, 7:5"), None);
        assert_eq!(parse_time("ratio 3:2 then 4:15"), t(4, 15, None));
        assert_eq!(parse_time("9:59:60"), None, "no second 60");
        assert_eq!(parse_time("ü1:05"), t(1, 5, None));
    }

    #[test]
    fn exact_close_and_the_twelve_hour_dial() {
        let s = score_clock("It is 10:08:32.", gold(10, 8, 32), 3);
        assert!(s.exact && s.close && s.hour && s.valid);
        let s = score_clock("It is 10:08:35.", gold(10, 8, 32), 3);
        assert!(!s.exact && s.close);
        assert!(
            score_clock("10:08:35", gold(10, 8, -1), 3).exact,
            "seconds not shown"
        );
        assert!(
            !score_clock("10:08", gold(10, 8, 32), 3).exact,
            "seconds shown, not read"
        );
        let wrap = score_clock("12:58", gold(1, 1, -1), 3);
        assert!(wrap.close && !wrap.hour && !wrap.exact);
        assert!(score_clock("10:10 pm", gold(10, 10, -1), 3).exact);
        assert!(score_clock("0:10", gold(12, 10, -1), 3).exact);
        assert!(!score_clock("10:14", gold(10, 10, -1), 3).close);
        assert!(
            !score_clock("10:12", gold(10, 10, -1), 1).close,
            "test-set tolerance"
        );
        assert!(
            score_clock("3:59", gold(-1, 1, -1), 3).close,
            "minute dial wraps"
        );
        assert!(!score_clock("nothing", gold(10, 10, -1), 3).valid);
    }

    #[test]
    fn unanswerable_clocks_must_be_declined() {
        let none = gold(-1, -1, -1);
        assert!(score_clock("I cannot tell the time.", none, 3).exact);
        let s = score_clock("It is 10:10.", none, 3);
        assert!(!s.exact && !s.close && !s.answerable);
    }
}
