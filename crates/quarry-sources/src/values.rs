//! Text and JSON values → typed Arrow columns; type inference from samples.

use crate::error::BadRowKind;
use crate::types::ScalarType;
use chrono::NaiveDate;
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, DurationNanosecondBuilder, Float64Builder, Int32Builder,
    Int64Builder, StringBuilder, TimestampNanosecondBuilder,
};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// One converted cell, ready to append.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<'a> {
    Null,
    Str(Cow<'a, str>),
    I64(i64),
    I32(i32),
    F64(f64),
    Bool(bool),
    /// Nanoseconds (datetime since the Unix epoch, or a timespan).
    Nanos(i64),
}

/// Why a cell could not be converted.
pub type CellError = (BadRowKind, String);

fn bad(kind: BadRowKind, ty: ScalarType, text: &str) -> CellError {
    let mut shown: String = text.chars().take(60).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    (kind, format!("cannot read {shown:?} as {}", ty.name()))
}

fn kind_for(ty: ScalarType) -> BadRowKind {
    if ty == ScalarType::DateTime {
        BadRowKind::BadTimestamp
    } else {
        BadRowKind::BadValue
    }
}

/// A builder for one output column.
pub enum ColBuilder {
    Str(StringBuilder),
    I64(Int64Builder),
    I32(Int32Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
    Ts(TimestampNanosecondBuilder),
    Dur(DurationNanosecondBuilder),
}

impl ColBuilder {
    pub fn new(ty: ScalarType, capacity: usize) -> Self {
        match ty {
            ScalarType::String | ScalarType::Guid | ScalarType::Dynamic => {
                ColBuilder::Str(StringBuilder::with_capacity(capacity, capacity * 16))
            }
            ScalarType::Long => ColBuilder::I64(Int64Builder::with_capacity(capacity)),
            ScalarType::Int => ColBuilder::I32(Int32Builder::with_capacity(capacity)),
            ScalarType::Real | ScalarType::Decimal => {
                ColBuilder::F64(Float64Builder::with_capacity(capacity))
            }
            ScalarType::Bool => ColBuilder::Bool(BooleanBuilder::with_capacity(capacity)),
            ScalarType::DateTime => ColBuilder::Ts(
                TimestampNanosecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            ),
            ScalarType::TimeSpan => {
                ColBuilder::Dur(DurationNanosecondBuilder::with_capacity(capacity))
            }
        }
    }

    /// Appends a cell produced by [`convert_text`] / [`convert_json`] for this column's type.
    pub fn append(&mut self, v: &Parsed<'_>) {
        match (self, v) {
            (ColBuilder::Str(b), Parsed::Str(s)) => b.append_value(s),
            (ColBuilder::Str(b), Parsed::Null) => b.append_null(),
            (ColBuilder::I64(b), Parsed::I64(x)) => b.append_value(*x),
            (ColBuilder::I32(b), Parsed::I32(x)) => b.append_value(*x),
            (ColBuilder::F64(b), Parsed::F64(x)) => b.append_value(*x),
            (ColBuilder::Bool(b), Parsed::Bool(x)) => b.append_value(*x),
            (ColBuilder::Ts(b), Parsed::Nanos(x)) => b.append_value(*x),
            (ColBuilder::Dur(b), Parsed::Nanos(x)) => b.append_value(*x),
            (b, _) => b.append_null(),
        }
    }

    fn append_null(&mut self) {
        match self {
            ColBuilder::Str(b) => b.append_null(),
            ColBuilder::I64(b) => b.append_null(),
            ColBuilder::I32(b) => b.append_null(),
            ColBuilder::F64(b) => b.append_null(),
            ColBuilder::Bool(b) => b.append_null(),
            ColBuilder::Ts(b) => b.append_null(),
            ColBuilder::Dur(b) => b.append_null(),
        }
    }

    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ColBuilder::Str(b) => Arc::new(b.finish()),
            ColBuilder::I64(b) => Arc::new(b.finish()),
            ColBuilder::I32(b) => Arc::new(b.finish()),
            ColBuilder::F64(b) => Arc::new(b.finish()),
            ColBuilder::Bool(b) => Arc::new(b.finish()),
            ColBuilder::Ts(b) => Arc::new(b.finish()),
            ColBuilder::Dur(b) => Arc::new(b.finish()),
        }
    }
}

