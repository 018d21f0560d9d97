//! Conversions (`tostring`, `toint`, `tolong`, `todouble`, `tobool`, `todatetime`,
//! `totimespan`, `toguid`), timespan scaling, and the regex/substring string kernels
//! (`substring`, `trim*`, `extract`).
//!
//! Conversion rules (Kusto: a value that cannot be converted gives null, never an error):
//!
//! * from string — `tolong("42")` = 42, `tolong("1.9")` = 1 (a real string is truncated),
//!   `todouble("1e3")`, `tobool("TRUE"/"false"/"1"/"0")`, `todatetime` per
//!   [`crate::datetime::parse_datetime`], `totimespan("1.02:03:04")` / `"00:10:00"` / `"1h"`,
//!   `toguid` accepts 32 hex digits with or without dashes/braces; anything else → null.
//! * numbers — reals are truncated toward zero (`toint(2.9)` = 2); out-of-range → null;
//!   `tobool(n)` is `n != 0`.
//! * datetime/timespan → number: .NET ticks (100 ns; datetimes counted from 0001-01-01), and
//!   numbers → datetime/timespan read ticks back.
//! * from dynamic — the JSON value is unwrapped first (`tolong(dynamic("123"))` = 123;
//!   `dynamic(1.5)` → 1); arrays and objects give null (except for `tostring`).
//! * `tostring` — see [`crate::format::cell_text`]; null gives `""`.

use super::bin::EPOCH_TICKS;
use super::udf::{self, arg_array, arg_scalar, scalar_str, string_array};
use crate::datetime::parse_datetime;
use crate::format;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DurationNanosecondArray, Float64Array, Int32Array,
    Int64Array, StringArray, TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, Float64Type, Int32Type, Int64Type, TimeUnit,
    TimestampNanosecondType,
};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ColumnarValue, Expr};
use quarry_sources::types::{arrow_type, kql_type_of_arrow};
use quarry_syntax::ast::ScalarType;
use regex::Regex;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Values read from any input column
// ---------------------------------------------------------------------------------------------

/// One input value, whatever its Arrow type (dynamic values already unwrapped).
#[derive(Debug, Clone, PartialEq)]
enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
    DateTime(i64),
    TimeSpan(i64),
    /// A dynamic array or object.
    Other,
}

/// The value held by dynamic JSON text (text that is not JSON is taken as a string).
fn dyn_val(text: &str) -> Val<'_> {
    let t = text.trim();
    match t.as_bytes().first() {
        None => Val::Null,
        Some(b'"') => match serde_json::from_str::<String>(t) {
            Ok(s) => Val::Text(Cow::Owned(s)),
            Err(_) => Val::Text(Cow::Borrowed(text)),
        },
        Some(b'[' | b'{') => Val::Other,
        _ => match t {
            "null" => Val::Null,
            "true" => Val::Bool(true),
            "false" => Val::Bool(false),
            _ => {
                if let Ok(i) = t.parse::<i64>() {
                    Val::Int(i)
                } else if let Ok(serde_json::Value::Number(n)) =
                    serde_json::from_str::<serde_json::Value>(t)
                {
                    n.as_f64().map_or(Val::Null, Val::Real)
                } else {
                    Val::Text(Cow::Borrowed(text))
                }
            }
        },
    }
}

/// Calls `f` with each row's value. `dynamic`: Utf8 input is dynamic JSON text.
fn for_each_val(a: &ArrayRef, dynamic: bool, mut f: impl FnMut(Val<'_>)) -> Result<()> {
    use datafusion::arrow::compute::cast;
    let n = a.len();
    match a.data_type() {
        DataType::Null => (0..n).for_each(|_| f(Val::Null)),
        DataType::Boolean => a
            .as_boolean()
            .iter()
            .for_each(|v| f(v.map_or(Val::Null, Val::Bool))),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => cast(a, &DataType::Int64)?
            .as_primitive::<Int64Type>()
            .iter()
            .for_each(|v| f(v.map_or(Val::Null, Val::Int))),
        DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => cast(a, &DataType::Float64)?
            .as_primitive::<Float64Type>()
            .iter()
            .for_each(|v| f(v.map_or(Val::Null, Val::Real))),
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
            cast(a, &DataType::Timestamp(TimeUnit::Nanosecond, None))?
                .as_primitive::<TimestampNanosecondType>()
                .iter()
                .for_each(|v| f(v.map_or(Val::Null, Val::DateTime)))
        }
        DataType::Duration(_) => cast(a, &DataType::Duration(TimeUnit::Nanosecond))?
            .as_primitive::<DurationNanosecondType>()
            .iter()
            .for_each(|v| f(v.map_or(Val::Null, Val::TimeSpan))),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..) => {
            let s = cast(a, &DataType::Utf8)?;
            for v in s.as_string::<i32>().iter() {
                f(match v {
                    None => Val::Null,
                    Some(t) if dynamic => dyn_val(t),
                    Some(t) => Val::Text(Cow::Borrowed(t)),
                });
            }
        }
        _ => {
            // Nested values: only their text form is meaningful.
            let ty = kql_type_of_arrow(a.data_type());
            for i in 0..n {
                f(match format::cell_text(a, i, ty) {
                    None => Val::Null,
                    Some(t) => Val::Text(Cow::Owned(t)),
                });
            }
        }
    }
    Ok(())
}

