//! Datetime and timespan functions: `make_datetime`, `make_timespan`,
//! `unixtime_*_todatetime`, `datetime_part`, `format_timespan`, `monthofyear`, `around`,
//! `bin_at`.
//!
//! Datetimes are `Timestamp(ns, "UTC")` and timespans `Duration(ns)`; a result outside the
//! nanosecond range, or any null input, gives null.

use super::fnargs::{batch_len, f64s, i64s, str_at, string_result, strs};
use super::registry::{Simple, ret};
use super::udf::{arg_array, arg_scalar, scalar_str};
use chrono::{DateTime, Datelike, NaiveDate, Timelike};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DurationNanosecondArray, Float64Array, Int32Array,
    Int64Array, TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, TimeUnit, TimestampNanosecondType,
};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ColumnarValue;
use std::sync::Arc;

const NS_PER_SEC: i64 = 1_000_000_000;
const TICK: i64 = 100;

pub const FUNCTIONS: &[Simple] = &[
    Simple {
        name: "make_datetime",
        args: (3, 6),
        ret: ret::datetime,
        kernel: make_datetime,
    },
    Simple {
        name: "make_timespan",
        args: (2, 4),
        ret: ret::timespan,
        kernel: make_timespan,
    },
    Simple {
        name: "unixtime_seconds_todatetime",
        args: (1, 1),
        ret: ret::datetime,
        kernel: unixtime_seconds_todatetime,
    },
    Simple {
        name: "unixtime_milliseconds_todatetime",
        args: (1, 1),
        ret: ret::datetime,
        kernel: unixtime_milliseconds_todatetime,
    },
    Simple {
        name: "unixtime_microseconds_todatetime",
        args: (1, 1),
        ret: ret::datetime,
        kernel: unixtime_microseconds_todatetime,
    },
    Simple {
        name: "unixtime_nanoseconds_todatetime",
        args: (1, 1),
        ret: ret::datetime,
        kernel: unixtime_nanoseconds_todatetime,
    },
    Simple {
        name: "datetime_part",
        args: (2, 2),
        ret: ret::int,
        kernel: datetime_part,
    },
    Simple {
        name: "datepart",
        args: (2, 2),
        ret: ret::int,
        kernel: datetime_part,
    },
    Simple {
        name: "format_timespan",
        args: (2, 2),
        ret: ret::string,
        kernel: format_timespan,
    },
    Simple {
        name: "monthofyear",
        args: (1, 1),
        ret: ret::int,
        kernel: monthofyear,
    },
    Simple {
        name: "around",
        args: (3, 3),
        ret: ret::bool,
        kernel: around,
    },
    Simple {
        name: "bin_at",
        args: (3, 3),
        ret: ret::first,
        kernel: bin_at,
    },
];

fn utc(a: TimestampNanosecondArray) -> ArrayRef {
    Arc::new(a.with_timezone("UTC"))
}

fn ts_array(args: &[ColumnarValue], i: usize, n: usize) -> Result<TimestampNanosecondArray> {
    let a = arg_array(args, i, n)?;
    let a = match a.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, _) => a,
        _ => datafusion::arrow::compute::cast(
            &a,
            &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        )?,
    };
    Ok(a.as_primitive::<TimestampNanosecondType>().clone())
}

/// Seconds (a real) → nanoseconds rounded to a 100 ns tick.
fn secs_to_ns(s: f64) -> Option<i64> {
    let ticks = (s * 1e7).round();
    if !ticks.is_finite() || ticks.abs() >= 9.2e16 {
        return None;
    }
    (ticks as i64).checked_mul(TICK)
}

