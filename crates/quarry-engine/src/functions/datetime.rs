//! Datetime kernels: `startof*`/`endof*`, `datetime_diff`, `datetime_add`, `format_datetime`,
//! `dayofweek`, `hourofday`, `getyear`, `getmonth` and friends.
//!
//! Datetimes are `Timestamp(ns, "UTC")`; every computation is in UTC on the proleptic
//! Gregorian calendar. A null input, or a result outside the nanosecond range, gives null.
//! Weeks start on Sunday, as in Kusto's `startofweek`, `dayofweek` and `datetime_diff('week')`.

use super::udf::{arg_array, arg_scalar, scalar_str, string_array};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, DurationNanosecondArray, Int32Array, Int64Array, StringArray,
    TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampNanosecondType};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use std::sync::Arc;

const NS_PER_US: i64 = 1_000;
const NS_PER_MS: i64 = 1_000_000;
const NS_PER_SEC: i64 = 1_000_000_000;
const NS_PER_MIN: i64 = 60 * NS_PER_SEC;
const NS_PER_HOUR: i64 = 60 * NS_PER_MIN;
const NS_PER_DAY: i64 = 24 * NS_PER_HOUR;
/// One Kusto tick: `endof*` is the start of the next period minus a tick.
const TICK_NS: i64 = 100;

/// A `datetime_add` / `datetime_diff` period name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatePart {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
}

