//! Helpers for writing typst source: string literals, colours and number formatting.

/// `s` as a typst string literal; the safe way to put data into code mode.
#[must_use]
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `rgb("#rrggbb")`.
#[must_use]
pub fn rgb(hex: &str) -> String {
    format!("rgb(\"{hex}\")")
}

/// How the numbers of a column are written.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NumFormat {
    /// Digits after the decimal point (0..=2).
    pub decimals: u8,
    /// Written before the number (`$`, `€`), after any minus sign.
    pub prefix: String,
    /// Written after the number (`%`, ` kg`).
    pub suffix: String,
    /// Group thousands with commas.
    pub thousands: bool,
}

impl NumFormat {
    /// A plain integer format with thousands separators.
    #[must_use]
    pub fn int() -> NumFormat {
        NumFormat {
            decimals: 0,
            prefix: String::new(),
            suffix: String::new(),
            thousands: true,
        }
    }

    /// Money with two decimals and a currency prefix.
    #[must_use]
    pub fn money(symbol: &str) -> NumFormat {
        NumFormat {
            decimals: 2,
            prefix: symbol.to_owned(),
            suffix: String::new(),
            thousands: true,
        }
    }

    /// `decimals` digits with a suffix.
    #[must_use]
    pub fn with_suffix(decimals: u8, suffix: &str) -> NumFormat {
        NumFormat {
            decimals,
            prefix: String::new(),
            suffix: suffix.to_owned(),
            thousands: true,
        }
    }

    /// Writes `minor` (the value times `10^decimals`).
    #[must_use]
    pub fn format(&self, minor: i64) -> String {
        format_scaled(
            minor,
            self.decimals,
            self.thousands,
            &self.prefix,
            &self.suffix,
        )
    }
}

/// Writes `minor / 10^decimals` with optional grouping, prefix and suffix.
#[must_use]
pub fn format_scaled(
    minor: i64,
    decimals: u8,
    thousands: bool,
    prefix: &str,
    suffix: &str,
) -> String {
    let neg = minor < 0;
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(u32::from(decimals));
    let (int, frac) = (abs / scale, abs % scale);
    let digits = int.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if thousands && i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(prefix);
    out.push_str(&grouped);
    if decimals > 0 {
        out.push('.');
        out.push_str(&format!("{frac:0width$}", width = usize::from(decimals)));
    }
    out.push_str(suffix);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(lit(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(lit("x\ny"), r#""x\ny""#);
    }

    #[test]
    fn numbers_group_and_pad() {
        assert_eq!(NumFormat::money("$").format(1_234_567), "$12,345.67");
        assert_eq!(NumFormat::money("$").format(-5), "-$0.05");
        assert_eq!(NumFormat::int().format(1_000_000), "1,000,000");
        assert_eq!(NumFormat::with_suffix(1, "%").format(57), "5.7%");
    }
}