/// ns since the Unix epoch → .NET ticks since 0001-01-01.
fn ns_to_ticks(ns: i64) -> i64 {
    // |ns / 100| + EPOCH_TICKS always fits in i64.
    i64::try_from(i128::from(ns.div_euclid(100)) + EPOCH_TICKS).unwrap_or(i64::MAX)
}

fn ticks_to_ns(ticks: i64) -> Option<i64> {
    i64::try_from((i128::from(ticks) - EPOCH_TICKS) * 100).ok()
}

/// 2^63 is exactly representable; an f64 fits in i64 when it is in [-2^63, 2^63).
const I64_RANGE: std::ops::Range<f64> = -9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0;

fn trunc_to_i64(x: f64) -> Option<i64> {
    let t = x.trunc();
    I64_RANGE.contains(&t).then_some(t as i64)
}

fn parse_long_text(s: &str) -> Option<i64> {
    let t = s.trim();
    t.parse::<i64>()
        .ok()
        .or_else(|| t.parse::<f64>().ok().and_then(trunc_to_i64))
}

fn parse_real_text(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
}

fn parse_bool_text(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") || t == "1" {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") || t == "0" {
        Some(false)
    } else {
        None
    }
}

fn to_i64(v: &Val) -> Option<i64> {
    match v {
        Val::Bool(b) => Some(i64::from(*b)),
        Val::Int(i) => Some(*i),
        Val::Real(x) => trunc_to_i64(*x),
        Val::Text(t) => parse_long_text(t),
        Val::DateTime(ns) => Some(ns_to_ticks(*ns)),
        Val::TimeSpan(ns) => Some(ns / 100),
        Val::Null | Val::Other => None,
    }
}

fn to_f64(v: &Val) -> Option<f64> {
    match v {
        Val::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Val::Int(i) => Some(*i as f64),
        Val::Real(x) => Some(*x),
        Val::Text(t) => parse_real_text(t),
        Val::DateTime(ns) => Some(ns_to_ticks(*ns) as f64),
        Val::TimeSpan(ns) => Some(*ns as f64 / 100.0),
        Val::Null | Val::Other => None,
    }
}

fn to_bool(v: &Val) -> Option<bool> {
    match v {
        Val::Bool(b) => Some(*b),
        Val::Int(i) => Some(*i != 0),
        Val::Real(x) if x.is_nan() => None,
        Val::Real(x) => Some(*x != 0.0),
        Val::Text(t) => parse_bool_text(t),
        _ => None,
    }
}

fn to_datetime(v: &Val) -> Option<i64> {
    match v {
        Val::DateTime(ns) => Some(*ns),
        Val::Text(t) => parse_datetime(t),
        Val::Int(ticks) => ticks_to_ns(*ticks),
        _ => None,
    }
}

fn to_timespan(v: &Val) -> Option<i64> {
    match v {
        Val::TimeSpan(ns) => Some(*ns),
        Val::Text(t) => parse_timespan(t),
        Val::Int(ticks) => ticks.checked_mul(100),
        Val::Real(ticks) => {
            let ns = (ticks * 100.0).round();
            (ns.is_finite() && ns.abs() < 9.2e18).then_some(ns as i64)
        }
        _ => None,
    }
}

fn to_guid(v: &Val) -> Option<String> {
    match v {
        Val::Text(t) => parse_guid(t),
        _ => None,
    }
}

/// A guid text in its canonical form (`01234567-89ab-cdef-0123-456789abcdef`): 32 hex digits,
/// dashes anywhere, optionally in `{}` or `()`; `None` otherwise.
pub fn parse_guid(text: &str) -> Option<String> {
    let mut t = text.trim();
    for (open, close) in [('{', '}'), ('(', ')')] {
        if let Some(inner) = t.strip_prefix(open).and_then(|x| x.strip_suffix(close)) {
            t = inner;
        }
    }
    let hex: Vec<u8> = t.bytes().filter(|&b| b != b'-').collect();
    if hex.len() != 32 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let hex = String::from_utf8(hex).ok()?.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8)?,
        hex.get(8..12)?,
        hex.get(12..16)?,
        hex.get(16..20)?,
        hex.get(20..32)?
    ))
}

const NS_PER_SEC: i128 = 1_000_000_000;