/// Converts CSV text (or a Parquet string) to a column type. `text` empty = no value:
/// `""` for string columns, null for the others.
pub fn convert_text(text: &str, ty: ScalarType) -> Result<Parsed<'_>, CellError> {
    if text.is_empty() {
        return Ok(match ty {
            ScalarType::String | ScalarType::Guid => Parsed::Str(Cow::Borrowed("")),
            _ => Parsed::Null,
        });
    }
    let t = text.trim();
    let r = match ty {
        ScalarType::String | ScalarType::Guid => return Ok(Parsed::Str(Cow::Borrowed(text))),
        ScalarType::Dynamic => return Ok(Parsed::Str(dynamic_from_text(text))),
        ScalarType::Long => t.parse::<i64>().ok().map(Parsed::I64),
        ScalarType::Int => t.parse::<i32>().ok().map(Parsed::I32),
        ScalarType::Real | ScalarType::Decimal => parse_real(t).map(Parsed::F64),
        ScalarType::Bool => parse_bool(t).map(Parsed::Bool),
        ScalarType::DateTime => parse_datetime(t).map(Parsed::Nanos),
        ScalarType::TimeSpan => parse_timespan(t).map(Parsed::Nanos),
    };
    match r {
        Some(p) => Ok(p),
        None if t.is_empty() => Ok(Parsed::Null),
        None => Err(bad(kind_for(ty), ty, text)),
    }
}

/// Dynamic value from text (CSV/Parquet): valid JSON is stored compacted, anything else as a
/// JSON string (this is what Kusto does when ingesting text into a dynamic column).
pub fn dynamic_from_text(text: &str) -> Cow<'_, str> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => {
            let compact = v.to_string();
            if compact == text {
                Cow::Borrowed(text)
            } else {
                Cow::Owned(compact)
            }
        }
        Err(_) => Cow::Owned(Value::String(text.to_string()).to_string()),
    }
}

/// Converts a JSON value to a column type. JSON null → null (`""` for strings).
/// Dynamic: any value is stored as its compact JSON text, so a JSON string stays a string.
pub fn convert_json(v: &Value, ty: ScalarType) -> Result<Parsed<'_>, CellError> {
    match (v, ty) {
        (Value::Null, ScalarType::String | ScalarType::Guid) => Ok(Parsed::Str(Cow::Borrowed(""))),
        (Value::Null, _) => Ok(Parsed::Null),
        (_, ScalarType::Dynamic) => Ok(Parsed::Str(Cow::Owned(v.to_string()))),
        (Value::String(s), _) => convert_text(s, ty),
        (_, ScalarType::String | ScalarType::Guid) => Ok(Parsed::Str(Cow::Owned(v.to_string()))),
        (Value::Number(n), ScalarType::Long) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i64)
            })
            .map(Parsed::I64)
            .ok_or_else(|| bad(BadRowKind::BadValue, ty, &n.to_string())),
        (Value::Number(n), ScalarType::Int) => n
            .as_i64()
            .and_then(|x| i32::try_from(x).ok())
            .map(Parsed::I32)
            .ok_or_else(|| bad(BadRowKind::BadValue, ty, &n.to_string())),
        (Value::Number(n), ScalarType::Real | ScalarType::Decimal) => n
            .as_f64()
            .map(Parsed::F64)
            .ok_or_else(|| bad(BadRowKind::BadValue, ty, &n.to_string())),
        (Value::Number(n), ScalarType::Bool) => match n.as_i64() {
            Some(0) => Ok(Parsed::Bool(false)),
            Some(1) => Ok(Parsed::Bool(true)),
            _ => Err(bad(BadRowKind::BadValue, ty, &n.to_string())),
        },
        // A number for a timespan is a count of 100 ns ticks, as Kusto writes it.
        (Value::Number(n), ScalarType::TimeSpan) => n
            .as_i64()
            .and_then(|t| t.checked_mul(100))
            .map(Parsed::Nanos)
            .ok_or_else(|| bad(BadRowKind::BadValue, ty, &n.to_string())),
        (Value::Bool(b), ScalarType::Bool) => Ok(Parsed::Bool(*b)),
        _ => Err(bad(kind_for(ty), ty, &v.to_string())),
    }
}

