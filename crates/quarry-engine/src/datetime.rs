//! Datetime text parsing: the forms Kusto accepts in `datetime(...)` literals and `todatetime()`.
//!
//! Accepted (all case-insensitive, surrounding whitespace ignored, optional surrounding quotes):
//!
//! * ISO 8601 — `2024-03-01`, `2024-03-01T10:00`, `2024-03-01 10:00:00`,
//!   `2024-03-01T10:00:00.1234567Z`, `2024-03-01T10:00:00+01:00`; one- or two-digit month,
//!   day and hour (`1970-5-12`), `/` instead of `-`, 0–9 fraction digits (Kusto keeps 7:
//!   100 ns ticks; the extra two are kept as nanoseconds).
//! * US order, as .NET's invariant culture reads it — `12-02-2022`, `12/02/2022 10:00 PM`.
//! * RFC 822 / 1123 / 850 — `Sat, 08 Nov 2014 15:05:02 GMT`, `8 Nov 14 15:05`,
//!   `Saturday, 08-Nov-14 15:05:02 GMT` (two-digit years: `00`–`49` → 20xx, `50`–`99` → 19xx).
//!
//! Time zones: `Z`, `GMT`, `UT`, `UTC`, `±hh:mm`, `±hhmm`, `±hh`, and the US zones of RFC 822
//! (`EST`, `EDT`, `CST`, `CDT`, `MST`, `MDT`, `PST`, `PDT`). No zone means UTC.
//! Results outside Arrow's nanosecond range (1677-09-21 … 2262-04-11) are `None`.

use chrono::NaiveDate;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, lit};

/// Nanoseconds since the Unix epoch (UTC) of a datetime text, or `None` when it is not a
/// datetime Kusto accepts (see the module docs).
pub fn parse_datetime(text: &str) -> Option<i64> {
    let mut s = text.trim();
    for q in ['\'', '"'] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            s = s.get(1..s.len() - 1)?.trim();
        }
    }
    if s.is_empty() {
        return None;
    }
    parse_iso(s)
        .or_else(|| parse_us(s))
        .or_else(|| parse_rfc(s))
}

/// A datetime literal expression (null for `None`).
pub fn datetime_lit(ns: Option<i64>) -> Expr {
    lit(ScalarValue::TimestampNanosecond(ns, Some("UTC".into())))
}

/// Broken-down parts of a parsed datetime, before range checks.
#[derive(Default)]
struct Parts {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Offset east of UTC, in seconds.
    offset: i64,
}

impl Parts {
    fn to_ns(&self) -> Option<i64> {
        if self.hour > 23 || self.minute > 59 || self.second > 59 {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(self.year, self.month, self.day)?;
        let secs = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp()
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - self.offset;
        secs.checked_mul(1_000_000_000)?
            .checked_add(i64::from(self.nanos))
    }
}

/// A byte cursor over ASCII-structured text.
struct Cur<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str) -> Self {
        Cur {
            b: s.as_bytes(),
            pos: 0,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }
    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat_any(&mut self, cs: &[u8]) -> Option<u8> {
        let c = self.peek()?;
        if cs.contains(&c) {
            self.pos += 1;
            Some(c)
        } else {
            None
        }
    }
    fn skip_ws(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
        self.pos - start
    }
    /// `min..=max` decimal digits as a number and the digit count.
    fn digits(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let start = self.pos;
        let mut v: u32 = 0;
        while self.pos - start < max
            && let Some(c) = self.peek().filter(u8::is_ascii_digit)
        {
            v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
            self.pos += 1;
        }
        let n = self.pos - start;
        if n < min {
            self.pos = start;
            return None;
        }
        Some((v, n))
    }
    /// A run of ASCII letters.
    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        std::str::from_utf8(self.b.get(start..self.pos).unwrap_or_default()).unwrap_or("")
    }
}

/// `H:MM[:SS[.fffffff]]`, optionally followed by `AM`/`PM`.
fn time(c: &mut Cur, p: &mut Parts) -> Option<()> {
    p.hour = c.digits(1, 2)?.0;
    if !c.eat(b':') {
        return None;
    }
    p.minute = c.digits(1, 2)?.0;
    if c.eat(b':') {
        p.second = c.digits(1, 2)?.0;
        if c.eat(b'.') {
            let start = c.pos;
            let mut nanos: u32 = 0;
            while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
                if c.pos - start < 9 {
                    nanos = nanos * 10 + u32::from(d - b'0');
                }
                c.pos += 1;
            }
            let n = c.pos - start;
            if n == 0 {
                return None;
            }
            for _ in n..9 {
                nanos *= 10;
            }
            p.nanos = nanos;
        }
    }
    // AM/PM designator.
    let save = c.pos;
    c.skip_ws();
    let w = c.word();
    if w.eq_ignore_ascii_case("am") || w.eq_ignore_ascii_case("pm") {
        if p.hour == 0 || p.hour > 12 {
            return None;
        }
        p.hour %= 12;
        if w.eq_ignore_ascii_case("pm") {
            p.hour += 12;
        }
    } else {
        c.pos = save;
    }
    Some(())
}