/// A timespan text: the .NET/Kusto clock form `[-][d.]hh:mm[:ss[.fffffff]]` (`1.02:03:04`,
/// `00:10:00`, `-00:00:01.5`), a whole number of days (`3`), or a KQL timespan literal
/// (`1h`, `2.5d`, `30min`, `100ms`, `10microseconds`, `5ticks`). `None` otherwise.
pub fn parse_timespan(text: &str) -> Option<i64> {
    let s = text.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body.is_empty() {
        return None;
    }
    let ns: i128 = if body.contains(':') {
        clock_ns(body)?
    } else if body.bytes().all(|b| b.is_ascii_digit()) {
        i128::from(body.parse::<i64>().ok()?) * 86_400 * NS_PER_SEC
    } else {
        literal_ns(body)?
    };
    i64::try_from(if neg { -ns } else { ns }).ok()
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Fraction digits after a `.` as ns (`"5"` → 500 ms; up to 9 digits are significant).
fn fraction_ns(digits: &str) -> Option<i128> {
    if !all_digits(digits) {
        return None;
    }
    let mut ns: i128 = 0;
    for (i, b) in digits.bytes().take(9).enumerate() {
        ns += i128::from(b - b'0') * 10i128.pow(8 - u32::try_from(i).ok()?);
    }
    Some(ns)
}

fn clock_ns(body: &str) -> Option<i128> {
    let parts: Vec<&str> = body.split(':').collect();
    let (head, minutes, seconds) = match parts.as_slice() {
        [h, m] => (*h, *m, None),
        [h, m, s] => (*h, *m, Some(*s)),
        _ => return None,
    };
    let (days, hours) = match head.split_once('.') {
        Some((d, h)) => (d, h),
        None => ("0", head),
    };
    if !all_digits(days) || !all_digits(hours) || !all_digits(minutes) {
        return None;
    }
    let days: i128 = days.parse().ok()?;
    let hours: i128 = hours.parse().ok()?;
    let minutes: i128 = minutes.parse().ok()?;
    if hours > 23 || minutes > 59 || days > 10_675_199 {
        return None;
    }
    let (secs, frac) = match seconds {
        None => (0, 0),
        Some(s) => {
            let (whole, frac) = match s.split_once('.') {
                Some((w, f)) => (w, fraction_ns(f)?),
                None => (s, 0),
            };
            if !all_digits(whole) {
                return None;
            }
            let w: i128 = whole.parse().ok()?;
            if w > 59 {
                return None;
            }
            (w, frac)
        }
    };
    Some((((days * 24 + hours) * 60 + minutes) * 60 + secs) * NS_PER_SEC + frac)
}

/// `<number><unit>` as in KQL timespan literals.
fn literal_ns(body: &str) -> Option<i128> {
    let split = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (num, unit) = body.split_at(split);
    let unit_ns: i128 = match unit.trim().to_ascii_lowercase().as_str() {
        "d" | "day" | "days" => 86_400 * NS_PER_SEC,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600 * NS_PER_SEC,
        "m" | "min" | "minute" | "minutes" => 60 * NS_PER_SEC,
        "s" | "sec" | "second" | "seconds" => NS_PER_SEC,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1_000_000,
        "microsecond" | "microseconds" => 1_000,
        "tick" | "ticks" => 100,
        _ => return None,
    };
    let (whole, frac) = match num.split_once('.') {
        Some((w, f)) => (w, f),
        None => (num, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let whole: i128 = if whole.is_empty() {
        0
    } else if all_digits(whole) {
        whole.parse().ok()?
    } else {
        return None;
    };
    let mut ns = whole.checked_mul(unit_ns)?;
    if !frac.is_empty() {
        if !all_digits(frac) {
            return None;
        }
        // Exact up to 18 fraction digits, rounded to the nearest ns.
        let digits = frac.get(..frac.len().min(18))?;
        let scale = 10i128.pow(u32::try_from(digits.len()).ok()?);
        let f: i128 = digits.parse().ok()?;
        ns = ns.checked_add((f * unit_ns * 2 + scale) / (2 * scale))?;
    }
    Some(ns)
}

// ---------------------------------------------------------------------------------------------
// Conversion kernels
// ---------------------------------------------------------------------------------------------

fn convert_kernel<T>(
    args: &[ColumnarValue],
    rows: usize,
    dynamic: bool,
    f: impl Fn(&Val) -> Option<T>,
) -> Result<Vec<Option<T>>> {
    let a = arg_array(args, 0, rows)?;
    let mut out = Vec::with_capacity(a.len());
    for_each_val(&a, dynamic, |v| out.push(f(&v)))?;
    Ok(out)
}

macro_rules! conversions {
    ($($plain:ident, $dyn:ident => |$v:ident| $body:expr, $arr:ty, $wrap:expr;)*) => {
        $(
            #[doc = concat!("Conversion kernel `", stringify!($plain), "` (typed input).")]
            pub fn $plain(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
                let v = convert_kernel(args, rows, false, |$v| $body)?;
                Ok($wrap(<$arr>::from(v)))
            }
            #[doc = concat!("Conversion kernel `", stringify!($plain), "` (dynamic input).")]
            pub fn $dyn(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
                let v = convert_kernel(args, rows, true, |$v| $body)?;
                Ok($wrap(<$arr>::from(v)))
            }
        )*
    };
}

fn arc<A: Array + 'static>(a: A) -> ArrayRef {
    Arc::new(a)
}

fn utc(a: TimestampNanosecondArray) -> ArrayRef {
    Arc::new(a.with_timezone("UTC"))
}

conversions! {
    to_int, dyn_to_int => |v| to_i64(v).and_then(|x| i32::try_from(x).ok()), Int32Array, arc;
    to_long, dyn_to_long => |v| to_i64(v), Int64Array, arc;
    to_real, dyn_to_real => |v| to_f64(v), Float64Array, arc;
    to_bool_kernel, dyn_to_bool => |v| to_bool(v), BooleanArray, arc;
    to_datetime_kernel, dyn_to_datetime => |v| to_datetime(v), TimestampNanosecondArray, utc;
    to_timespan_kernel, dyn_to_timespan => |v| to_timespan(v), DurationNanosecondArray, arc;
    to_guid_kernel, dyn_to_guid => |v| to_guid(v), StringArray, arc;
}

/// `tostring(x)` for any non-dynamic value: bool `true`/`false`, numbers in Kusto's format,
/// datetime `2024-03-01T10:00:00Z`, timespan `01:00:00`; null → `""`.
pub fn to_string(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = arg_array(args, 0, rows)?;
    let n = a.len();
    let out: StringArray = match a.data_type() {
        DataType::Utf8 => (0..n)
            .map(|i| {
                Some(if a.is_null(i) {
                    ""
                } else {
                    a.as_string::<i32>().value(i)
                })
            })
            .collect(),
        DataType::Int64 => a
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| Some(v.map(|v| v.to_string()).unwrap_or_default()))
            .collect(),
        DataType::Int32 => a
            .as_primitive::<Int32Type>()
            .iter()
            .map(|v| Some(v.map(|v| v.to_string()).unwrap_or_default()))
            .collect(),
        DataType::Float64 => a
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| Some(v.map(format::format_real).unwrap_or_default()))
            .collect(),
        DataType::Boolean => a
            .as_boolean()
            .iter()
            .map(|v| Some(v.map_or("", |b| if b { "true" } else { "false" })))
            .collect(),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => a
            .as_primitive::<TimestampNanosecondType>()
            .iter()
            .map(|v| Some(v.map(format::format_datetime).unwrap_or_default()))
            .collect(),
        DataType::Duration(TimeUnit::Nanosecond) => a
            .as_primitive::<DurationNanosecondType>()
            .iter()
            .map(|v| Some(v.map(format::format_timespan).unwrap_or_default()))
            .collect(),
        DataType::Null => (0..n).map(|_| Some("")).collect(),
        dt => {
            let ty = kql_type_of_arrow(dt);
            (0..n)
                .map(|i| Some(format::cell_text(&a, i, ty).unwrap_or_default()))
                .collect()
        }
    };
    Ok(Arc::new(out))
}

