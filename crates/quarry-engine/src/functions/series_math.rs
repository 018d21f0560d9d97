//! Element-wise series functions over dynamic numeric arrays (series_* reference pages):
//! unary math (`series_abs`, `series_sin`, ...), binary arithmetic and comparisons
//! (`series_add(a, b)`; either side may be a scalar, which applies to every element), fills
//! (`series_fill_const`, `series_fill_forward`, `series_fill_backward`) and reductions
//! (`series_dot_product`, `series_magnitude`, `series_pearson_correlation`,
//! `series_cosine_similarity`). Non-numeric elements give null elements.

use super::dynamic::json_text;
use super::fnargs::{Values, batch_len};
use super::registry::{Simple, ret};
use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use serde_json::Value;
use std::sync::Arc;

/// A series argument: an array of optional numbers, or one number for every element.
enum Series {
    Array(Vec<Option<f64>>),
    Scalar(Option<f64>),
}

impl Series {
    fn of(v: Value) -> Option<Series> {
        match v {
            Value::Array(items) => Some(Series::Array(items.iter().map(Value::as_f64).collect())),
            Value::Number(n) => Some(Series::Scalar(n.as_f64())),
            Value::String(s) => s.parse::<f64>().ok().map(|x| Series::Scalar(Some(x))),
            _ => None,
        }
    }
    fn len(&self) -> Option<usize> {
        match self {
            Series::Array(a) => Some(a.len()),
            Series::Scalar(_) => None,
        }
    }
    fn at(&self, i: usize) -> Option<f64> {
        match self {
            Series::Array(a) => a.get(i).copied().flatten(),
            Series::Scalar(x) => *x,
        }
    }
}

fn num(x: f64) -> Value {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 9e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn dyn_out(rows: impl Iterator<Item = Option<Value>>) -> ArrayRef {
    let out: StringArray = rows.map(|v| v.map(|v| json_text(&v))).collect();
    Arc::new(out)
}

fn unary(args: &[ColumnarValue], rows: usize, f: fn(f64) -> f64) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let a = Values::new(args, 0, n)?;
    Ok(dyn_out((0..n).map(|r| {
        match Series::of(a.get(r))? {
            Series::Array(items) => Some(Value::Array(
                items
                    .into_iter()
                    .map(|x| x.map_or(Value::Null, |x| num(f(x))))
                    .collect(),
            )),
            Series::Scalar(_) => None,
        }
    })))
}

fn binary(args: &[ColumnarValue], rows: usize, f: fn(f64, f64) -> Value) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let (a, b) = (Values::new(args, 0, n)?, Values::new(args, 1, n)?);
    Ok(dyn_out((0..n).map(|r| {
        let (x, y) = (Series::of(a.get(r))?, Series::of(b.get(r))?);
        let len = match (x.len(), y.len()) {
            (Some(p), Some(q)) => p.max(q),
            (Some(p), None) | (None, Some(p)) => p,
            (None, None) => return None,
        };
        Some(Value::Array(
            (0..len)
                .map(|i| match (x.at(i), y.at(i)) {
                    (Some(p), Some(q)) => f(p, q),
                    _ => Value::Null,
                })
                .collect(),
        ))
    })))
}

macro_rules! unary_fns {
    ($($name:ident => $f:expr),* $(,)?) => {
        $(fn $name(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
            unary(args, rows, $f)
        })*
    };
}
macro_rules! binary_fns {
    ($($name:ident => $f:expr),* $(,)?) => {
        $(fn $name(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
            binary(args, rows, $f)
        })*
    };
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

unary_fns! {
    series_abs => f64::abs,
    series_acos => f64::acos,
    series_asin => f64::asin,
    series_atan => f64::atan,
    series_ceiling => f64::ceil,
    series_cos => f64::cos,
    series_exp => f64::exp,
    series_floor => f64::floor,
    series_log => f64::ln,
    series_sign => sign,
    series_sin => f64::sin,
    series_sqrt => f64::sqrt,
    series_tan => f64::tan,
}

binary_fns! {
    series_add => |a, b| num(a + b),
    series_subtract => |a, b| num(a - b),
    series_multiply => |a, b| num(a * b),
    series_divide => |a, b| num(a / b),
    series_pow => |a, b| num(a.powf(b)),
    series_greater => |a, b| Value::Bool(a > b),
    series_greater_equals => |a, b| Value::Bool(a >= b),
    series_less => |a, b| Value::Bool(a < b),
    series_less_equals => |a, b| Value::Bool(a <= b),
    series_equals => |a, b| Value::Bool(a == b),
    series_not_equals => |a, b| Value::Bool(a != b),
}

/// A real per row from two series (`f` gets the pairs where both are numbers).
fn reduce2(
    args: &[ColumnarValue],
    rows: usize,
    f: fn(&[(f64, f64)]) -> Option<f64>,
) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let (a, b) = (Values::new(args, 0, n)?, Values::new(args, 1, n)?);
    let out: Float64Array = (0..n)
        .map(|r| {
            let (x, y) = (Series::of(a.get(r))?, Series::of(b.get(r))?);
            let len = x.len().or(y.len())?;
            let pairs: Vec<(f64, f64)> = (0..len)
                .filter_map(|i| Some((x.at(i)?, y.at(i)?)))
                .collect();
            f(&pairs)
        })
        .collect();
    Ok(Arc::new(out))
}

