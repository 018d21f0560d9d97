//! `bin(value, roundTo)` / `floor(value, roundTo)`: round down to a multiple of `roundTo`.
//!
//! Datetimes are binned on Kusto's own clock — 100 ns ticks counted from 0001-01-01 — so that
//! bins that do not divide a day (e.g. `7d`) land where Kusto puts them (weeks start on Monday,
//! because 0001-01-01 was a Monday). Bins that divide a day give the same result as flooring
//! on the Unix epoch. A null value, or a `roundTo` that is null, zero or negative, gives null.

use super::udf::{arg_array, arg_scalar};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, DurationNanosecondArray, Float64Array, Int64Array,
    TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, Float64Type, Int64Type, TimeUnit, TimestampNanosecondType,
};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ColumnarValue;
use std::sync::Arc;

/// Ticks (100 ns) from 0001-01-01 to 1970-01-01.
pub const EPOCH_TICKS: i128 = 621_355_968_000_000_000;

fn floor_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// Floors a datetime in ns since the epoch to a multiple of `span_ns` on Kusto's tick clock.
pub fn bin_datetime_ns(ns: i64, span_ns: i64) -> Option<i64> {
    if span_ns <= 0 {
        return None;
    }
    // Work in ns from 0001-01-01 to keep sub-tick spans exact.
    let from_origin = ns as i128 + EPOCH_TICKS * 100;
    let floored = floor_div(from_origin, span_ns as i128) * span_ns as i128;
    i64::try_from(floored - EPOCH_TICKS * 100).ok()
}

pub fn bin_i64(v: i64, r: i64) -> Option<i64> {
    if r <= 0 {
        return None;
    }
    i64::try_from(floor_div(v as i128, r as i128) * r as i128).ok()
}

pub fn bin_f64(v: f64, r: f64) -> Option<f64> {
    if r.is_nan() || r <= 0.0 {
        return None;
    }
    Some((v / r).floor() * r)
}

/// A scalar span argument in nanoseconds (timespan) or as a number.
fn span_of(s: &ScalarValue) -> Option<f64> {
    match s {
        ScalarValue::DurationNanosecond(v) => v.map(|v| v as f64),
        ScalarValue::Int64(v) => v.map(|v| v as f64),
        ScalarValue::Int32(v) => v.map(|v| v as f64),
        ScalarValue::Float64(v) => *v,
        _ => None,
    }
}

fn span_array(args: &[ColumnarValue], rows: usize) -> Result<Vec<Option<f64>>> {
    if let Some(s) = arg_scalar(args, 1) {
        return Ok(vec![span_of(s); rows]);
    }
    let a = arg_array(args, 1, rows)?;
    let a = datafusion::arrow::compute::cast(
        &a,
        &match a.data_type() {
            DataType::Duration(_) => DataType::Duration(TimeUnit::Nanosecond),
            _ => DataType::Float64,
        },
    )?;
    Ok(match a.data_type() {
        DataType::Duration(_) => a
            .as_primitive::<DurationNanosecondType>()
            .iter()
            .map(|v| v.map(|v| v as f64))
            .collect(),
        _ => a.as_primitive::<Float64Type>().iter().collect(),
    })
}

/// The kernel. Value types: datetime (ns, UTC), timespan (ns), long, real; int values are
/// widened to long by the planner before the call.
pub fn bin(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let values = arg_array(args, 0, rows)?;
    let spans = span_array(args, values.len())?;
    Ok(match values.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, tz) => {
            let v = values.as_primitive::<TimestampNanosecondType>();
            let out: TimestampNanosecondArray = v
                .iter()
                .zip(&spans)
                .map(|(x, s)| x.zip(*s).and_then(|(x, s)| bin_datetime_ns(x, s as i64)))
                .collect();
            Arc::new(out.with_timezone_opt(tz.clone()))
        }
        DataType::Duration(TimeUnit::Nanosecond) => {
            let v = values.as_primitive::<DurationNanosecondType>();
            let out: DurationNanosecondArray = v
                .iter()
                .zip(&spans)
                .map(|(x, s)| x.zip(*s).and_then(|(x, s)| bin_i64(x, s as i64)))
                .collect();
            Arc::new(out)
        }
        DataType::Int64 => {
            let v = values.as_primitive::<Int64Type>();
            let out: Int64Array = v
                .iter()
                .zip(&spans)
                .map(|(x, s)| {
                    x.zip(*s).and_then(|(x, s)| {
                        if s.fract() == 0.0 {
                            bin_i64(x, s as i64)
                        } else {
                            bin_f64(x as f64, s).map(|f| f as i64)
                        }
                    })
                })
                .collect();
            Arc::new(out)
        }
        DataType::Float64 => {
            let v = values.as_primitive::<Float64Type>();
            let out: Float64Array = v
                .iter()
                .zip(&spans)
                .map(|(x, s)| x.zip(*s).and_then(|(x, s)| bin_f64(x, s)))
                .collect();
            Arc::new(out)
        }
        DataType::Null => values.clone(),
        other => return exec_err!("bin(): unsupported value type {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000_000;
    const D: i64 = 24 * H;

    #[test]
    fn hour_bins_floor_on_the_epoch() {
        // 2024-03-01T10:59:59.9999999Z → 10:00.
        let t = 1_709_290_799_999_999_900;
        assert_eq!(bin_datetime_ns(t, H), Some(1_709_287_200_000_000_000));
    }

    #[test]
    fn week_bins_start_on_monday() {
        // 1970-01-01 was a Thursday; the week bin holding it starts Monday 1969-12-29.
        assert_eq!(bin_datetime_ns(0, 7 * D), Some(-3 * D));
    }

    #[test]
    fn pre_epoch_values_floor_downwards() {
        assert_eq!(bin_datetime_ns(-1, H), Some(-H));
        assert_eq!(bin_i64(-1, 5), Some(-5));
        assert_eq!(bin_f64(-0.5, 1.0), Some(-1.0));
    }

    #[test]
    fn non_positive_spans_give_null() {
        assert_eq!(bin_i64(7, 0), None);
        assert_eq!(bin_datetime_ns(7, -1), None);
    }

    #[test]
    fn numbers_follow_the_docs() {
        // Microsoft's bin() examples: bin(4.5, 1) == 4, bin(10, 1) == 10.
        assert_eq!(bin_f64(4.5, 1.0), Some(4.0));
        assert_eq!(bin_i64(10, 1), Some(10));
        assert_eq!(bin_f64(16.5, 0.5), Some(16.5));
    }
}