pub fn parse_bool(t: &str) -> Option<bool> {
    if t.eq_ignore_ascii_case("true") || t == "1" {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") || t == "0" {
        Some(false)
    } else {
        None
    }
}

pub fn parse_real(t: &str) -> Option<f64> {
    match t {
        "NaN" | "nan" => Some(f64::NAN),
        "Infinity" | "inf" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        _ => {
            // Rust also accepts "infinity"/"nan" spellings; require a digit somewhere.
            if t.bytes().any(|b| b.is_ascii_digit()) {
                t.parse::<f64>().ok()
            } else {
                None
            }
        }
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0u32, |a, d| {
        a.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// Parses an ISO-8601-like datetime to nanoseconds since the epoch (UTC):
/// `YYYY-MM-DD`, then optionally `T` or space, `hh:mm[:ss[.f…]]` (up to 9 fraction digits, more
/// are cut), then `Z`, `+hh:mm`, `-hh:mm`, `+hhmm`, ` UTC` or nothing (= UTC).
pub fn parse_datetime(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let mut i = 10;
    let (mut h, mut mi, mut s, mut nanos) = (0u32, 0u32, 0u32, 0u32);
    if i < b.len() && (b[i] == b'T' || b[i] == b' ') && b.len() >= i + 6 && b[i + 3] == b':' {
        h = digits(&b[i + 1..i + 3])?;
        mi = digits(&b[i + 4..i + 6])?;
        i += 6;
        if i < b.len() && b[i] == b':' {
            s = digits(b.get(i + 1..i + 3)?)?;
            i += 3;
            if i < b.len() && b[i] == b'.' {
                i += 1;
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let frac = &b[start..i];
                if frac.is_empty() {
                    return None;
                }
                let mut n = 0u32;
                for k in 0..9 {
                    n = n * 10 + frac.get(k).map_or(0, |d| u32::from(d - b'0'));
                }
                nanos = n;
            }
        }
    }
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Zone.
    let rest = &t[i..];
    let offset_secs: i64 = match rest.trim_start() {
        "" | "Z" | "z" | "UTC" => 0,
        z if (z.starts_with('+') || z.starts_with('-')) && rest.len() == z.len() => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let zb = &z.as_bytes()[1..];
            let (zh, zm) = match zb.len() {
                2 => (digits(zb)?, 0),
                4 => (digits(&zb[0..2])?, digits(&zb[2..4])?),
                5 if zb[2] == b':' => (digits(&zb[0..2])?, digits(&zb[3..5])?),
                _ => return None,
            };
            if zh > 23 || zm > 59 {
                return None;
            }
            sign * i64::from(zh * 3600 + zm * 60)
        }
        _ => return None,
    };
    let days = i64::from(
        date.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1)?)
            .num_days() as i32,
    );
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + s) - offset_secs;
    secs.checked_mul(1_000_000_000)?
        .checked_add(i64::from(nanos))
}