/// An optional zone at the end of the text (after optional whitespace); `None` when there is
/// trailing text that is not a zone.
fn zone_then_end(c: &mut Cur, p: &mut Parts) -> Option<()> {
    c.skip_ws();
    if c.at_end() {
        return Some(());
    }
    if let Some(sign) = c.eat_any(b"+-") {
        p.offset = offset(c, sign)?;
    } else {
        let w = c.word();
        let hours: i64 = match w.to_ascii_uppercase().as_str() {
            "Z" | "GMT" | "UT" | "UTC" => 0,
            "EST" | "CDT" => -5,
            "EDT" => -4,
            "CST" | "MDT" => -6,
            "MST" | "PDT" => -7,
            "PST" => -8,
            _ => return None,
        };
        p.offset = hours * 3600;
        // `GMT+01:00` style.
        if hours == 0
            && let Some(sign) = c.eat_any(b"+-")
        {
            p.offset = offset(c, sign)?;
        }
    }
    c.skip_ws();
    c.at_end().then_some(())
}

/// `hh[:mm]` or `hhmm` after a sign, in seconds east of UTC.
fn offset(c: &mut Cur, sign: u8) -> Option<i64> {
    let (v, n) = c.digits(1, 4)?;
    let (h, m) = if n > 2 {
        (v / 100, v % 100)
    } else if c.eat(b':') {
        (v, c.digits(2, 2)?.0)
    } else {
        (v, 0)
    };
    if h > 14 || m > 59 {
        return None;
    }
    let secs = i64::from(h) * 3600 + i64::from(m) * 60;
    Some(if sign == b'-' { -secs } else { secs })
}

/// `YYYY-M-D[(T| )H:MM[:SS[.f]]][zone]`, also with `/`.
fn parse_iso(s: &str) -> Option<i64> {
    let mut c = Cur::new(s);
    let mut p = Parts {
        year: i32::try_from(c.digits(4, 4)?.0).ok()?,
        ..Parts::default()
    };
    let sep = c.eat_any(b"-/")?;
    p.month = c.digits(1, 2)?.0;
    if !c.eat(sep) {
        return None;
    }
    p.day = c.digits(1, 2)?.0;
    if !(c.eat(b'T') || c.eat(b't')) && c.skip_ws() == 0 && !c.at_end() {
        return None;
    }
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        time(&mut c, &mut p)?;
    }
    zone_then_end(&mut c, &mut p)?;
    p.to_ns()
}

/// `M-D-YYYY [H:MM[:SS[.f]] [AM|PM]][zone]` (.NET invariant culture order), also with `/`.
fn parse_us(s: &str) -> Option<i64> {
    let mut c = Cur::new(s);
    let mut p = Parts {
        month: c.digits(1, 2)?.0,
        ..Parts::default()
    };
    let sep = c.eat_any(b"-/.")?;
    p.day = c.digits(1, 2)?.0;
    if !c.eat(sep) {
        return None;
    }
    p.year = i32::try_from(c.digits(4, 4)?.0).ok()?;
    if c.skip_ws() > 0 && c.peek().is_some_and(|b| b.is_ascii_digit()) {
        time(&mut c, &mut p)?;
    }
    zone_then_end(&mut c, &mut p)?;
    p.to_ns()
}

fn month_of(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let n = name.to_ascii_lowercase();
    if n.len() < 3 {
        return None;
    }
    let i = MONTHS
        .iter()
        .position(|m| *m == n || (n.len() == 3 && m.starts_with(n.as_str())))
        .or_else(|| (n == "sept").then_some(8))?;
    u32::try_from(i + 1).ok()
}

