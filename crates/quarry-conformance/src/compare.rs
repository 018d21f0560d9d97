//! Comparing a result cell with a documented cell, normalising only formatting: number
//! rendering, datetime rendering (`2017-05-14T00:00:00Z` vs `2017-05-14 00:00:00.0000000`),
//! timespan rendering, boolean case and `1`/`0`, `null` shown for a null non-string cell,
//! newlines a Markdown table cannot show, and JSON spacing/key order/quoting of dynamic values.

use quarry_engine::types::ScalarType;

fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "NaN" => Some(f64::NAN),
        "Infinity" | "∞" => Some(f64::INFINITY),
        "-Infinity" | "-∞" => Some(f64::NEG_INFINITY),
        _ => t.replace(',', "").parse::<f64>().ok(),
    }
}

fn numbers_equal(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let scale = a.abs().max(b.abs()).max(1e-300);
    // Documentation pages round reals for display; accept differences in the last shown digits.
    (a - b).abs() / scale < 1e-6 || (a - b).abs() < 1e-9
}

fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => numbers_equal(x, y),
            _ => x == y,
        },
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        (J::String(x), J::String(y)) => {
            x == y
                || match (
                    quarry_engine::datetime::parse_datetime(x),
                    quarry_engine::datetime::parse_datetime(y),
                ) {
                    (Some(p), Some(q)) => p == q,
                    _ => false,
                }
        }
        _ => a == b,
    }
}

/// Kusto timespan text `[-][d.]hh:mm:ss[.fffffff]` → ns.
fn parse_timespan(s: &str) -> Option<i128> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let (days, rest) = match t.split_once('.') {
        Some((d, r)) if !d.contains(':') => (d.parse::<i128>().ok()?, r),
        _ => (0, t),
    };
    let mut parts = rest.split(':');
    let h: i128 = parts.next()?.parse().ok()?;
    let m: i128 = parts.next()?.parse().ok()?;
    let sec = parts.next().unwrap_or("0");
    if parts.next().is_some() {
        return None;
    }
    let (s_whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
    let s_whole: i128 = s_whole.parse().ok()?;
    let mut frac_ns: i128 = 0;
    if !frac.is_empty() {
        let digits: String = frac.chars().take(9).collect();
        let padded = format!("{digits:0<9}");
        frac_ns = padded.parse().ok()?;
    }
    let total = ((days * 24 + h) * 60 + m) * 60 + s_whole;
    let ns = total * 1_000_000_000 + frac_ns;
    Some(if neg { -ns } else { ns })
}

/// The documented text of a dynamic value as JSON. Pages show dynamic values with `<br>`
/// line breaks and pretty spacing, and some write single-quoted JSON (`['a','b']`,
/// `{'a': 1}`); both are display forms of the same value.
fn parse_documented_json(text: &str) -> Option<serde_json::Value> {
    let t = text.replace("<br>", "\n");
    if let Ok(v) = serde_json::from_str(&t) {
        return Some(v);
    }
    if !t.contains('\'') {
        return None;
    }
    // Single-quoted strings → double-quoted ones (a `"` inside is escaped).
    let mut out = String::with_capacity(t.len());
    let mut quote: Option<char> = None;
    let mut chars = t.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push('"');
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push('"');
            }
            (Some(_), '\\') => {
                out.push('\\');
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            (Some('\''), '"') => out.push_str("\\\""),
            _ => out.push(c),
        }
    }
    serde_json::from_str(&out).ok()
}

/// Collapses runs of whitespace: a Markdown table cell cannot hold a line break, so pages show
/// a multi-line string on one line.
fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether our cell text (for a column of type `ty`) matches the documented cell.
pub fn cells_match(ours: &str, expected: &str, ty: ScalarType) -> bool {
    let (o, e) = (ours.trim(), expected.trim());
    if o == e {
        return true;
    }
    // Pages show a null cell of a non-string type as `null` or `(null)` (a Kusto string is
    // never null).
    if o.is_empty() && (e == "null" || e == "(null)") && !matches!(ty, ScalarType::String) {
        return true;
    }
    match ty {
        ScalarType::Int | ScalarType::Long | ScalarType::Real | ScalarType::Decimal => {
            matches!((parse_number(o), parse_number(e)), (Some(a), Some(b)) if numbers_equal(a, b))
        }
        // Some pages (older Kusto.Explorer output) show bools as 1/0.
        ScalarType::Bool => {
            o.eq_ignore_ascii_case(e) || (o == "true" && e == "1") || (o == "false" && e == "0")
        }
        ScalarType::DateTime => {
            match (
                quarry_engine::datetime::parse_datetime(o),
                quarry_engine::datetime::parse_datetime(e),
            ) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            }
        }
        ScalarType::TimeSpan => match (parse_timespan(o), parse_timespan(e)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        ScalarType::Dynamic => {
            match (
                serde_json::from_str::<serde_json::Value>(o),
                parse_documented_json(e),
            ) {
                (Ok(a), Some(b)) => json_equal(&a, &b),
                // Docs show a dynamic string without its quotes.
                (Ok(serde_json::Value::String(a)), None) => a == e,
                _ => false,
            }
        }
        // Some pages show a string result JSON-quoted (`"1234"`).
        ScalarType::String => {
            (o.contains('\n') && collapse_ws(o) == collapse_ws(e))
                || serde_json::to_string(o).is_ok_and(|q| q == e)
        }
        ScalarType::Guid => o.eq_ignore_ascii_case(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_only_formatting() {
        assert!(cells_match(
            "2017-05-14T00:00:00Z",
            "2017-05-14 00:00:00.0000000",
            ScalarType::DateTime
        ));
        assert!(cells_match("1.5", "1.50", ScalarType::Real));
        assert!(cells_match("true", "True", ScalarType::Bool));
        assert!(cells_match(
            "01:00:00",
            "01:00:00.0000000",
            ScalarType::TimeSpan
        ));
        assert!(cells_match("[1,2]", "[1, 2]", ScalarType::Dynamic));
        assert!(cells_match(
            "{\"a\":1,\"b\":2}",
            "{\"b\": 2, \"a\": 1}",
            ScalarType::Dynamic
        ));
        assert!(!cells_match("abc", "ABC", ScalarType::String));
        assert!(cells_match(
            "[\"a\",1]",
            "['a',<br>  1]",
            ScalarType::Dynamic
        ));
        assert!(cells_match(
            "{\"a\":\"x\\\"y\"}",
            "{'a': 'x\"y'}",
            ScalarType::Dynamic
        ));
        assert!(cells_match("true", "1", ScalarType::Bool));
        assert!(!cells_match("true", "0", ScalarType::Bool));
        assert!(cells_match("", "null", ScalarType::Long));
        assert!(!cells_match("", "null", ScalarType::String));
        assert!(cells_match("a\n  b", "a b", ScalarType::String));
        assert!(!cells_match("a b", "a  b", ScalarType::String));
        assert!(cells_match("ab", "\"ab\"", ScalarType::String));
        assert!(!cells_match("1", "2", ScalarType::Long));
    }
}