/// `make_datetime(year, month, day [, hour, minute [, second]])`: null when invalid.
pub fn make_datetime(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let parts = (0..5)
        .map(|i| i64s(args, i, n))
        .collect::<Result<Vec<_>>>()?;
    let secs = f64s(args, 5, n)?;
    let out: TimestampNanosecondArray = (0..n)
        .map(|i| {
            let get = |k: usize| -> Option<i64> {
                let a = parts.get(k)?;
                if k >= args.len() {
                    return Some(0);
                }
                (!a.is_null(i)).then(|| a.value(i))
            };
            let (y, mo, d) = (get(0)?, get(1)?, get(2)?);
            let (h, mi) = (get(3)?, get(4)?);
            let s = if args.len() > 5 {
                if secs.is_null(i) {
                    return None;
                }
                secs.value(i)
            } else {
                0.0
            };
            if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0.0..60.0).contains(&s) {
                return None;
            }
            let date = NaiveDate::from_ymd_opt(
                i32::try_from(y).ok()?,
                u32::try_from(mo).ok()?,
                u32::try_from(d).ok()?,
            )?;
            let midnight = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt()?;
            midnight
                .checked_add(h * 3_600 * NS_PER_SEC)?
                .checked_add(mi * 60 * NS_PER_SEC)?
                .checked_add(secs_to_ns(s)?)
        })
        .collect();
    Ok(utc(out))
}

/// `make_timespan(hours, minutes)`, `(hours, minutes, seconds)` or
/// `(days, hours, minutes, seconds)`; seconds may be fractional.
pub fn make_timespan(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let cols = (0..args.len())
        .map(|i| f64s(args, i, n))
        .collect::<Result<Vec<_>>>()?;
    // Seconds per unit of each argument position.
    let units: &[f64] = match args.len() {
        2 => &[3600.0, 60.0],
        3 => &[3600.0, 60.0, 1.0],
        _ => &[86400.0, 3600.0, 60.0, 1.0],
    };
    let out: DurationNanosecondArray = (0..n)
        .map(|i| {
            let mut total = 0.0;
            for (c, u) in cols.iter().zip(units) {
                if c.is_null(i) {
                    return None;
                }
                total += c.value(i) * u;
            }
            secs_to_ns(total)
        })
        .collect();
    Ok(Arc::new(out))
}

/// Unix time in `unit_ns` nanosecond units → datetime (reals allowed; rounded to ticks).
fn unixtime(args: &[ColumnarValue], rows: usize, unit_ns: i64) -> Result<ArrayRef> {
    let a = arg_array(args, 0, rows)?;
    let out: TimestampNanosecondArray = if matches!(a.data_type(), DataType::Float64) {
        let f = f64s(args, 0, rows)?;
        f.iter()
            .map(|v| {
                let ticks = (v? * unit_ns as f64 / TICK as f64).round();
                if !ticks.is_finite() || ticks.abs() >= 9.2e16 {
                    return None;
                }
                (ticks as i64).checked_mul(TICK)
            })
            .collect()
    } else {
        let l = i64s(args, 0, rows)?;
        l.iter().map(|v| v?.checked_mul(unit_ns)).collect()
    };
    Ok(utc(out))
}

/// `unixtime_seconds_todatetime(seconds)`.
pub fn unixtime_seconds_todatetime(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    unixtime(args, rows, NS_PER_SEC)
}

/// `unixtime_milliseconds_todatetime(ms)`.
pub fn unixtime_milliseconds_todatetime(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    unixtime(args, rows, 1_000_000)
}

/// `unixtime_microseconds_todatetime(us)`.
pub fn unixtime_microseconds_todatetime(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    unixtime(args, rows, 1_000)
}

/// `unixtime_nanoseconds_todatetime(ns)`.
pub fn unixtime_nanoseconds_todatetime(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    unixtime(args, rows, 1)
}

#[derive(Clone, Copy)]
enum Part {
    Year,
    Quarter,
    Month,
    WeekOfYear,
    Day,
    DayOfYear,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
}

fn part_of(name: &str) -> Option<Part> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "year" => Part::Year,
        "quarter" => Part::Quarter,
        "month" => Part::Month,
        "week_of_year" | "weekofyear" | "week" => Part::WeekOfYear,
        "day" => Part::Day,
        "dayofyear" => Part::DayOfYear,
        "hour" => Part::Hour,
        "minute" => Part::Minute,
        "second" => Part::Second,
        "millisecond" => Part::Millisecond,
        "microsecond" => Part::Microsecond,
        "nanosecond" => Part::Nanosecond,
        _ => return None,
    })
}