impl DatePart {
    /// Kusto's period names, case-insensitive (`'year'`, `'Month'`, `'MILLISECOND'`...).
    pub fn parse(s: &str) -> Option<DatePart> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "year" => DatePart::Year,
            "quarter" => DatePart::Quarter,
            "month" => DatePart::Month,
            "week" => DatePart::Week,
            "day" => DatePart::Day,
            "hour" => DatePart::Hour,
            "minute" => DatePart::Minute,
            "second" => DatePart::Second,
            "millisecond" => DatePart::Millisecond,
            "microsecond" => DatePart::Microsecond,
            "nanosecond" => DatePart::Nanosecond,
            _ => return None,
        })
    }

    /// The fixed length of the period in ns (None for calendar periods).
    fn fixed_ns(self) -> Option<i64> {
        Some(match self {
            DatePart::Week => 7 * NS_PER_DAY,
            DatePart::Day => NS_PER_DAY,
            DatePart::Hour => NS_PER_HOUR,
            DatePart::Minute => NS_PER_MIN,
            DatePart::Second => NS_PER_SEC,
            DatePart::Millisecond => NS_PER_MS,
            DatePart::Microsecond => NS_PER_US,
            DatePart::Nanosecond => 1,
            DatePart::Year | DatePart::Quarter | DatePart::Month => return None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Calendar helpers
// ---------------------------------------------------------------------------------------------

fn to_naive(ns: i64) -> NaiveDateTime {
    DateTime::from_timestamp_nanos(ns).naive_utc()
}

fn from_naive(t: NaiveDateTime) -> Option<i64> {
    t.and_utc().timestamp_nanos_opt()
}

fn midnight(d: NaiveDate) -> Option<i64> {
    from_naive(d.and_hms_opt(0, 0, 0)?)
}

/// Months since year 0 (`year * 12 + month0`).
fn month_index(t: &NaiveDateTime) -> i64 {
    i64::from(t.year()) * 12 + i64::from(t.month0())
}

/// The first day of the month `idx` (as from [`month_index`]).
fn first_of_month(idx: i64) -> Option<NaiveDate> {
    let year = i32::try_from(idx.div_euclid(12)).ok()?;
    let month = u32::try_from(idx.rem_euclid(12)).ok()? + 1;
    NaiveDate::from_ymd_opt(year, month, 1)
}

fn days_in_month(idx: i64) -> Option<u32> {
    let first = first_of_month(idx)?;
    let next = first_of_month(idx.checked_add(1)?)?;
    u32::try_from((next - first).num_days()).ok()
}

/// Adds `months` to a datetime, clamping the day to the target month's length (Jan 31 + 1
/// month = Feb 28/29), keeping the time of day.
pub fn add_months(ns: i64, months: i64) -> Option<i64> {
    let t = to_naive(ns);
    let idx = month_index(&t).checked_add(months)?;
    let day = t.day().min(days_in_month(idx)?);
    let date = first_of_month(idx)?.with_day(day)?;
    from_naive(date.and_time(t.time()))
}

/// Days since 1970-01-01 (floored).
fn day_index(ns: i64) -> i64 {
    ns.div_euclid(NS_PER_DAY)
}

/// Sunday-start week number: 1970-01-01 was a Thursday, so the week holding it began on
/// Sunday 1969-12-28, four days earlier.
fn week_index(ns: i64) -> i64 {
    (day_index(ns) + 4).div_euclid(7)
}

/// Days since the preceding Sunday (0 = Sunday).
fn days_from_sunday(ns: i64) -> i64 {
    (day_index(ns) + 4).rem_euclid(7)
}

pub fn start_of_day_ns(ns: i64, offset: i64) -> Option<i64> {
    day_index(ns).checked_add(offset)?.checked_mul(NS_PER_DAY)
}

pub fn start_of_week_ns(ns: i64, offset: i64) -> Option<i64> {
    let day = day_index(ns) - days_from_sunday(ns);
    day.checked_add(offset.checked_mul(7)?)?
        .checked_mul(NS_PER_DAY)
}

pub fn start_of_month_ns(ns: i64, offset: i64) -> Option<i64> {
    midnight(first_of_month(
        month_index(&to_naive(ns)).checked_add(offset)?,
    )?)
}

pub fn start_of_year_ns(ns: i64, offset: i64) -> Option<i64> {
    let year = i64::from(to_naive(ns).year()).checked_add(offset)?;
    midnight(NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, 1, 1)?)
}

fn end_of(start: fn(i64, i64) -> Option<i64>, ns: i64, offset: i64) -> Option<i64> {
    start(ns, offset.checked_add(1)?)?.checked_sub(TICK_NS)
}

/// `datetime_diff(part, a, b)`: the number of `part` boundaries crossed from `b` to `a`
/// (Kusto: `datetime_diff('year', 2017-01-01, 2000-12-31) == 17`).
pub fn datetime_diff_ns(part: DatePart, a: i64, b: i64) -> Option<i64> {
    match part {
        DatePart::Year => Some(i64::from(to_naive(a).year()) - i64::from(to_naive(b).year())),
        DatePart::Quarter => {
            let q = |ns| month_index(&to_naive(ns)).div_euclid(3);
            Some(q(a) - q(b))
        }
        DatePart::Month => Some(month_index(&to_naive(a)) - month_index(&to_naive(b))),
        DatePart::Week => Some(week_index(a) - week_index(b)),
        DatePart::Nanosecond => a.checked_sub(b),
        other => {
            let unit = other.fixed_ns()?;
            Some(a.div_euclid(unit) - b.div_euclid(unit))
        }
    }
}

/// `datetime_add(part, amount, dt)`; months and years clamp the day of month.
pub fn datetime_add_ns(part: DatePart, amount: i64, ns: i64) -> Option<i64> {
    match part {
        DatePart::Year => add_months(ns, amount.checked_mul(12)?),
        DatePart::Quarter => add_months(ns, amount.checked_mul(3)?),
        DatePart::Month => add_months(ns, amount),
        other => ns.checked_add(amount.checked_mul(other.fixed_ns()?)?),
    }
}

// ---------------------------------------------------------------------------------------------
// Argument plumbing
// ---------------------------------------------------------------------------------------------

/// The argument as nanosecond timestamps (other units, zones and `Null` are cast).
pub(crate) fn ts_array(
    args: &[ColumnarValue],
    i: usize,
    rows: usize,
) -> Result<TimestampNanosecondArray> {
    let a = arg_array(args, i, rows)?;
    let a = match a.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, _) => a,
        _ => datafusion::arrow::compute::cast(
            &a,
            &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        )?,
    };
    Ok(a.as_primitive::<TimestampNanosecondType>().clone())
}