/// The conversion kernel to `to` for typed (`dynamic == false`) or dynamic input.
fn kernel_for(to: ScalarType, dynamic: bool) -> (&'static str, udf::Kernel) {
    use ScalarType as T;
    match (to, dynamic) {
        (T::Int, false) => ("toint", to_int),
        (T::Int, true) => ("toint", dyn_to_int),
        (T::Long, false) => ("tolong", to_long),
        (T::Long, true) => ("tolong", dyn_to_long),
        (T::Real | T::Decimal, false) => ("todouble", to_real),
        (T::Real | T::Decimal, true) => ("todouble", dyn_to_real),
        (T::Bool, false) => ("tobool", to_bool_kernel),
        (T::Bool, true) => ("tobool", dyn_to_bool),
        (T::DateTime, false) => ("todatetime", to_datetime_kernel),
        (T::DateTime, true) => ("todatetime", dyn_to_datetime),
        (T::TimeSpan, false) => ("totimespan", to_timespan_kernel),
        (T::TimeSpan, true) => ("totimespan", dyn_to_timespan),
        (T::Guid, false) => ("toguid", to_guid_kernel),
        (T::Guid, true) => ("toguid", dyn_to_guid),
        (T::String, false) => ("tostring", to_string),
        (T::String, true) => ("tostring", super::dynamic::to_string_kernel),
        (T::Dynamic, _) => ("todynamic", super::dynamic::to_dynamic),
    }
}

/// `to<type>(e)` for a value of KQL type `from` (see the module docs for the rules).
pub fn convert(e: Expr, from: ScalarType, to: ScalarType) -> Expr {
    use ScalarType as T;
    let same = from == to
        || matches!(
            (from, to),
            (T::Real, T::Decimal) | (T::Decimal, T::Real) | (T::Guid, T::String)
        );
    if same {
        return e;
    }
    if to == T::Dynamic {
        return super::dynamic::to_dynamic_expr(e);
    }
    let (name, kernel) = kernel_for(to, from == T::Dynamic);
    udf::call(name, arrow_type(to), kernel, vec![e])
}

/// A dynamic value converted to `to` (the JSON value is unwrapped first).
pub fn cast_dynamic(e: Expr, to: ScalarType) -> Expr {
    convert(e, ScalarType::Dynamic, to)
}

// ---------------------------------------------------------------------------------------------
// Timespan scaling
// ---------------------------------------------------------------------------------------------

/// Factors as exact integers where the factor column is integral.
enum Factors {
    Int(Int64Array),
    Real(Float64Array),
}

fn factors(args: &[ColumnarValue], rows: usize) -> Result<Factors> {
    let a = arg_array(args, 1, rows)?;
    Ok(match a.data_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => Factors::Int(
            datafusion::arrow::compute::cast(&a, &DataType::Int64)?
                .as_primitive::<Int64Type>()
                .clone(),
        ),
        _ => Factors::Real(
            datafusion::arrow::compute::cast(&a, &DataType::Float64)?
                .as_primitive::<Float64Type>()
                .clone(),
        ),
    })
}

fn f64_to_ns(x: f64) -> Option<i64> {
    let r = x.round();
    I64_RANGE.contains(&r).then_some(r as i64)
}

/// Integer division rounded half away from zero.
fn div_round(n: i64, d: i64) -> Option<i64> {
    if d == 0 {
        return None;
    }
    let (n, d) = (i128::from(n), i128::from(d));
    let q = n / d;
    let r = n % d;
    let q = if 2 * r.abs() >= d.abs() {
        q + if (n < 0) == (d < 0) { 1 } else { -1 }
    } else {
        q
    };
    i64::try_from(q).ok()
}

fn scale(args: &[ColumnarValue], rows: usize, divide: bool) -> Result<ArrayRef> {
    let span = arg_array(args, 0, rows)?;
    let span = datafusion::arrow::compute::cast(&span, &DataType::Duration(TimeUnit::Nanosecond))?;
    let span = span.as_primitive::<DurationNanosecondType>();
    let out: DurationNanosecondArray = match factors(args, span.len())? {
        Factors::Int(f) => span
            .iter()
            .zip(f.iter())
            .map(|(s, f)| {
                let (s, f) = (s?, f?);
                if divide {
                    div_round(s, f)
                } else {
                    s.checked_mul(f)
                }
            })
            .collect(),
        Factors::Real(f) => span
            .iter()
            .zip(f.iter())
            .map(|(s, f)| {
                let (s, f) = (s? as f64, f?);
                if divide {
                    if f == 0.0 { None } else { f64_to_ns(s / f) }
                } else {
                    f64_to_ns(s * f)
                }
            })
            .collect(),
    };
    Ok(Arc::new(out))
}