/// Parses a Kusto timespan: `[-][d.]hh:mm[:ss[.fffffff]]`, or a number with a unit suffix
/// (`1d`, `2h`, `30m`, `10s`, `5ms`, `3microsecond`… the common ones), to nanoseconds.
pub fn parse_timespan(t: &str) -> Option<i64> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let v: i64 = if body.contains(':') {
        let (days, clock) = match body.split_once(':') {
            Some((first, _)) if first.contains('.') => {
                let (d, _) = first.split_once('.')?;
                (i64::from(digits(d.as_bytes())?), &body[d.len() + 1..])
            }
            _ => (0, body),
        };
        let mut parts = clock.split(':');
        let h = i64::from(digits(parts.next()?.as_bytes())?);
        let m = i64::from(digits(parts.next()?.as_bytes())?);
        let (s, frac) = match parts.next() {
            Some(sec) => match sec.split_once('.') {
                Some((s, f)) => (i64::from(digits(s.as_bytes())?), f),
                None => (i64::from(digits(sec.as_bytes())?), ""),
            },
            None => (0, ""),
        };
        if parts.next().is_some() || m > 59 || s > 59 {
            return None;
        }
        let fb = frac.as_bytes();
        if !fb.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut n = 0i64;
        for k in 0..9 {
            n = n * 10 + fb.get(k).map_or(0, |d| i64::from(d - b'0'));
        }
        ((days * 24 + h) * 60 + m)
            .checked_mul(60)?
            .checked_add(s)?
            .checked_mul(1_000_000_000)?
            .checked_add(n)?
    } else {
        let split = body.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (num, unit) = body.split_at(split);
        let x: f64 = num.parse().ok()?;
        let mult = match unit {
            "d" | "day" | "days" => 86_400e9,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600e9,
            "m" | "min" | "minute" | "minutes" => 60e9,
            "s" | "sec" | "second" | "seconds" => 1e9,
            "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1e6,
            "microsecond" | "microseconds" => 1e3,
            "tick" | "ticks" => 100.0,
            _ => return None,
        };
        let n = x * mult;
        if !n.is_finite() || n.abs() > 9.2e18 {
            return None;
        }
        n.round() as i64
    };
    Some(if neg { -v } else { v })
}

/// Infers a type from sampled text values (empty values ignored): long, real, bool, datetime,
/// else string. All-empty → string.
#[derive(Debug, Clone, Copy)]
pub struct TextInference {
    long: bool,
    real: bool,
    boolean: bool,
    datetime: bool,
    seen: bool,
}

impl Default for TextInference {
    fn default() -> Self {
        Self {
            long: true,
            real: true,
            boolean: true,
            datetime: true,
            seen: false,
        }
    }
}

impl TextInference {
    pub fn add(&mut self, text: &str) {
        let t = text.trim();
        if t.is_empty() {
            return;
        }
        self.seen = true;
        self.long &= t.parse::<i64>().is_ok();
        self.real &= t.bytes().any(|b| b.is_ascii_digit()) && t.parse::<f64>().is_ok();
        self.boolean &= t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false");
        self.datetime &= parse_datetime(t).is_some();
    }

    pub fn result(&self) -> ScalarType {
        if !self.seen {
            ScalarType::String
        } else if self.long {
            ScalarType::Long
        } else if self.real {
            ScalarType::Real
        } else if self.boolean {
            ScalarType::Bool
        } else if self.datetime {
            ScalarType::DateTime
        } else {
            ScalarType::String
        }
    }
}

/// Infers a type from sampled JSON values (nulls ignored).
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonInference {
    text: Option<TextInference>,
    ints: bool,
    floats: bool,
    bools: bool,
    nested: bool,
    strings: bool,
}

impl JsonInference {
    pub fn add(&mut self, v: &Value) {
        match v {
            Value::Null => {}
            Value::Bool(_) => self.bools = true,
            Value::Number(n) if n.is_i64() || n.is_u64() => self.ints = true,
            Value::Number(_) => self.floats = true,
            Value::String(s) => {
                self.strings = true;
                // Only datetimes are recognised inside JSON strings.
                let mut ti = self.text.unwrap_or_default();
                ti.add(s);
                self.text = Some(ti);
            }
            Value::Array(_) | Value::Object(_) => self.nested = true,
        }
    }

