//! Times as pixmo reads them (`--as-of`, an inbox manifest's `recorded_at`).

/// Microseconds since the epoch from Unix seconds or RFC 3339 in UTC
/// (`2026-11-22T00:00:00Z`, optional fraction, `Z` or `+00:00`).
pub fn parse_as_of(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs * 1_000_000);
    }
    let bad =
        || format!("`{text}` is neither Unix seconds nor RFC 3339 UTC (2026-11-22T00:00:00Z)");
    let body = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))
        .ok_or_else(bad)?;
    let (date, clock) = body.split_once('T').ok_or_else(bad)?;
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let (clock, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let c: Vec<i64> = clock
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if d.len() != 3
        || c.len() != 3
        || !(1..=12).contains(&d[1])
        || !(1..=31).contains(&d[2])
        || c[0] > 23
        || c[1] > 59
        || c[2] > 60
    {
        return Err(bad());
    }
    let micros = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().take(6).collect();
        let v: i64 = digits.parse().map_err(|_| bad())?;
        v * 10i64.pow(u32::try_from(6 - digits.len()).unwrap_or(0))
    };
    let days = days_from_civil(d[0], d[1], d[2]);
    Ok((days * 86_400 + c[0] * 3600 + c[1] * 60 + c[2]) * 1_000_000 + micros)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        assert_eq!(parse_as_of("0").unwrap(), 0);
        assert_eq!(
            parse_as_of("2026-11-22T00:00:00Z").unwrap(),
            1_795_305_600_000_000
        );
        assert_eq!(
            parse_as_of("2000-02-29T00:00:00.5+00:00").unwrap(),
            951_782_400_500_000
        );
        assert!(parse_as_of("yesterday").is_err());
        assert!(parse_as_of("2026-13-01T00:00:00Z").is_err());
    }
}