/// Kernel: `timespan * number` → timespan (rounded to whole ns; overflow → null).
pub fn timespan_mul(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    scale(args, rows, false)
}

/// Kernel: `timespan / number` → timespan (rounded to whole ns; division by zero → null).
pub fn timespan_div(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    scale(args, rows, true)
}

/// `span * factor` or `span / factor` (`factor` any number).
pub fn scale_timespan(span: Expr, factor: Expr, divide: bool) -> Expr {
    if divide {
        udf::call(
            "timespan_div",
            arrow_type(ScalarType::TimeSpan),
            timespan_div,
            vec![span, factor],
        )
    } else {
        udf::call(
            "timespan_mul",
            arrow_type(ScalarType::TimeSpan),
            timespan_mul,
            vec![span, factor],
        )
    }
}

// ---------------------------------------------------------------------------------------------
// substring
// ---------------------------------------------------------------------------------------------

/// `substring(s, start, [length])` on characters: a negative `start` counts from the end
/// (`substring("123456", -2, 2)` = `"56"`), ranges are clamped to the string, a negative
/// length gives `""`.
pub fn substring_chars(s: &str, start: i64, len: Option<i64>) -> String {
    let n = i64::try_from(s.chars().count()).unwrap_or(i64::MAX);
    let start = if start < 0 {
        n.saturating_add(start).max(0)
    } else {
        start
    };
    if start >= n {
        return String::new();
    }
    let end = match len {
        None => n,
        Some(l) if l < 0 => return String::new(),
        Some(l) => start.saturating_add(l).min(n),
    };
    let skip = usize::try_from(start).unwrap_or(usize::MAX);
    let take = usize::try_from(end - start).unwrap_or(0);
    s.chars().skip(skip).take(take).collect()
}

fn int_arg(args: &[ColumnarValue], i: usize, rows: usize) -> Result<Option<Int64Array>> {
    if args.len() <= i {
        return Ok(None);
    }
    let a = arg_array(args, i, rows)?;
    let a = datafusion::arrow::compute::cast(&a, &DataType::Int64)?;
    Ok(Some(a.as_primitive::<Int64Type>().clone()))
}

/// Kernel `substring(s, start, [length])`; a null start gives `""`, a null length means
/// "to the end".
pub fn substring(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let s = string_array(args, 0, rows)?;
    let n = s.len();
    let start = int_arg(args, 1, n)?;
    let len = int_arg(args, 2, n)?;
    let out: StringArray = (0..n)
        .map(|i| {
            let text = if s.is_null(i) { "" } else { s.value(i) };
            let st = match &start {
                Some(a) if !a.is_null(i) => a.value(i),
                Some(_) => return Some(String::new()),
                None => 0,
            };
            let l = len
                .as_ref()
                .and_then(|a| (!a.is_null(i)).then(|| a.value(i)));
            Some(substring_chars(text, st, l))
        })
        .collect();
    Ok(Arc::new(out))
}

// ---------------------------------------------------------------------------------------------
// Regex kernels
// ---------------------------------------------------------------------------------------------

/// A regex argument compiled once per batch (scalar) or once per distinct pattern (column).
struct Patterns<T> {
    scalar: Option<T>,
    column: Option<StringArray>,
    cache: HashMap<String, T>,
    compile: fn(&str) -> Result<T>,
}

impl<T> Patterns<T> {
    fn new(
        args: &[ColumnarValue],
        i: usize,
        rows: usize,
        compile: fn(&str) -> Result<T>,
    ) -> Result<Self> {
        let (scalar, column) = match arg_scalar(args, i) {
            Some(s) => (Some(compile(scalar_str(s).unwrap_or(""))?), None),
            None => (None, Some(string_array(args, i, rows)?)),
        };
        Ok(Patterns {
            scalar,
            column,
            cache: HashMap::new(),
            compile,
        })
    }

    fn get(&mut self, row: usize) -> Result<&T> {
        if let Some(t) = &self.scalar {
            return Ok(t);
        }
        let p = match &self.column {
            Some(c) if !c.is_null(row) => c.value(row),
            _ => "",
        };
        if !self.cache.contains_key(p) {
            let c = (self.compile)(p)?;
            self.cache.insert(p.to_string(), c);
        }
        match self.cache.get(p) {
            Some(t) => Ok(t),
            None => exec_err!("regex cache miss"),
        }
    }
}

fn compile(pattern: &str) -> Result<Regex> {
    match super::re2::compile(pattern) {
        Ok(r) => Ok(r),
        Err(e) => exec_err!(
            "invalid regular expression: {}",
            e.to_string().lines().next_back().unwrap_or("").trim()
        ),
    }
}

/// Regexes removing leading / trailing runs of matches of a pattern.
struct Trimmer {
    start: Regex,
    end: Regex,
}

fn compile_trimmer(pattern: &str) -> Result<Trimmer> {
    // Validate the pattern alone first so the error names the user's regex.
    compile(pattern)?;
    Ok(Trimmer {
        start: compile(&format!("^(?:{pattern})+"))?,
        end: compile(&format!("(?:{pattern})+$"))?,
    })
}