/// The argument as Int64 (missing → zeros).
fn i64_array(args: &[ColumnarValue], i: usize, rows: usize) -> Result<Int64Array> {
    if args.get(i).is_none() {
        return Ok(Int64Array::from(vec![0i64; rows]));
    }
    let a = arg_array(args, i, rows)?;
    let a = if a.data_type() == &DataType::Int64 {
        a
    } else {
        datafusion::arrow::compute::cast(&a, &DataType::Int64)?
    };
    Ok(a.as_primitive::<Int64Type>().clone())
}

fn utc(out: TimestampNanosecondArray) -> ArrayRef {
    Arc::new(out.with_timezone("UTC"))
}

/// Applies `f(datetime, offset)` row by row.
fn with_offset(
    args: &[ColumnarValue],
    rows: usize,
    f: impl Fn(i64, i64) -> Option<i64>,
) -> Result<ArrayRef> {
    let dt = ts_array(args, 0, rows)?;
    let off = i64_array(args, 1, dt.len())?;
    let out: TimestampNanosecondArray = dt.iter().zip(off.iter()).map(|(t, o)| f(t?, o?)).collect();
    Ok(utc(out))
}

/// Per-row date parts: the scalar parsed once, or a column parsed row by row.
enum Parts {
    One(Option<DatePart>),
    Many(StringArray),
}