    pub fn result(&self) -> ScalarType {
        let kinds = [
            self.bools,
            self.ints || self.floats,
            self.strings,
            self.nested,
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if kinds == 0 {
            return ScalarType::String;
        }
        if self.nested {
            return ScalarType::Dynamic;
        }
        if kinds > 1 {
            return ScalarType::String;
        }
        if self.bools {
            ScalarType::Bool
        } else if self.floats {
            ScalarType::Real
        } else if self.ints {
            ScalarType::Long
        } else if self.text.is_some_and(|t| t.seen && t.datetime) {
            ScalarType::DateTime
        } else {
            ScalarType::String
        }
    }
}

/// The common type of a column seen with two types in different files.
pub fn unify(a: ScalarType, b: ScalarType) -> ScalarType {
    use ScalarType::*;
    match (a, b) {
        _ if a == b => a,
        (Int, Long) | (Long, Int) => Long,
        (Int | Long | Real, Int | Long | Real) => Real,
        _ => String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        let base = parse_datetime("2024-03-01T10:00:13Z").expect("base");
        assert_eq!(base, 1_709_287_213_000_000_000);
        assert_eq!(
            parse_datetime("2024-03-01T10:00:13.1157570Z"),
            Some(base + 115_757_000)
        );
        assert_eq!(
            parse_datetime("2024-03-01 10:00:13.115"),
            Some(base + 115_000_000)
        );
        assert_eq!(
            parse_datetime("2024-03-01T10:00:13.115757+00:00"),
            Some(base + 115_757_000)
        );
        assert_eq!(parse_datetime("2024-03-01T12:00:13+02:00"), Some(base));
        assert_eq!(
            parse_datetime("2024-03-01T10:00:13.1234567891Z"),
            Some(base + 123_456_789)
        );
        assert_eq!(
            parse_datetime("2024-03-01"),
            Some(base - 36_013_000_000_000)
        );
        for badv in [
            "2024-02-30T00:00:00Z",
            "not-a-timestamp",
            "0000-00-00T00:00:00Z",
            "NaN",
            "2024-03-01T25:00:00Z",
            "2024-03-01T10:00:13Zjunk",
            "",
        ] {
            assert_eq!(parse_datetime(badv), None, "{badv}");
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let base = "2024-03-01T10:00:13.1234567+01:30";
        let mut inputs: Vec<String> = Vec::new();
        for i in 0..=base.len() {
            inputs.push(base[..i].to_string());
            for ins in ["é", "日", "\u{feff}", ".", ":", "-", "+", " ", "9"] {
                inputs.push(format!("{}{ins}{}", &base[..i], &base[i..]));
            }
        }
        for s in &inputs {
            let _ = parse_datetime(s);
            let _ = parse_timespan(s);
            for ty in [
                ScalarType::DateTime,
                ScalarType::TimeSpan,
                ScalarType::Long,
                ScalarType::Int,
                ScalarType::Real,
                ScalarType::Bool,
                ScalarType::Dynamic,
            ] {
                let _ = convert_text(s, ty);
            }
        }
    }

    #[test]
    fn timespans() {
        assert_eq!(
            parse_timespan("1.02:03:04.5"),
            Some((((26 * 60 + 3) * 60 + 4) * 1_000_000_000) + 500_000_000)
        );
        assert_eq!(parse_timespan("-00:00:01"), Some(-1_000_000_000));
        assert_eq!(parse_timespan("2h"), Some(7_200_000_000_000));
        assert_eq!(parse_timespan("x"), None);
        assert_eq!(parse_timespan("99999999999999999999.00:00:00"), None);
        assert_eq!(parse_timespan("99999999999999999999999h"), None);
        assert_eq!(parse_datetime("2024-03-01T10:00:99999999999Z"), None);
    }

    #[test]
    fn dynamic_text_and_json() {
        assert_eq!(dynamic_from_text("{\"a\": 1}"), "{\"a\":1}");
        assert_eq!(dynamic_from_text("not json"), "\"not json\"");
        let v: Value = serde_json::from_str(r#""{\"IsLocalLogon\":true}""#).expect("json");
        assert_eq!(
            convert_json(&v, ScalarType::Dynamic),
            Ok(Parsed::Str(Cow::Owned(
                r#""{\"IsLocalLogon\":true}""#.into()
            )))
        );
    }

    #[test]
    fn inference() {
        let mut t = TextInference::default();
        for v in ["1", "", "22"] {
            t.add(v);
        }
        assert_eq!(t.result(), ScalarType::Long);
        t.add("2.5");
        assert_eq!(t.result(), ScalarType::Real);
        let mut d = TextInference::default();
        d.add("2024-01-01T00:00:00Z");
        assert_eq!(d.result(), ScalarType::DateTime);
        d.add("x");
        assert_eq!(d.result(), ScalarType::String);
    }
}