fn trim_with(t: &Trimmer, s: &str, start: bool, end: bool) -> String {
    let mut s = s;
    if start && let Some(m) = t.start.find(s) {
        s = s.get(m.end()..).unwrap_or("");
    }
    if end && let Some(m) = t.end.find(s) {
        s = s.get(..m.start()).unwrap_or("");
    }
    s.to_string()
}

fn trim_kernel(args: &[ColumnarValue], rows: usize, start: bool, end: bool) -> Result<ArrayRef> {
    let s = string_array(args, 1, rows)?;
    let mut pats = Patterns::new(args, 0, s.len(), compile_trimmer)?;
    let out = (0..s.len())
        .map(|i| {
            let text = if s.is_null(i) { "" } else { s.value(i) };
            Ok(Some(trim_with(pats.get(i)?, text, start, end)))
        })
        .collect::<Result<StringArray>>()?;
    Ok(Arc::new(out))
}

/// `trim(regex, s)`: removes all leading and trailing matches of `regex`
/// (`trim("--", "--https://bing.com--")` = `"https://bing.com"`).
pub fn trim(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    trim_kernel(args, rows, true, true)
}

/// `trim_start(regex, s)`: removes leading matches of `regex`.
pub fn trim_start(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    trim_kernel(args, rows, true, false)
}

/// `trim_end(regex, s)`: removes trailing matches of `regex` (`trim_end(".com", "bing.com")` =
/// `"bing"`: the pattern is a regex, `.` matches any character).
pub fn trim_end(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    trim_kernel(args, rows, false, true)
}