/// `[Weekday,] D(-| )Mon(-| )YY[YY] H:MM[:SS[.f]] [zone]`.
fn parse_rfc(s: &str) -> Option<i64> {
    let mut c = Cur::new(s);
    if c.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
        // Weekday name, not checked against the date (as .NET does not either).
        let w = c.word();
        if w.len() < 3 {
            return None;
        }
        c.eat(b',');
        c.skip_ws();
    }
    let mut p = Parts {
        day: c.digits(1, 2)?.0,
        ..Parts::default()
    };
    let dash = c.eat(b'-');
    if !dash && c.skip_ws() == 0 {
        return None;
    }
    p.month = month_of(c.word())?;
    if !(if dash { c.eat(b'-') } else { c.skip_ws() > 0 }) {
        return None;
    }
    let (y, n) = c.digits(2, 4)?;
    p.year = match n {
        2 if y < 50 => 2000 + i32::try_from(y).ok()?,
        2 => 1900 + i32::try_from(y).ok()?,
        4 => i32::try_from(y).ok()?,
        _ => return None,
    };
    if c.skip_ws() > 0 && c.peek().is_some_and(|b| b.is_ascii_digit()) {
        time(&mut c, &mut p)?;
    }
    zone_then_end(&mut c, &mut p)?;
    p.to_ns()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ns: i64) -> i64 {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|x| x.and_hms_opt(h, mi, s))
            .map(|x| x.and_utc().timestamp() * 1_000_000_000 + ns)
            .unwrap_or(i64::MIN)
    }

    #[test]
    fn iso_forms() {
        let t = at(2014, 5, 25, 8, 20, 3, 123_456_000);
        assert_eq!(parse_datetime("2014-05-25T08:20:03.123456Z"), Some(t));
        assert_eq!(parse_datetime("2014-05-25T08:20:03.123456"), Some(t));
        assert_eq!(parse_datetime("2014-05-25 08:20:03.123456"), Some(t));
        assert_eq!(
            parse_datetime("2014-05-25T08:20"),
            Some(at(2014, 5, 25, 8, 20, 0, 0))
        );
        assert_eq!(
            parse_datetime("2014-11-08"),
            Some(at(2014, 11, 8, 0, 0, 0, 0))
        );
        assert_eq!(
            parse_datetime("2024-03-01T10:00:00.1234567Z"),
            Some(at(2024, 3, 1, 10, 0, 0, 123_456_700))
        );
        assert_eq!(
            parse_datetime("1970-5-12"),
            Some(at(1970, 5, 12, 0, 0, 0, 0))
        );
        assert_eq!(
            parse_datetime("2015-12-14 18:54"),
            Some(at(2015, 12, 14, 18, 54, 0, 0))
        );
        assert_eq!(
            parse_datetime("  2017-01-29 09:00:05 "),
            Some(at(2017, 1, 29, 9, 0, 5, 0))
        );
        assert_eq!(
            parse_datetime("2015-12-31 23:59:59.9"),
            Some(at(2015, 12, 31, 23, 59, 59, 900_000_000))
        );
        assert_eq!(
            parse_datetime("'2024-03-01'"),
            Some(at(2024, 3, 1, 0, 0, 0, 0))
        );
    }

    #[test]
    fn offsets_are_applied() {
        let t = at(2024, 3, 1, 9, 0, 0, 0);
        assert_eq!(parse_datetime("2024-03-01T10:00:00+01:00"), Some(t));
        assert_eq!(parse_datetime("2024-03-01T10:00:00+0100"), Some(t));
        assert_eq!(parse_datetime("2024-03-01T08:30:00-00:30"), Some(t));
        assert_eq!(parse_datetime("2024-03-01 09:00:00 GMT"), Some(t));
    }

    #[test]
    fn rfc_forms() {
        let t = at(2014, 11, 8, 15, 5, 2, 0);
        assert_eq!(parse_datetime("Sat, 08 Nov 2014 15:05:02 GMT"), Some(t));
        assert_eq!(parse_datetime("Sat, 8 Nov 14 15:05:02 GMT"), Some(t));
        assert_eq!(parse_datetime("Sat, 8 Nov 14 15:05:02"), Some(t));
        assert_eq!(parse_datetime("8 Nov 14 15:05:02"), Some(t));
        assert_eq!(parse_datetime("Saturday, 08-Nov-14 15:05:02 GMT"), Some(t));
        assert_eq!(parse_datetime("08-Nov-14 15:05:02"), Some(t));
        assert_eq!(
            parse_datetime("8 Nov 14 15:05 PST"),
            Some(at(2014, 11, 8, 23, 5, 0, 0))
        );
    }

    #[test]
    fn us_order() {
        // docs: todatetime('12-02-2022') == datetime('12-02-2022').
        assert_eq!(
            parse_datetime("12-02-2022"),
            Some(at(2022, 12, 2, 0, 0, 0, 0))
        );
        assert_eq!(
            parse_datetime("12/02/2022 10:00 PM"),
            Some(at(2022, 12, 2, 22, 0, 0, 0))
        );
    }

    #[test]
    fn rejects_bad_text_and_out_of_range() {
        for s in [
            "",
            "abc",
            "2024-13-01",
            "2024-02-30",
            "2024-03-01T25:00",
            "2024-03-01 10:00 junk",
            "2024-03-01T10:00:00.Z",
            "1600-01-01",
            "9999-12-31",
            "2024-03-01T10:00:00+25:00",
        ] {
            assert_eq!(parse_datetime(s), None, "{s}");
        }
        assert_eq!(parse_datetime("1970-01-01"), Some(0));
        assert_eq!(parse_datetime("1969-12-31 23:59:59.9999999"), Some(-100));
    }
}