impl Parts {
    fn new(args: &[ColumnarValue], i: usize, rows: usize) -> Result<Parts> {
        Ok(match arg_scalar(args, i) {
            Some(s) => Parts::One(scalar_str(s).and_then(DatePart::parse)),
            None => Parts::Many(string_array(args, i, rows)?),
        })
    }
    fn get(&self, row: usize) -> Option<DatePart> {
        match self {
            Parts::One(p) => *p,
            Parts::Many(a) => {
                if a.is_null(row) {
                    None
                } else {
                    DatePart::parse(a.value(row))
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------------

/// `startofday(dt, [offset])`: midnight of the day, plus `offset` days.
pub fn start_of_day(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    with_offset(args, rows, start_of_day_ns)
}

/// `startofweek(dt, [offset])`: the preceding Sunday at midnight, plus `offset` weeks.
pub fn start_of_week(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    with_offset(args, rows, start_of_week_ns)
}

/// `startofmonth(dt, [offset])`.
pub fn start_of_month(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    with_offset(args, rows, start_of_month_ns)
}

/// `startofyear(dt, [offset])`.
pub fn start_of_year(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    with_offset(args, rows, start_of_year_ns)
}

/// `endofday(dt, [offset])`: the last tick (23:59:59.9999999) of the day.
pub fn end_of_day(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    with_offset(args, rows, |t, o| end_of(start_of_day_ns, t, o))
}

/// `endofweek(dt, [offset])`: Saturday 23:59:59.9999999.
pub fn end_of_week(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    with_offset(args, rows, |t, o| end_of(start_of_week_ns, t, o))
}

/// `endofmonth(dt, [offset])`.
pub fn end_of_month(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    with_offset(args, rows, |t, o| end_of(start_of_month_ns, t, o))
}

/// `endofyear(dt, [offset])`.
pub fn end_of_year(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    with_offset(args, rows, |t, o| end_of(start_of_year_ns, t, o))
}

/// `datetime_diff(part: string, dt1, dt2) -> long`.
pub fn datetime_diff(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let parts = Parts::new(args, 0, rows)?;
    let a = ts_array(args, 1, rows)?;
    let b = ts_array(args, 2, a.len())?;
    let out: Int64Array = a
        .iter()
        .zip(b.iter())
        .enumerate()
        .map(|(i, (x, y))| datetime_diff_ns(parts.get(i)?, x?, y?))
        .collect();
    Ok(Arc::new(out))
}

/// `datetime_add(part: string, amount: long, dt) -> datetime`.
pub fn datetime_add(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let parts = Parts::new(args, 0, rows)?;
    let n = i64_array(args, 1, rows)?;
    let dt = ts_array(args, 2, n.len())?;
    let out: TimestampNanosecondArray = n
        .iter()
        .zip(dt.iter())
        .enumerate()
        .map(|(i, (n, t))| datetime_add_ns(parts.get(i)?, n?, t?))
        .collect();
    Ok(utc(out))
}

/// Applies `f` to each datetime into an Int32 column.
fn int_part(
    args: &[ColumnarValue],
    rows: usize,
    f: impl Fn(NaiveDateTime) -> u32,
) -> Result<ArrayRef> {
    let dt = ts_array(args, 0, rows)?;
    let out: Int32Array = dt
        .iter()
        .map(|t| t.and_then(|t| i32::try_from(f(to_naive(t))).ok()))
        .collect();
    Ok(Arc::new(out))
}

/// `dayofweek(dt) -> timespan`: days since the preceding Sunday (`0.00:00:00` = Sunday).
pub fn day_of_week(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let dt = ts_array(args, 0, rows)?;
    let out: DurationNanosecondArray = dt
        .iter()
        .map(|t| t.map(|t| days_from_sunday(t) * NS_PER_DAY))
        .collect();
    Ok(Arc::new(out))
}

/// `hourofday(dt) -> int` (0–23).
pub fn hour_of_day(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    int_part(args, rows, |t| t.hour())
}

/// `getyear(dt) -> int`.
pub fn get_year(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let dt = ts_array(args, 0, rows)?;
    let out: Int32Array = dt.iter().map(|t| t.map(|t| to_naive(t).year())).collect();
    Ok(Arc::new(out))
}

/// `getmonth(dt) -> int` (1–12).
pub fn get_month(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    int_part(args, rows, |t| t.month())
}

/// `dayofmonth(dt) -> int` (1–31).
pub fn day_of_month(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    int_part(args, rows, |t| t.day())
}

/// `dayofyear(dt) -> int` (1–366).
pub fn day_of_year(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    int_part(args, rows, |t| t.ordinal())
}

/// `week_of_year(dt) -> int`: the ISO 8601 week number (weeks start Monday; week 1 holds the
/// year's first Thursday).
pub fn week_of_year(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    int_part(args, rows, |t| t.iso_week().week())
}

// ---------------------------------------------------------------------------------------------
// format_datetime
// ---------------------------------------------------------------------------------------------

/// One element of a parsed `format_datetime` format (.NET custom date format semantics).
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(String),
    /// `d`, `dd`; `ddd`/`dddd` are day names.
    Day(usize),
    /// `f`… (always printed) or `F`… (trailing zeros trimmed; nothing and no `.` before it
    /// when zero).
    Frac(usize, bool),
    Hour12(usize),
    Hour24(usize),
    Minute(usize),
    /// `M`, `MM`; `MMM`/`MMMM` are month names.
    Month(usize),
    Second(usize),
    Year(usize),
    AmPm(usize),
}

/// Parses a format; `None` for an invalid one (more than 7 `f`/`F`).
fn parse_format(fmt: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let lit = |out: &mut Vec<Tok>, c: char| {
        if let Some(Tok::Lit(s)) = out.last_mut() {
            s.push(c);
        } else {
            out.push(Tok::Lit(c.to_string()));
        }
    };
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        let tok = match c {
            'd' => Tok::Day(n),
            'f' | 'F' if n > 7 => return None,
            'f' => Tok::Frac(n, false),
            'F' => Tok::Frac(n, true),
            'h' => Tok::Hour12(n),
            'H' => Tok::Hour24(n),
            'm' => Tok::Minute(n),
            'M' => Tok::Month(n),
            's' => Tok::Second(n),
            'y' => Tok::Year(n),
            't' => Tok::AmPm(n),
            '\'' | '"' => {
                // Quoted literal text.
                let mut j = i + 1;
                while let Some(&q) = chars.get(j) {
                    if q == c {
                        break;
                    }
                    lit(&mut out, q);
                    j += 1;
                }
                i = j + 1;
                continue;
            }
            '\\' => {
                if let Some(&q) = chars.get(i + 1) {
                    lit(&mut out, q);
                }
                i += 2;
                continue;
            }
            other => {
                lit(&mut out, other);
                i += 1;
                continue;
            }
        };
        out.push(tok);
        i += n;
    }
    Some(out)
}

const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn pad(out: &mut String, v: i64, width: usize) {
    use std::fmt::Write as _;
    let _ = write!(out, "{v:0width$}");
}

fn name(out: &mut String, full: &str, n: usize) {
    if n >= 4 {
        out.push_str(full);
    } else {
        out.extend(full.chars().take(3));
    }
}

/// Renders a datetime with a parsed format.
fn render(ns: i64, toks: &[Tok]) -> String {
    let t = to_naive(ns);
    // 100 ns ticks within the second (Kusto's precision).
    let ticks = i64::from(t.nanosecond() % 1_000_000_000) / TICK_NS;
    let mut out = String::new();
    for tok in toks {
        match *tok {
            Tok::Lit(ref s) => out.push_str(s),
            Tok::Day(n) if n >= 3 => {
                let i = usize::try_from(days_from_sunday(ns)).unwrap_or(0);
                name(&mut out, DAY_NAMES.get(i).copied().unwrap_or(""), n);
            }
            Tok::Day(n) => pad(&mut out, i64::from(t.day()), n),
            Tok::Frac(n, trim) => {
                let digits = format!("{ticks:07}");
                let mut d = digits.get(..n).unwrap_or(&digits);
                if trim {
                    d = d.trim_end_matches('0');
                    if d.is_empty() && out.ends_with('.') {
                        out.pop();
                    }
                }
                out.push_str(d);
            }
            Tok::Hour12(n) => {
                let h = t.hour() % 12;
                pad(&mut out, i64::from(if h == 0 { 12 } else { h }), n.min(2));
            }
            Tok::Hour24(n) => pad(&mut out, i64::from(t.hour()), n.min(2)),
            Tok::Minute(n) => pad(&mut out, i64::from(t.minute()), n.min(2)),
            Tok::Second(n) => pad(&mut out, i64::from(t.second()), n.min(2)),
            Tok::Month(n) if n >= 3 => {
                let i = usize::try_from(t.month0()).unwrap_or(0);
                name(&mut out, MONTH_NAMES.get(i).copied().unwrap_or(""), n);
            }
            Tok::Month(n) => pad(&mut out, i64::from(t.month()), n),
            Tok::Year(n) if n <= 2 => pad(&mut out, i64::from(t.year()).rem_euclid(100), n),
            Tok::Year(n) => pad(&mut out, i64::from(t.year()), n),
            Tok::AmPm(n) => {
                let s = if t.hour() < 12 { "AM" } else { "PM" };
                out.push_str(if n == 1 { &s[..1] } else { s });
            }
        }
    }
    out
}

/// `format_datetime(dt, format) -> string` with .NET custom format specifiers (`yyyy-MM-dd
/// [HH:mm:ss.fffffff]`, `tt`, `F…`...); letters that are not specifiers are copied. A null
/// datetime or an invalid format gives `""`.
pub fn format_datetime(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let dt = ts_array(args, 0, rows)?;
    if let Some(s) = arg_scalar(args, 1) {
        let toks = parse_format(scalar_str(s).unwrap_or(""));
        let out: StringArray = dt
            .iter()
            .map(|t| {
                Some(match (t, &toks) {
                    (Some(t), Some(toks)) => render(t, toks),
                    _ => String::new(),
                })
            })
            .collect();
        return Ok(Arc::new(out));
    }
    let fmts = string_array(args, 1, dt.len())?;
    let out: StringArray = dt
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let f = if fmts.is_null(i) { "" } else { fmts.value(i) };
            Some(match (t, parse_format(f)) {
                (Some(t), Some(toks)) => render(t, &toks),
                _ => String::new(),
            })
        })
        .collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::parse_datetime;
    use crate::format::format_datetime as show;
    use datafusion::common::ScalarValue;

    fn dt(s: &str) -> i64 {
        parse_datetime(s).unwrap_or(i64::MIN)
    }

    fn ts(s: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(
            Some(dt(s)),
            Some("UTC".into()),
        ))
    }