/// `extract(regex, group, s)`: the text of capture group `group` (0 = the whole match) of the
/// first match; `""` when there is no match, the group does not exist or did not take part.
pub fn extract(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let s = string_array(args, 2, rows)?;
    let n = s.len();
    let groups = int_arg(args, 1, n)?;
    let mut pats = Patterns::new(args, 0, n, compile)?;
    let out = (0..n)
        .map(|i| {
            let text = if s.is_null(i) { "" } else { s.value(i) };
            let g = groups
                .as_ref()
                .and_then(|a| (!a.is_null(i)).then(|| a.value(i)))
                .and_then(|g| usize::try_from(g).ok());
            let re = pats.get(i)?;
            let found = g
                .and_then(|g| re.captures(text).and_then(|c| c.get(g)))
                .map_or("", |m| m.as_str());
            Ok(Some(found.to_string()))
        })
        .collect::<Result<StringArray>>()?;
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::ScalarValue;

    fn s(v: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(v.into())))
    }
    fn long(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }
    fn col(values: &[Option<&str>]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(StringArray::from(values.to_vec())))
    }
    fn texts(a: &ArrayRef) -> Vec<String> {
        a.as_string::<i32>()
            .iter()
            .map(|x| x.unwrap_or("<null>").to_string())
            .collect()
    }
    fn one(a: Result<ArrayRef>) -> String {
        a.map(|a| texts(&a).into_iter().next().unwrap_or_default())
            .unwrap_or_else(|e| format!("<error {e}>"))
    }

    #[test]
    fn string_to_numbers() {
        // docs: coalesce(tolong("not a number"), tolong("42"), 33) == 42.
        assert_eq!(parse_long_text("not a number"), None);
        assert_eq!(parse_long_text("42"), Some(42));
        assert_eq!(parse_long_text(" -7 "), Some(-7));
        assert_eq!(parse_long_text("1.9"), Some(1));
        assert_eq!(parse_long_text("1e3"), Some(1000));
        assert_eq!(parse_long_text("inf"), None);
        assert_eq!(parse_long_text("99999999999999999999"), None);
        assert_eq!(parse_real_text("1.5"), Some(1.5));
        assert_eq!(parse_real_text("abc"), None);
        assert!(parse_real_text("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_bool_text("TRUE"), Some(true));
        assert_eq!(parse_bool_text("0"), Some(false));
        assert_eq!(parse_bool_text("yes"), None);
    }

    #[test]
    fn int_kernels() -> Result<()> {
        let a = to_int(
            &[col(&[Some("12"), Some("x"), None, Some("3000000000")])],
            4,
        )?;
        let v: Vec<_> = a.as_primitive::<Int32Type>().iter().collect();
        assert_eq!(v, vec![Some(12), None, None, None]);
        // docs extract(..., typeof(int)): "07" → 7.
        let a = to_int(&[s("07")], 1)?;
        assert_eq!(a.as_primitive::<Int32Type>().value(0), 7);
        let a = to_long(
            &[ColumnarValue::Scalar(ScalarValue::Float64(Some(-2.9)))],
            1,
        )?;
        assert_eq!(a.as_primitive::<Int64Type>().value(0), -2);
        // docs dayofweek: toint(2d / 1d) == 2 (the planner gives a real).
        let a = to_int(&[ColumnarValue::Scalar(ScalarValue::Float64(Some(2.0)))], 1)?;
        assert_eq!(a.as_primitive::<Int32Type>().value(0), 2);
        // Ticks.
        let a = to_long(
            &[ColumnarValue::Scalar(ScalarValue::DurationNanosecond(
                Some(1_000_000_000),
            ))],
            1,
        )?;
        assert_eq!(a.as_primitive::<Int64Type>().value(0), 10_000_000);
        let a = to_long(
            &[ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(
                Some(0),
                None,
            ))],
            1,
        )?;
        assert_eq!(
            a.as_primitive::<Int64Type>().value(0),
            621_355_968_000_000_000
        );
        Ok(())
    }

    #[test]
    fn dynamic_sources_are_unwrapped() -> Result<()> {
        let a = dyn_to_long(
            &[col(&[
                Some("\"123\""),
                Some("1.5"),
                Some("[1]"),
                Some("true"),
                None,
            ])],
            5,
        )?;
        let v: Vec<_> = a.as_primitive::<Int64Type>().iter().collect();
        assert_eq!(v, vec![Some(123), Some(1), None, Some(1), None]);
        let a = dyn_to_real(&[s("2.5")], 1)?;
        assert_eq!(a.as_primitive::<Float64Type>().value(0), 2.5);
        let a = dyn_to_datetime(&[s("\"2025-01-06T00:00:00Z\"")], 1)?;
        assert_eq!(
            format::format_datetime(a.as_primitive::<TimestampNanosecondType>().value(0)),
            "2025-01-06T00:00:00Z"
        );
        let a = dyn_to_timespan(&[s("\"00:00:02\"")], 1)?;
        assert_eq!(
            a.as_primitive::<DurationNanosecondType>().value(0),
            2_000_000_000
        );
        let a = dyn_to_bool(
            &[col(&[
                Some("true"),
                Some("\"false\""),
                Some("0"),
                Some("{}"),
            ])],
            4,
        )?;
        let v: Vec<_> = a.as_boolean().iter().collect();
        assert_eq!(v, vec![Some(true), Some(false), Some(false), None]);
        Ok(())
    }

    #[test]
    fn todatetime_and_totimespan() -> Result<()> {
        // docs: todatetime('12-02-2022') == datetime('12-02-2022').
        let a = to_datetime_kernel(&[s("12-02-2022")], 1)?;
        assert_eq!(
            Some(a.as_primitive::<TimestampNanosecondType>().value(0)),
            parse_datetime("12-02-2022")
        );
        let a = to_datetime_kernel(&[s("garbage")], 1)?;
        assert!(a.is_null(0));
        // docs: totimespan("0.00:03:00") == 00:03:00.
        assert_eq!(parse_timespan("0.00:03:00"), Some(180_000_000_000));
        assert_eq!(parse_timespan("00:10:00"), Some(600_000_000_000));
        assert_eq!(
            parse_timespan("1.02:03:04"),
            Some(((26 * 60 + 3) * 60 + 4) * 1_000_000_000)
        );
        assert_eq!(parse_timespan("-00:00:01.5"), Some(-1_500_000_000));
        assert_eq!(parse_timespan("00:00:00.0000001"), Some(100));
        assert_eq!(parse_timespan("1h"), Some(3_600_000_000_000));
        assert_eq!(parse_timespan("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_timespan("25min"), Some(1_500_000_000_000));
        assert_eq!(parse_timespan("100ms"), Some(100_000_000));
        assert_eq!(parse_timespan("3ticks"), Some(300));
        assert_eq!(parse_timespan("2"), Some(2 * 86_400_000_000_000));
        for bad in ["", "abc", "1x", "25:00:00", "00:60:00", "1:2:3:4", "-", "."] {
            assert_eq!(parse_timespan(bad), None, "{bad}");
        }
        let a = to_timespan_kernel(&[long(10_000_000)], 1)?;
        assert_eq!(
            a.as_primitive::<DurationNanosecondType>().value(0),
            1_000_000_000
        );
        Ok(())
    }

    #[test]
    fn toguid_follows_the_docs() -> Result<()> {
        let a = to_guid_kernel(
            &[col(&[
                Some("0123456789abcdef0123456789abcdef"),
                Some("0123456789ab-cdef-0123-456789abcdef"),
                Some("a string that is not a guid"),
                Some("{01234567-89AB-CDEF-0123-456789ABCDEF}"),
            ])],
            4,
        )?;
        assert_eq!(
            texts(&a),
            vec![
                "01234567-89ab-cdef-0123-456789abcdef",
                "01234567-89ab-cdef-0123-456789abcdef",
                "<null>",
                "01234567-89ab-cdef-0123-456789abcdef"
            ]
        );
        Ok(())
    }

    #[test]
    fn tostring_of_each_type() -> Result<()> {
        let cases: Vec<(ColumnarValue, &str)> = vec![
            (long(42), "42"),
            (ColumnarValue::Scalar(ScalarValue::Int32(Some(-3))), "-3"),
            (
                ColumnarValue::Scalar(ScalarValue::Float64(Some(1.5))),
                "1.5",
            ),
            (ColumnarValue::Scalar(ScalarValue::Float64(Some(2.0))), "2"),
            (
                ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))),
                "true",
            ),
            (
                ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(
                    Some(1_709_287_200_123_456_700),
                    Some("UTC".into()),
                )),
                "2024-03-01T10:00:00.1234567Z",
            ),
            (
                ColumnarValue::Scalar(ScalarValue::DurationNanosecond(Some(93_784_000_000_000))),
                "1.02:03:04",
            ),
            (ColumnarValue::Scalar(ScalarValue::Int64(None)), ""),
            (ColumnarValue::Scalar(ScalarValue::Null), ""),
            (ColumnarValue::Scalar(ScalarValue::Utf8(None)), ""),
        ];
        for (v, want) in cases {
            assert_eq!(one(to_string(&[v], 1)), want);
        }
        Ok(())
    }

    #[test]
    fn timespan_scaling() -> Result<()> {
        let h = ColumnarValue::Scalar(ScalarValue::DurationNanosecond(Some(3_600_000_000_000)));
        let a = timespan_mul(&[h.clone(), long(5)], 1)?;
        assert_eq!(
            a.as_primitive::<DurationNanosecondType>().value(0),
            18_000_000_000_000
        );
        let a = timespan_mul(
            &[
                h.clone(),
                ColumnarValue::Scalar(ScalarValue::Float64(Some(0.5))),
            ],
            1,
        )?;
        assert_eq!(
            a.as_primitive::<DurationNanosecondType>().value(0),
            1_800_000_000_000
        );
        let a = timespan_div(&[h.clone(), long(7)], 1)?;
        assert_eq!(
            a.as_primitive::<DurationNanosecondType>().value(0),
            514_285_714_286
        );
        let a = timespan_div(&[h.clone(), long(0)], 1)?;
        assert!(a.is_null(0));
        let a = timespan_mul(&[h, long(i64::MAX)], 1)?;
        assert!(a.is_null(0));
        assert_eq!(div_round(-7, 2), Some(-4));
        assert_eq!(div_round(7, -2), Some(-4));
        assert_eq!(div_round(5, 3), Some(2));
        Ok(())
    }

    #[test]
    fn substring_follows_the_docs() {
        assert_eq!(substring_chars("123456", 1, None), "23456");
        assert_eq!(substring_chars("123456", 2, Some(2)), "34");
        assert_eq!(substring_chars("ABCD", 0, Some(2)), "AB");
        assert_eq!(substring_chars("123456", -2, Some(2)), "56");
        assert_eq!(substring_chars("123456", 10, Some(2)), "");
        assert_eq!(substring_chars("123456", 4, Some(100)), "56");
        assert_eq!(substring_chars("123456", -100, Some(2)), "12");
        assert_eq!(substring_chars("123456", 1, Some(-1)), "");
        assert_eq!(substring_chars("héllo", 1, Some(3)), "éll");
        assert_eq!(substring_chars("x", i64::MIN, Some(i64::MAX)), "x");
        assert_eq!(one(substring(&[s("123456"), long(2), long(2)], 1)), "34");
        assert_eq!(one(substring(&[s("123456"), long(2)], 1)), "3456");
    }

    #[test]
    fn trim_follows_the_docs() {
        assert_eq!(
            one(trim(&[s("--"), s("--https://bing.com--")], 1)),
            "https://bing.com"
        );
        assert_eq!(one(trim_end(&[s(".com"), s("bing.com")], 1)), "bing");
        assert_eq!(one(trim(&[s(r"[^\w]+"), s("-  Te st1// $")], 1)), "Te st1");
        assert_eq!(
            one(trim_end(&[s(r"[^\w]+"), s("-  Te st1// $")], 1)),
            "-  Te st1"
        );
        assert_eq!(
            one(trim_end(&[s(r"\s+"), s("    Hello, world!    ")], 1)),
            "    Hello, world!"
        );
        assert_eq!(one(trim_start(&[s(r"\s+"), s("  a  ")], 1)), "a  ");
        // docs let-statement: trim("1", tostring(x)) for 10..15.
        let out = trim(
            &[s("1"), col(&[Some("10"), Some("11"), Some("12"), None])],
            4,
        )
        .map(|a| texts(&a));
        assert_eq!(
            out.ok(),
            Some(vec!["0".into(), String::new(), "2".into(), String::new()])
        );
        // A pattern column compiles per distinct pattern; a bad regex is an error, not a panic.
        let out = trim(
            &[
                col(&[Some("a"), Some("b")]),
                col(&[Some("aXa"), Some("bYb")]),
            ],
            2,
        )
        .map(|a| texts(&a));
        assert_eq!(out.ok(), Some(vec!["X".into(), "Y".into()]));
        assert!(trim(&[s("("), s("x")], 1).is_err());
        assert_eq!(one(trim(&[s(""), s("abc")], 1)), "abc");
    }

    #[test]
    fn extract_follows_the_docs() {
        let re = s(r"-(\d{2})-");
        let out = extract(
            &[
                re,
                long(1),
                col(&[Some("15-12-2024"), Some("21-07-2023"), Some("nope")]),
            ],
            3,
        )
        .map(|a| texts(&a));
        assert_eq!(
            out.ok(),
            Some(vec!["12".into(), "07".into(), String::new()])
        );
        assert_eq!(
            one(extract(&[s(r"x=(\d+)"), long(0), s("a x=12 b")], 1)),
            "x=12"
        );
        assert_eq!(
            one(extract(&[s(r"x=(\d+)"), long(2), s("a x=12 b")], 1)),
            ""
        );
        assert_eq!(
            one(extract(&[s(r"x=(\d+)"), long(-1), s("a x=12 b")], 1)),
            ""
        );
        assert_eq!(one(extract(&[s(r"(a)|(b)"), long(1), s("b")], 1)), "");
    }

    #[test]
    fn convert_builds_expressions() {
        use datafusion::logical_expr::col as c;
        // Same type: unchanged.
        assert_eq!(convert(c("x"), ScalarType::Long, ScalarType::Long), c("x"));
        assert_eq!(
            convert(c("x"), ScalarType::Guid, ScalarType::String),
            c("x")
        );
        // Otherwise a UDF call.
        assert!(matches!(
            convert(c("x"), ScalarType::String, ScalarType::Long),
            Expr::ScalarFunction(_)
        ));
        assert!(matches!(
            cast_dynamic(c("x"), ScalarType::DateTime),
            Expr::ScalarFunction(_)
        ));
    }
}
