//! Escaping and validation of every user-supplied value that `pixmo launch` writes into a
//! shell script, an `#SBATCH` line or a Kubernetes manifest.
//!
//! The rule: a value is either quoted for the one language it lands in (POSIX shell single
//! quotes; YAML is emitted by `serde_yaml`, never formatted by hand) or rejected with a
//! message naming the flag. Control characters are rejected everywhere: a newline in a
//! comment or an `#SBATCH` line would start a new line of the script.

use std::path::Path;

use anyhow::bail;

/// `s` as one POSIX shell word: bare when it only holds harmless characters, else in single
/// quotes (a `'` becomes `'\''`). Safe for any string without NUL.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Rejects control characters (newline, carriage return, tab, escape, NUL...) in `value`.
pub fn no_control(what: &str, value: &str) -> anyhow::Result<()> {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        bail!(
            "{what} {value:?} contains the control character {c:?}; `pixmo launch` writes it into scripts and manifests, where it could start a new line"
        );
    }
    Ok(())
}

/// A path as UTF-8 text without control characters.
pub fn path_text<'a>(what: &str, path: &'a Path) -> anyhow::Result<&'a str> {
    let Some(text) = path.to_str() else {
        bail!("{what} `{}` is not valid UTF-8", path.display());
    };
    no_control(what, text)?;
    Ok(text)
}

/// A path for an `#SBATCH --output`/`--error` line: sbatch splits those lines itself, so
/// whitespace, quotes, backslashes and `#` are refused; `%` (a Slurm file-name pattern) is
/// doubled.
pub fn sbatch_path(what: &str, path: &str) -> anyhow::Result<String> {
    no_control(what, path)?;
    if let Some(c) = path
        .chars()
        .find(|c| c.is_whitespace() || "'\"\\#".contains(*c))
    {
        bail!(
            "{what} `{path}` contains {c:?}, which an `#SBATCH` line cannot hold; pass --log-dir with a plainer path"
        );
    }
    Ok(path.replace('%', "%%"))
}

/// Slurm memory: digits with an optional K, M, G or T suffix. Returns (Slurm, Kubernetes)
/// spellings: `16G` -> (`16G`, `16Gi`); no suffix means megabytes, as in Slurm.
pub fn memory(value: &str) -> anyhow::Result<(String, String)> {
    let (digits, unit) = match value.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&value[..i], c.to_ascii_uppercase()),
        _ => (value, 'M'),
    };
    if digits.is_empty()
        || !digits.chars().all(|c| c.is_ascii_digit())
        || !"KMGT".contains(unit)
        || digits.parse::<u64>().map_or(true, |n| n == 0)
    {
        bail!("--mem `{value}` is not a memory size such as `16G`, `500M` or `1T`");
    }
    Ok((format!("{digits}{unit}"), format!("{digits}{unit}i")))
}

/// A Slurm time limit (`MINUTES`, `MINUTES:SECONDS`, `HOURS:MINUTES:SECONDS`, `DAYS-HOURS`,
/// `DAYS-HOURS:MINUTES`, `DAYS-HOURS:MINUTES:SECONDS`) in seconds.
pub fn time_limit(value: &str) -> anyhow::Result<u64> {
    let bad = || {
        anyhow::anyhow!(
            "--time `{value}` is not a Slurm time limit such as `90` (minutes), `12:00:00` or `2-00:00:00`"
        )
    };
    let number = |s: &str| -> anyhow::Result<u64> {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let (days, rest) = match value.split_once('-') {
        Some((d, rest)) => (Some(number(d)?), rest),
        None => (None, value),
    };
    let parts = rest
        .split(':')
        .map(number)
        .collect::<anyhow::Result<Vec<u64>>>()?;
    let seconds = match (days, parts.as_slice()) {
        (None, [m]) => m * 60,
        (None, [m, s]) => m * 60 + s,
        (None, [h, m, s]) | (Some(_), [h, m, s]) => h * 3600 + m * 60 + s,
        (Some(_), [h]) => h * 3600,
        (Some(_), [h, m]) => h * 3600 + m * 60,
        _ => return Err(bad()),
    } + days.unwrap_or(0) * 86_400;
    if seconds == 0 {
        return Err(bad());
    }
    Ok(seconds)
}

/// A Slurm partition name.
pub fn partition(value: &str) -> anyhow::Result<&str> {
    if value.is_empty()
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!(
            "--partition `{value}` is not a Slurm partition name (letters, digits, `-`, `_`, `.`)"
        );
    }
    Ok(value)
}

/// A Kubernetes object name (DNS-1123 label: lower-case letters, digits and `-`, at most 63).
pub fn k8s_name(what: &str, value: &str) -> anyhow::Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if !ok {
        bail!(
            "{what} `{value}` is not a Kubernetes name (lower-case letters, digits and `-`, at most 63 characters)"
        );
    }
    Ok(())
}

/// A container image reference: no whitespace or control characters.
pub fn image(value: &str) -> anyhow::Result<()> {
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("--image `{value:?}` is not a container image reference");
    }
    Ok(())
}

/// An environment variable name (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn env_name(what: &str, value: &str) -> anyhow::Result<()> {
    let mut chars = value.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        bail!("{what} {value:?} is not an environment variable name");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_round_trips_through_sh() {
        for s in [
            "plain",
            "",
            "it's",
            "a b",
            "$(touch x)",
            "`x`",
            "a\nb",
            "%&;|<>*?",
        ] {
            let out = std::process::Command::new("sh")
                .args(["-c", &format!("printf %s {}", shell_quote(s))])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), s);
        }
    }

    #[test]
    fn memory_and_time_parse_slurm_spellings() {
        assert_eq!(memory("16G").unwrap(), ("16G".into(), "16Gi".into()));
        assert_eq!(memory("500").unwrap(), ("500M".into(), "500Mi".into()));
        for bad in ["", "G", "16X", "-1G", "0", "1.5G", "16G\n"] {
            assert!(memory(bad).is_err(), "{bad:?}");
        }
        assert_eq!(time_limit("90").unwrap(), 5400);
        assert_eq!(time_limit("1:30").unwrap(), 90);
        assert_eq!(time_limit("24:00:00").unwrap(), 86_400);
        assert_eq!(time_limit("2-00:00:00").unwrap(), 172_800);
        assert_eq!(time_limit("1-2").unwrap(), 93_600);
        assert_eq!(time_limit("1-0:30").unwrap(), 88_200);
        for bad in ["", "0", "a", "1:2:3:4", "1-", "-1", "1;id", "1-2-3"] {
            assert!(time_limit(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sbatch_paths_refuse_what_sbatch_would_split() {
        assert_eq!(sbatch_path("x", "/a/100%/b").unwrap(), "/a/100%%/b");
        for bad in ["/a b", "/a\nb", "/a'b", "/a\"b", "/a\\b", "/a#b"] {
            assert!(sbatch_path("x", bad).is_err(), "{bad:?}");
        }
        assert!(no_control("name", "a\n touch /tmp/x").is_err());
        assert!(k8s_name("x", "pixmo-clocks").is_ok());
        assert!(k8s_name("x", "Pixmo").is_err());
        assert!(env_name("x", "OPENAI_API_KEY").is_ok());
        assert!(env_name("x", "A-B").is_err());
    }
}
