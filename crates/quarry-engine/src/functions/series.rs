//! Kernels behind `make-series`: the series arrays (values per bin, absent bins filled with
//! the default) and the axis array (each bin's start).
//!
//! Bounds and step arrive as Int64 nanoseconds for datetime / timespan axes and as Float64
//! for numeric ones; the `kind` argument says which (see [`AxisKind`]).

use super::dynamic::{parse_dynamic, write_json};
use super::udf::{arg_array, string_array};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, exec_err};
use serde_json::Value;
use std::sync::Arc;

/// At most this many bins per series (Kusto limits series length too).
pub const MAX_BINS: i64 = 1_000_000;

/// How the axis values are held and shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AxisKind {
    DateTime = 1,
    TimeSpan = 2,
    Long = 3,
    Real = 4,
}

impl AxisKind {
    fn from_code(c: i64) -> AxisKind {
        match c {
            1 => AxisKind::DateTime,
            2 => AxisKind::TimeSpan,
            3 => AxisKind::Long,
            _ => AxisKind::Real,
        }
    }
}

/// (start, step, number of bins) of one row, or None when a bound is null.
fn bins(args: &[datafusion::logical_expr::ColumnarValue], rows: usize) -> Result<BinRows> {
    let mut out = Vec::with_capacity(rows);
    let a: Vec<ArrayRef> = (0..3)
        .map(|i| arg_array(args, i, rows))
        .collect::<Result<_>>()?;
    for r in 0..rows {
        if a.iter().any(|x| x.is_null(r)) {
            out.push(None);
            continue;
        }
        let v = |x: &ArrayRef| -> f64 {
            match x.data_type() {
                DataType::Int64 => x.as_primitive::<Int64Type>().value(r) as f64,
                DataType::Float64 => x.as_primitive::<Float64Type>().value(r),
                _ => f64::NAN,
            }
        };
        let iv = |x: &ArrayRef| -> i64 {
            match x.data_type() {
                DataType::Int64 => x.as_primitive::<Int64Type>().value(r),
                DataType::Float64 => x.as_primitive::<Float64Type>().value(r) as i64,
                _ => 0,
            }
        };
        let (start, end, step) = (v(&a[0]), v(&a[1]), v(&a[2]));
        if step.is_nan() || step <= 0.0 || !start.is_finite() || !end.is_finite() {
            return exec_err!("make-series: the step must be positive and the range finite");
        }
        let n = ((end - start) / step).ceil().max(0.0);
        if n > MAX_BINS as f64 {
            return exec_err!("make-series: more than {MAX_BINS} bins; use a larger step");
        }
        out.push(Some(Bins {
            start,
            step,
            istart: iv(&a[0]),
            istep: iv(&a[2]),
            n: n as usize,
        }));
    }
    Ok(out)
}

struct Bins {
    start: f64,
    step: f64,
    istart: i64,
    istep: i64,
    n: usize,
}

type BinRows = Vec<Option<Bins>>;

fn kind_arg(args: &[datafusion::logical_expr::ColumnarValue], i: usize) -> Result<AxisKind> {
    let a = arg_array(args, i, 1)?;
    Ok(match a.data_type() {
        DataType::Int64 if !a.is_empty() && !a.is_null(0) => {
            AxisKind::from_code(a.as_primitive::<Int64Type>().value(0))
        }
        _ => AxisKind::Real,
    })
}

/// `series_axis(start, end, step, kind)`: the bins' start values as a dynamic array.
pub fn series_axis(
    args: &[datafusion::logical_expr::ColumnarValue],
    rows: usize,
) -> Result<ArrayRef> {
    let kind = kind_arg(args, 3)?;
    let out: StringArray = bins(args, rows)?
        .into_iter()
        .map(|b| {
            let b = b?;
            let mut s = String::from("[");
            for k in 0..b.n {
                if k > 0 {
                    s.push(',');
                }
                let v = match kind {
                    AxisKind::DateTime => Value::String(crate::format::format_datetime(
                        b.istart.saturating_add(b.istep.saturating_mul(k as i64)),
                    )),
                    AxisKind::TimeSpan => Value::String(crate::format::format_timespan(
                        b.istart.saturating_add(b.istep.saturating_mul(k as i64)),
                    )),
                    AxisKind::Long => {
                        Value::from(b.istart.saturating_add(b.istep.saturating_mul(k as i64)))
                    }
                    AxisKind::Real => serde_json::Number::from_f64(b.start + b.step * k as f64)
                        .map_or(Value::Null, Value::Number),
                };
                write_json(&v, &mut s);
            }
            s.push(']');
            Some(s)
        })
        .collect();
    Ok(Arc::new(out))
}

/// `series_fill(start, end, step, kind, pairs, default)`: `pairs` is a dynamic array of
/// `[bin index, value]`; the result has one value per bin, `default` where no pair is.
pub fn series_fill(
    args: &[datafusion::logical_expr::ColumnarValue],
    rows: usize,
) -> Result<ArrayRef> {
    let b = bins(args, rows)?;
    let pairs = string_array(args, 4, rows)?;
    let defaults = string_array(args, 5, rows)?;
    let out: StringArray = b
        .into_iter()
        .enumerate()
        .map(|(r, b)| {
            let b = b?;
            let default = if defaults.is_null(r) {
                Value::from(0)
            } else {
                parse_dynamic(defaults.value(r))
            };
            let mut vals = vec![default; b.n];
            if !pairs.is_null(r)
                && let Value::Array(ps) = parse_dynamic(pairs.value(r))
            {
                for p in ps {
                    if let Value::Array(iv) = p
                        && let Some(i) = iv.first().and_then(Value::as_i64)
                        && i >= 0
                        && (i as usize) < b.n
                    {
                        vals[i as usize] = iv.get(1).cloned().unwrap_or(Value::Null);
                    }
                }
            }
            let mut s = String::new();
            write_json(&Value::Array(vals), &mut s);
            Some(s)
        })
        .collect();
    Ok(Arc::new(out))
}