fn part_value(p: Part, ns: i64) -> Option<i32> {
    let t = DateTime::from_timestamp_nanos(ns).naive_utc();
    let sub = i32::try_from(ns.rem_euclid(NS_PER_SEC)).ok()?;
    Some(match p {
        Part::Year => t.year(),
        Part::Quarter => i32::try_from(t.month0() / 3 + 1).ok()?,
        Part::Month => i32::try_from(t.month()).ok()?,
        Part::WeekOfYear => i32::try_from(t.iso_week().week()).ok()?,
        Part::Day => i32::try_from(t.day()).ok()?,
        Part::DayOfYear => i32::try_from(t.ordinal()).ok()?,
        Part::Hour => i32::try_from(t.hour()).ok()?,
        Part::Minute => i32::try_from(t.minute()).ok()?,
        Part::Second => i32::try_from(t.second()).ok()?,
        Part::Millisecond => sub / 1_000_000,
        Part::Microsecond => sub / 1_000,
        // Kusto datetimes have 100 ns ticks.
        Part::Nanosecond => sub / 100 * 100,
    })
}

/// `datetime_part(part, datetime)`: Year, Quarter, Month, week_of_year (ISO 8601), Day,
/// DayOfYear, Hour, Minute, Second, Millisecond, Microsecond, Nanosecond (case-insensitive).
pub fn datetime_part(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    if let Some(s) = arg_scalar(args, 0)
        && part_of(scalar_str(s).unwrap_or("")).is_none()
    {
        return exec_err!(
            "datetime_part: unknown part '{}'",
            scalar_str(s).unwrap_or("")
        );
    }
    let parts = strs(args, 0, n)?;
    let t = ts_array(args, 1, n)?;
    let out: Int32Array = (0..n)
        .map(|i| {
            let p = part_of(str_at(&parts, i))?;
            if t.is_null(i) {
                return None;
            }
            part_value(p, t.value(i))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `monthofyear(datetime)`: 1–12.
pub fn monthofyear(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let t = ts_array(args, 0, rows)?;
    let out: Int32Array = t.iter().map(|v| part_value(Part::Month, v?)).collect();
    Ok(Arc::new(out))
}

/// A `format_timespan` element.
enum Tok {
    Days(usize),
    Hours(usize),
    Minutes(usize),
    Seconds(usize),
    Fraction(usize, bool),
    Lit(String),
}

fn timespan_format(fmt: &str) -> Vec<Tok> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut j = i;
        while j < chars.len() && chars[j] == c {
            j += 1;
        }
        let run = j - i;
        match c {
            'd' => toks.push(Tok::Days(run)),
            'h' | 'H' => toks.push(Tok::Hours(run)),
            'm' => toks.push(Tok::Minutes(run)),
            's' => toks.push(Tok::Seconds(run)),
            'f' => toks.push(Tok::Fraction(run.min(7), false)),
            'F' => toks.push(Tok::Fraction(run.min(7), true)),
            '\'' | '"' => {
                // A quoted literal.
                let close = chars[i + 1..].iter().position(|x| *x == c);
                let end = close.map_or(chars.len(), |k| i + 1 + k);
                toks.push(Tok::Lit(chars[i + 1..end].iter().collect()));
                i = (end + 1).min(chars.len());
                continue;
            }
            '\\' => {
                if let Some(x) = chars.get(i + 1) {
                    toks.push(Tok::Lit(x.to_string()));
                }
                i += 2;
                continue;
            }
            _ => {
                toks.push(Tok::Lit(chars[i..j].iter().collect()));
            }
        }
        i = j;
    }
    toks
}

fn render_timespan(ns: i64, toks: &[Tok]) -> String {
    let total = (i128::from(ns) / i128::from(TICK)).unsigned_abs();
    let ticks_per_sec = 10_000_000u128;
    let frac = total % ticks_per_sec;
    let secs = total / ticks_per_sec;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    let pad = |out: &mut String, v: u128, w: usize| out.push_str(&format!("{v:0w$}"));
    for t in toks {
        match t {
            Tok::Days(w) => pad(&mut out, d, *w),
            Tok::Hours(w) => pad(&mut out, h, (*w).min(2)),
            Tok::Minutes(w) => pad(&mut out, m, (*w).min(2)),
            Tok::Seconds(w) => pad(&mut out, s, (*w).min(2)),
            Tok::Fraction(k, trim) => {
                let digits = format!("{frac:07}");
                let part = &digits[..*k];
                if *trim {
                    out.push_str(part.trim_end_matches('0'));
                } else {
                    out.push_str(part);
                }
            }
            Tok::Lit(l) => out.push_str(l),
        }
    }
    out
}

/// `format_timespan(timespan, format)`: `d`..`dddddddd` days, `h`/`hh`/`H`/`HH` hours,
/// `m`/`mm`, `s`/`ss`, `f`..`fffffff` fraction digits, `F`..`FFFFFFF` the same without
/// trailing zeros; other characters are copied.
pub fn format_timespan(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let a = arg_array(args, 0, n)?;
    let a = match a.data_type() {
        DataType::Duration(TimeUnit::Nanosecond) => a,
        _ => datafusion::arrow::compute::cast(&a, &DataType::Duration(TimeUnit::Nanosecond))?,
    };
    let spans = a.as_primitive::<DurationNanosecondType>();
    let fmts = strs(args, 1, n)?;
    let constant = arg_scalar(args, 1).map(|s| timespan_format(scalar_str(s).unwrap_or("")));
    Ok(string_result((0..n).map(|i| {
        if spans.is_null(i) {
            return None;
        }
        let v = spans.value(i);
        Some(match &constant {
            Some(t) => render_timespan(v, t),
            None => render_timespan(v, &timespan_format(str_at(&fmts, i))),
        })
    })))
}

/// A numeric, datetime or timespan argument as an exact i128 (ns) or f64.
enum Num {
    Exact(Vec<Option<i128>>),
    Real(Vec<Option<f64>>),
}

fn num_arg(args: &[ColumnarValue], i: usize, n: usize) -> Result<Num> {
    let a = arg_array(args, i, n)?;
    Ok(match a.data_type() {
        DataType::Timestamp(..) | DataType::Duration(_) | DataType::Int64 | DataType::Int32 => {
            Num::Exact(
                i64s(args, i, n)?
                    .iter()
                    .map(|v| v.map(i128::from))
                    .collect(),
            )
        }
        _ => Num::Real(f64s(args, i, n)?.iter().collect()),
    })
}

fn reals(x: &Num) -> Vec<Option<f64>> {
    match x {
        Num::Exact(v) => v.iter().map(|x| x.map(|x| x as f64)).collect(),
        Num::Real(v) => v.clone(),
    }
}

/// `around(value, center, delta)`: whether value is within [center - delta, center + delta].
pub fn around(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let (v, c, d) = (
        num_arg(args, 0, n)?,
        num_arg(args, 1, n)?,
        num_arg(args, 2, n)?,
    );
    let out: BooleanArray = match (&v, &c, &d) {
        (Num::Exact(v), Num::Exact(c), Num::Exact(d)) => (0..n)
            .map(|i| {
                let (v, c, d) = (v[i]?, c[i]?, d[i]?);
                Some(c - d <= v && v <= c + d)
            })
            .collect(),
        _ => {
            let (v, c, d) = (reals(&v), reals(&c), reals(&d));
            (0..n)
                .map(|i| {
                    let (v, c, d) = (v[i]?, c[i]?, d[i]?);
                    Some(c - d <= v && v <= c + d)
                })
                .collect()
        }
    };
    Ok(Arc::new(out))
}

/// `bin_at(value, bin_size, fixed_point)`: `fixed_point + floor((value - fixed_point) /
/// bin_size) * bin_size`, in the value's type (datetime, timespan or number).
pub fn bin_at(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let dt = arg_array(args, 0, n)?.data_type().clone();
    let (v, s, f) = (
        num_arg(args, 0, n)?,
        num_arg(args, 1, n)?,
        num_arg(args, 2, n)?,
    );
    let exact: Option<Vec<Option<i128>>> = match (&v, &s, &f) {
        (Num::Exact(v), Num::Exact(s), Num::Exact(f)) => Some(
            (0..n)
                .map(|i| {
                    let (v, s, f) = (v[i]?, s[i]?, f[i]?);
                    if s <= 0 {
                        return None;
                    }
                    Some(f + (v - f).div_euclid(s) * s)
                })
                .collect(),
        ),
        _ => None,
    };
    let as_i64 = |x: Option<i128>| x.and_then(|x| i64::try_from(x).ok());
    let real = || -> Vec<Option<f64>> {
        let (v, s, f) = (reals(&v), reals(&s), reals(&f));
        (0..n)
            .map(|i| {
                let (v, s, f) = (v[i]?, s[i]?, f[i]?);
                if s <= 0.0 {
                    return None;
                }
                Some(f + ((v - f) / s).floor() * s)
            })
            .collect()
    };
    let ints = || -> Vec<Option<i64>> {
        match &exact {
            Some(e) => e.iter().map(|x| as_i64(*x)).collect(),
            None => real()
                .into_iter()
                .map(|x| x.and_then(super::fnargs::f64_to_i64))
                .collect(),
        }
    };
    Ok(match dt {
        DataType::Timestamp(..) => utc(ints().into_iter().collect::<TimestampNanosecondArray>()),
        DataType::Duration(_) => Arc::new(ints().into_iter().collect::<DurationNanosecondArray>()),
        DataType::Int64 => Arc::new(ints().into_iter().collect::<Int64Array>()),
        DataType::Int32 => Arc::new(
            ints()
                .into_iter()
                .map(|x| x.and_then(|x| i32::try_from(x).ok()))
                .collect::<Int32Array>(),
        ),
        _ => Arc::new(real().into_iter().collect::<Float64Array>()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Int32Type, Int64Type};
    use datafusion::common::ScalarValue;

    fn l(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }
    fn r(v: f64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Float64(Some(v)))
    }
    fn s(v: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(v.into())))
    }
    fn dt(text: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(
            crate::datetime::parse_datetime(text),
            Some("UTC".into()),
        ))
    }
    fn ts(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::DurationNanosecond(Some(v)))
    }
    type K = fn(&[ColumnarValue], usize) -> Result<ArrayRef>;
    fn when(f: K, args: &[ColumnarValue]) -> String {
        let out = f(args, 1).unwrap();
        let a = out.as_primitive::<TimestampNanosecondType>();
        if a.is_null(0) {
            "null".into()
        } else {
            crate::format::format_datetime(a.value(0))
        }
    }
    fn span(f: K, args: &[ColumnarValue]) -> String {
        let out = f(args, 1).unwrap();
        let a = out.as_primitive::<DurationNanosecondType>();
        crate::format::format_timespan(a.value(0))
    }
    const H: i64 = 3_600_000_000_000;

    #[test]
    fn make_datetime_docs() {
        assert_eq!(
            when(make_datetime, &[l(2017), l(10), l(1)]),
            "2017-10-01T00:00:00Z"
        );
        assert_eq!(
            when(make_datetime, &[l(2017), l(10), l(1), l(12), l(10)]),
            "2017-10-01T12:10:00Z"
        );
        assert_eq!(
            when(
                make_datetime,
                &[l(2017), l(10), l(1), l(12), l(11), r(0.1234567)]
            ),
            "2017-10-01T12:11:00.1234567Z"
        );
        assert_eq!(when(make_datetime, &[l(2017), l(13), l(1)]), "null");
        assert_eq!(when(make_datetime, &[l(2017), l(2), l(30)]), "null");
    }

    #[test]
    fn make_timespan_docs() {
        assert_eq!(
            span(make_timespan, &[l(1), l(12), l(30), r(55.123)]),
            "1.12:30:55.1230000"
        );
        assert_eq!(span(make_timespan, &[l(12), l(30)]), "12:30:00");
        assert_eq!(span(make_timespan, &[l(12), l(30), l(15)]), "12:30:15");
    }

    #[test]
    fn unixtime_docs() {
        assert_eq!(
            when(unixtime_seconds_todatetime, &[l(1546300800)]),
            "2019-01-01T00:00:00Z"
        );
        assert_eq!(
            when(unixtime_milliseconds_todatetime, &[l(1546300800123)]),
            "2019-01-01T00:00:00.1230000Z"
        );
        assert_eq!(
            when(unixtime_microseconds_todatetime, &[l(1546300800000000)]),
            "2019-01-01T00:00:00Z"
        );
        assert_eq!(
            when(unixtime_nanoseconds_todatetime, &[l(1546300800000000000)]),
            "2019-01-01T00:00:00Z"
        );
        assert_eq!(
            when(unixtime_seconds_todatetime, &[r(1546300800.5)]),
            "2019-01-01T00:00:00.5000000Z"
        );
        assert_eq!(when(unixtime_seconds_todatetime, &[l(i64::MAX)]), "null");
    }

    #[test]
    fn datetime_part_docs() {
        let d = || dt("2017-10-30 01:02:03.7654321");
        let part = |p: &str| {
            datetime_part(&[s(p), d()], 1)
                .unwrap()
                .as_primitive::<Int32Type>()
                .value(0)
        };
        assert_eq!(part("year"), 2017);
        assert_eq!(part("quarter"), 4);
        assert_eq!(part("month"), 10);
        assert_eq!(part("week_of_year"), 44);
        assert_eq!(part("day"), 30);
        assert_eq!(part("dayOfYear"), 303);
        assert_eq!(part("hour"), 1);
        assert_eq!(part("minute"), 2);
        assert_eq!(part("second"), 3);
        assert_eq!(part("millisecond"), 765);
        assert_eq!(part("microsecond"), 765432);
        assert_eq!(part("nanosecond"), 765432100);
        assert!(datetime_part(&[s("fortnight"), d()], 1).is_err());
        let m = monthofyear(&[dt("2015-12-14")], 1).unwrap();
        assert_eq!(m.as_primitive::<Int32Type>().value(0), 12);
    }

    #[test]
    fn format_timespan_docs() {
        let t = || ts(29 * 24 * H + 9 * H + 5_123_450_000);
        let f = |fmt: &str| {
            format_timespan(&[t(), s(fmt)], 1)
                .unwrap()
                .as_string::<i32>()
                .value(0)
                .to_string()
        };
        assert_eq!(f("dd.hh:mm:ss:FF"), "29.09:00:05:12");
        assert_eq!(f("ddd.h:mm:ss [fffffff]"), "029.9:00:05 [1234500]");
        assert_eq!(f("FFFFFFF"), "12345");
    }

    #[test]
    fn around_and_bin_at() {
        let b = |args: &[ColumnarValue]| around(args, 1).unwrap().as_boolean().value(0);
        let minute = 60_000_000_000;
        assert!(b(&[
            dt("2021-01-01 01:29"),
            dt("2021-01-01 01:30"),
            ts(minute)
        ]));
        assert!(!b(&[
            dt("2021-01-01 01:28"),
            dt("2021-01-01 01:30"),
            ts(minute)
        ]));
        assert!(b(&[r(1.5), l(1), r(0.5)]));
        assert_eq!(span(bin_at, &[ts(H), ts(24 * H), ts(12 * H)]), "-12:00:00");
        assert_eq!(
            when(
                bin_at,
                &[dt("2017-05-17 10:20:00"), ts(7 * 24 * H), dt("2017-06-04")]
            ),
            "2017-05-14T00:00:00Z"
        );
        assert_eq!(
            when(
                bin_at,
                &[
                    dt("2018-02-23T16:14"),
                    ts(24 * H),
                    dt("2018-02-24 15:14:00")
                ]
            ),
            "2018-02-23T15:14:00Z"
        );
        let v = bin_at(&[r(6.5), r(2.5), l(7)], 1).unwrap();
        assert_eq!(
            v.as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .value(0),
            4.5
        );
        let v = bin_at(&[l(6), l(4), l(1)], 1).unwrap();
        assert_eq!(v.as_primitive::<Int64Type>().value(0), 5);
    }
}