    fn text(s: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(s.into())))
    }

    fn long(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }

    fn first_ts(a: &ArrayRef) -> Option<String> {
        let a = a.as_primitive::<TimestampNanosecondType>();
        (!a.is_null(0)).then(|| show(a.value(0)))
    }

    #[test]
    fn part_names_are_case_insensitive() {
        assert_eq!(DatePart::parse("Year"), Some(DatePart::Year));
        assert_eq!(DatePart::parse("MILLISECOND"), Some(DatePart::Millisecond));
        assert_eq!(DatePart::parse("nanosecond"), Some(DatePart::Nanosecond));
        assert_eq!(DatePart::parse("fortnight"), None);
    }

    #[test]
    fn start_and_end_follow_the_docs() {
        let t = dt("2017-01-01 10:10:17");
        let day: Vec<_> = (-1..=1).map(|o| start_of_day_ns(t, o).map(show)).collect();
        assert_eq!(
            day,
            [
                Some("2016-12-31T00:00:00Z".to_string()),
                Some("2017-01-01T00:00:00Z".to_string()),
                Some("2017-01-02T00:00:00Z".to_string())
            ]
        );
        let week: Vec<_> = (-1..=1).map(|o| start_of_week_ns(t, o).map(show)).collect();
        assert_eq!(
            week,
            [
                Some("2016-12-25T00:00:00Z".to_string()),
                Some("2017-01-01T00:00:00Z".to_string()),
                Some("2017-01-08T00:00:00Z".to_string())
            ]
        );
        let ends: Vec<_> = (-1..=1)
            .map(|o| end_of(start_of_day_ns, t, o).map(show))
            .collect();
        assert_eq!(
            ends,
            [
                Some("2016-12-31T23:59:59.9999999Z".to_string()),
                Some("2017-01-01T23:59:59.9999999Z".to_string()),
                Some("2017-01-02T23:59:59.9999999Z".to_string())
            ]
        );
        let wend: Vec<_> = (-1..=1)
            .map(|o| end_of(start_of_week_ns, t, o).map(show))
            .collect();
        assert_eq!(
            wend,
            [
                Some("2016-12-31T23:59:59.9999999Z".to_string()),
                Some("2017-01-07T23:59:59.9999999Z".to_string()),
                Some("2017-01-14T23:59:59.9999999Z".to_string())
            ]
        );
        let yend: Vec<_> = (-1..=1)
            .map(|o| end_of(start_of_year_ns, t, o).map(show))
            .collect();
        assert_eq!(
            yend,
            [
                Some("2016-12-31T23:59:59.9999999Z".to_string()),
                Some("2017-12-31T23:59:59.9999999Z".to_string()),
                Some("2018-12-31T23:59:59.9999999Z".to_string())
            ]
        );
        assert_eq!(
            start_of_month_ns(dt("2017-03-31 10:00"), -1).map(show),
            Some("2017-02-01T00:00:00Z".to_string())
        );
        assert_eq!(
            start_of_month_ns(dt("2017-01-15"), -1).map(show),
            Some("2016-12-01T00:00:00Z".to_string())
        );
        assert_eq!(
            end_of(start_of_month_ns, dt("2016-02-10"), 0).map(show),
            Some("2016-02-29T23:59:59.9999999Z".to_string())
        );
        assert_eq!(
            start_of_year_ns(dt("2017-06-15"), 2).map(show),
            Some("2019-01-01T00:00:00Z".to_string())
        );
        // Pre-epoch values floor downwards.
        assert_eq!(
            start_of_day_ns(dt("1969-12-31 23:00"), 0).map(show),
            Some("1969-12-31T00:00:00Z".to_string())
        );
    }

    #[test]
    fn kernels_run_on_columns_and_scalars() -> Result<()> {
        let col = ColumnarValue::Array(Arc::new(
            TimestampNanosecondArray::from(vec![Some(dt("2017-01-01 10:10:17")), None])
                .with_timezone("UTC"),
        ));
        let offs = ColumnarValue::Array(Arc::new(Int64Array::from(vec![Some(1), Some(1)])));
        let out = start_of_day(&[col, offs], 2)?;
        assert_eq!(first_ts(&out), Some("2017-01-02T00:00:00Z".to_string()));
        assert!(out.is_null(1));
        let out = start_of_week(&[ts("2017-01-01 10:10:17"), long(-1)], 1)?;
        assert_eq!(first_ts(&out), Some("2016-12-25T00:00:00Z".to_string()));
        // A missing offset means 0.
        let out = start_of_month(&[ts("2017-01-15")], 1)?;
        assert_eq!(first_ts(&out), Some("2017-01-01T00:00:00Z".to_string()));
        Ok(())
    }

    #[test]
    fn datetime_diff_follows_the_docs() {
        let d = |p: &str, a: &str, b: &str| {
            datetime_diff_ns(DatePart::parse(p).unwrap_or(DatePart::Day), dt(a), dt(b))
        };
        assert_eq!(d("year", "2017-01-01", "2000-12-31"), Some(17));
        assert_eq!(d("quarter", "2017-07-01", "2017-03-30"), Some(2));
        assert_eq!(d("month", "2017-01-01", "2015-12-30"), Some(13));
        assert_eq!(d("week", "2017-10-29 00:00", "2017-09-30 23:59"), Some(5));
        assert_eq!(d("day", "2017-10-29 00:00", "2017-09-30 23:59"), Some(29));
        assert_eq!(d("hour", "2017-10-31 01:00", "2017-10-30 23:59"), Some(2));
        assert_eq!(
            d("minute", "2017-10-30 23:05:01", "2017-10-30 23:00:59"),
            Some(5)
        );
        assert_eq!(
            d(
                "second",
                "2017-10-30 23:00:10.100",
                "2017-10-30 23:00:00.900"
            ),
            Some(10)
        );
        assert_eq!(
            d(
                "millisecond",
                "2017-10-30 23:00:00.200100",
                "2017-10-30 23:00:00.100900"
            ),
            Some(100)
        );
        assert_eq!(
            d(
                "microsecond",
                "2017-10-30 23:00:00.1009001",
                "2017-10-30 23:00:00.1008009"
            ),
            Some(100)
        );
        assert_eq!(
            d(
                "nanosecond",
                "2017-10-30 23:00:00.0000000",
                "2017-10-30 23:00:00.0000007"
            ),
            Some(-700)
        );
    }

    #[test]
    fn datetime_diff_kernel() -> Result<()> {
        let out = datetime_diff(&[text("Year"), ts("2017-01-01"), ts("2000-12-31")], 1)?;
        assert_eq!(out.as_primitive::<Int64Type>().value(0), 17);
        let out = datetime_diff(&[text("bogus"), ts("2017-01-01"), ts("2000-12-31")], 1)?;
        assert!(out.is_null(0));
        Ok(())
    }

    #[test]
    fn datetime_add_follows_the_docs() {
        let t = dt("2017-01-01");
        let add = |p: &str, n: i64| {
            DatePart::parse(p)
                .and_then(|p| datetime_add_ns(p, n, t))
                .map(show)
                .unwrap_or_default()
        };
        assert_eq!(add("year", 1), "2018-01-01T00:00:00Z");
        assert_eq!(add("quarter", 1), "2017-04-01T00:00:00Z");
        assert_eq!(add("month", 1), "2017-02-01T00:00:00Z");
        assert_eq!(add("week", 1), "2017-01-08T00:00:00Z");
        assert_eq!(add("day", 1), "2017-01-02T00:00:00Z");
        assert_eq!(add("hour", 1), "2017-01-01T01:00:00Z");
        assert_eq!(add("minute", 1), "2017-01-01T00:01:00Z");
        assert_eq!(add("second", 1), "2017-01-01T00:00:01Z");
        assert_eq!(add("year", -5), "2012-01-01T00:00:00Z");
        assert_eq!(add("quarter", 12), "2020-01-01T00:00:00Z");
        assert_eq!(add("month", -15), "2015-10-01T00:00:00Z");
        assert_eq!(add("week", 100), "2018-12-02T00:00:00Z");
        // Month arithmetic clamps the day and keeps the time.
        assert_eq!(
            datetime_add_ns(DatePart::Month, 1, dt("2024-01-31 10:30")).map(show),
            Some("2024-02-29T10:30:00Z".to_string())
        );
        assert_eq!(
            datetime_add_ns(DatePart::Year, 1, dt("2024-02-29")).map(show),
            Some("2025-02-28T00:00:00Z".to_string())
        );
        // Overflow is null, not a panic.
        assert_eq!(datetime_add_ns(DatePart::Year, i64::MAX, t), None);
        assert_eq!(datetime_add_ns(DatePart::Day, 1_000_000, t), None);
    }

    #[test]
    fn datetime_add_kernel() -> Result<()> {
        let out = datetime_add(&[text("month"), long(-15), ts("2017-01-01")], 1)?;
        assert_eq!(first_ts(&out), Some("2015-10-01T00:00:00Z".to_string()));
        Ok(())
    }

    fn fmt(s: &str, f: &str) -> String {
        parse_format(f)
            .map(|t| render(dt(s), &t))
            .unwrap_or_else(|| "<invalid>".into())
    }

    #[test]
    fn format_datetime_follows_the_docs() {
        let t = "2017-01-29 09:00:05";
        assert_eq!(fmt(t, "yy-MM-dd [HH:mm:ss]"), "17-01-29 [09:00:05]");
        assert_eq!(fmt(t, "yyyy-M-dd [H:mm:ss]"), "2017-1-29 [9:00:05]");
        assert_eq!(fmt(t, "yy-MM-dd [hh:mm:ss tt]"), "17-01-29 [09:00:05 AM]");
        assert_eq!(
            fmt("2015-12-14 02:03:04.12345", "y-M-d h:m:s.fffffff"),
            "15-12-14 2:3:4.1234500"
        );
        assert_eq!(fmt("2015-12-14 14:03:04.12", "h tt t"), "2 PM P");
        assert_eq!(fmt("2015-12-14 00:03:04.12", "hh"), "12");
        assert_eq!(fmt("2015-12-14 02:03:04.12", "ss.FFFF"), "04.12");
        assert_eq!(fmt("2015-12-14 02:03:04", "ss.FFFF"), "04");
        assert_eq!(fmt("2015-12-14 02:03:04", "ss.fff"), "04.000");
        assert_eq!(
            fmt("2015-12-14", "yyyy-MM-ddTHH:mm:ss"),
            "2015-12-14T00:00:00"
        );
        assert_eq!(fmt("2015-12-14", "ddd, dd MMM yyyy"), "Mon, 14 Dec 2015");
        assert_eq!(fmt("2015-12-14", "dddd MMMM"), "Monday December");
        assert_eq!(fmt("2015-12-14", "'d'd"), "d14");
        assert_eq!(fmt("2015-12-14", "ffffffff"), "<invalid>");
    }

    #[test]
    fn format_datetime_kernel() -> Result<()> {
        let out = format_datetime(
            &[ts("2017-01-29 09:00:05"), text("yy-MM-dd [hh:mm:ss tt]")],
            1,
        )?;
        assert_eq!(out.as_string::<i32>().value(0), "17-01-29 [09:00:05 AM]");
        let null_dt = ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(None, None));
        let out = format_datetime(&[null_dt, text("yyyy")], 1)?;
        assert_eq!(out.as_string::<i32>().value(0), "");
        Ok(())
    }

    #[test]
    fn parts_follow_the_docs() -> Result<()> {
        // dayofweek(datetime(1947-11-30 10:00:05)) == 0d (a Sunday); 1970-05-11 → 1d;
        // 1970-5-12 → 2d.
        for (s, d) in [
            ("1947-11-30 10:00:05", 0),
            ("1970-05-11", 1),
            ("1970-5-12", 2),
        ] {
            let out = day_of_week(&[ts(s)], 1)?;
            assert_eq!(
                out.as_primitive::<datafusion::arrow::datatypes::DurationNanosecondType>()
                    .value(0),
                d * NS_PER_DAY
            );
        }
        let int = |k: super::super::udf::Kernel, s: &str| -> Result<i32> {
            Ok(k(&[ts(s)], 1)?
                .as_primitive::<datafusion::arrow::datatypes::Int32Type>()
                .value(0))
        };
        assert_eq!(int(get_year, "2015-10-12")?, 2015);
        assert_eq!(int(hour_of_day, "2015-12-14 18:54")?, 18);
        assert_eq!(int(get_month, "2015-10-12")?, 10);
        assert_eq!(int(day_of_month, "2015-10-12")?, 12);
        assert_eq!(int(day_of_year, "2015-02-01")?, 32);
        // ISO week: 2015-12-31 is in week 53 of 2015.
        assert_eq!(int(week_of_year, "2015-12-31")?, 53);
        assert_eq!(int(get_year, "1969-12-31 23:59:59")?, 1969);
        Ok(())
    }
}