fn series_dot_product(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    reduce2(args, rows, |p| Some(p.iter().map(|(a, b)| a * b).sum()))
}

fn series_cosine_similarity(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    reduce2(args, rows, |p| {
        let dot: f64 = p.iter().map(|(a, b)| a * b).sum();
        let na: f64 = p.iter().map(|(a, _)| a * a).sum::<f64>().sqrt();
        let nb: f64 = p.iter().map(|(_, b)| b * b).sum::<f64>().sqrt();
        Some(dot / (na * nb))
    })
}

fn series_pearson_correlation(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    reduce2(args, rows, |p| {
        let n = p.len() as f64;
        if n == 0.0 {
            return None;
        }
        let (ma, mb) = (
            p.iter().map(|x| x.0).sum::<f64>() / n,
            p.iter().map(|x| x.1).sum::<f64>() / n,
        );
        let cov: f64 = p.iter().map(|(a, b)| (a - ma) * (b - mb)).sum();
        let va: f64 = p.iter().map(|(a, _)| (a - ma).powi(2)).sum();
        let vb: f64 = p.iter().map(|(_, b)| (b - mb).powi(2)).sum();
        Some(cov / (va * vb).sqrt())
    })
}

fn series_magnitude(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let a = Values::new(args, 0, n)?;
    let out: Float64Array = (0..n)
        .map(|r| match Series::of(a.get(r))? {
            Series::Array(items) => Some(items.iter().flatten().map(|x| x * x).sum::<f64>().sqrt()),
            Series::Scalar(_) => None,
        })
        .collect();
    Ok(Arc::new(out))
}

/// Whether element `v` is missing: null, or equal to the given placeholder.
fn missing(v: &Value, placeholder: &Value) -> bool {
    v.is_null()
        || (!placeholder.is_null()
            && match (v.as_f64(), placeholder.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => v == placeholder,
            })
}

fn series_fill_const(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let a = Values::new(args, 0, n)?;
    let c = Values::new(args, 1, n)?;
    let ph = if args.len() > 2 {
        Some(Values::new(args, 2, n)?)
    } else {
        None
    };
    Ok(dyn_out((0..n).map(|r| {
        let Value::Array(items) = a.get(r) else {
            return None;
        };
        let fill = c.get(r);
        let placeholder = ph.as_ref().map_or(Value::Null, |p| p.get(r));
        Some(Value::Array(
            items
                .into_iter()
                .map(|v| {
                    if missing(&v, &placeholder) {
                        fill.clone()
                    } else {
                        v
                    }
                })
                .collect(),
        ))
    })))
}

fn fill_along(args: &[ColumnarValue], rows: usize, backward: bool) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let a = Values::new(args, 0, n)?;
    let ph = if args.len() > 1 {
        Some(Values::new(args, 1, n)?)
    } else {
        None
    };
    Ok(dyn_out((0..n).map(|r| {
        let Value::Array(mut items) = a.get(r) else {
            return None;
        };
        let placeholder = ph.as_ref().map_or(Value::Null, |p| p.get(r));
        if backward {
            items.reverse();
        }
        let mut last: Option<Value> = None;
        for v in items.iter_mut() {
            if missing(v, &placeholder) {
                if let Some(l) = &last {
                    *v = l.clone();
                }
            } else {
                last = Some(v.clone());
            }
        }
        if backward {
            items.reverse();
        }
        Some(Value::Array(items))
    })))
}

fn series_fill_forward(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    fill_along(args, rows, false)
}

fn series_fill_backward(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    fill_along(args, rows, true)
}

/// `series_stats_dynamic(series [, ignore_nonfinite])`: min, min_idx, max, max_idx, avg,
/// stdev and variance (sample), sum and len of the numeric elements, as a bag.
fn series_stats_dynamic(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let a = Values::new(args, 0, n)?;
    Ok(dyn_out((0..n).map(|r| {
        let Series::Array(items) = Series::of(a.get(r))? else {
            return None;
        };
        let vals: Vec<(usize, f64)> = items
            .iter()
            .enumerate()
            .filter_map(|(i, x)| x.filter(|v| v.is_finite()).map(|v| (i, v)))
            .collect();
        let len = vals.len() as f64;
        let fnum = |x: f64| {
            serde_json::Number::from_f64(x)
                .map(Value::Number)
                .unwrap_or(Value::Null)
        };
        if vals.is_empty() {
            return Some(serde_json::json!({
                "min": null, "min_idx": null, "max": null, "max_idx": null, "avg": null,
                "stdev": null, "variance": null, "sum": 0.0, "len": 0
            }));
        }
        let (mut min_i, mut max_i) = (vals[0], vals[0]);
        for &(i, v) in &vals {
            if v < min_i.1 {
                min_i = (i, v);
            }
            if v > max_i.1 {
                max_i = (i, v);
            }
        }
        let sum: f64 = vals.iter().map(|x| x.1).sum();
        let avg = sum / len;
        let variance = if len > 1.0 {
            vals.iter().map(|x| (x.1 - avg).powi(2)).sum::<f64>() / (len - 1.0)
        } else {
            0.0
        };
        Some(serde_json::json!({
            "min": fnum(min_i.1), "min_idx": min_i.0, "max": fnum(max_i.1), "max_idx": max_i.0,
            "avg": fnum(avg), "stdev": fnum(variance.sqrt()), "variance": fnum(variance),
            "sum": fnum(sum), "len": vals.len()
        }))
    })))
}

macro_rules! entries {
    ($($name:ident: $lo:expr, $hi:expr, $ret:expr;)*) => {
        pub const FUNCTIONS: &[Simple] = &[
            $(Simple { name: stringify!($name), args: ($lo, $hi), ret: $ret, kernel: $name },)*
        ];
    };
}

entries! {
    series_abs: 1, 1, ret::dynamic;
    series_acos: 1, 1, ret::dynamic;
    series_asin: 1, 1, ret::dynamic;
    series_atan: 1, 1, ret::dynamic;
    series_ceiling: 1, 1, ret::dynamic;
    series_cos: 1, 1, ret::dynamic;
    series_exp: 1, 1, ret::dynamic;
    series_floor: 1, 1, ret::dynamic;
    series_log: 1, 1, ret::dynamic;
    series_sign: 1, 1, ret::dynamic;
    series_sin: 1, 1, ret::dynamic;
    series_sqrt: 1, 1, ret::dynamic;
    series_tan: 1, 1, ret::dynamic;
    series_add: 2, 2, ret::dynamic;
    series_subtract: 2, 2, ret::dynamic;
    series_multiply: 2, 2, ret::dynamic;
    series_divide: 2, 2, ret::dynamic;
    series_pow: 2, 2, ret::dynamic;
    series_greater: 2, 2, ret::dynamic;
    series_greater_equals: 2, 2, ret::dynamic;
    series_less: 2, 2, ret::dynamic;
    series_less_equals: 2, 2, ret::dynamic;
    series_equals: 2, 2, ret::dynamic;
    series_not_equals: 2, 2, ret::dynamic;
    series_dot_product: 2, 2, ret::real;
    series_cosine_similarity: 2, 2, ret::real;
    series_pearson_correlation: 2, 2, ret::real;
    series_magnitude: 1, 1, ret::real;
    series_fill_const: 2, 3, ret::dynamic;
    series_fill_forward: 1, 2, ret::dynamic;
    series_fill_backward: 1, 2, ret::dynamic;
    series_stats_dynamic: 1, 2, ret::dynamic;
}
