//! Numeric functions: `ceiling`, `exp`, `exp2`, `exp10`, `log`, `log2`, `log10`, `pow`,
//! `sqrt`, `sign`, trigonometry, `pi`, `degrees`, `radians`, `isnan`, `isinf`, `isfinite`,
//! `gamma`, `loggamma`, `erf`, `erfc`, `binary_*`, `bitset_count_ones`, `max_of`, `min_of`,
//! `rand`, `new_guid`, `todecimal`.
//!
//! Real results follow IEEE semantics (`log(0)` = -∞, `sqrt(-1)` = NaN) as Kusto does; null in
//! gives null out.

use super::fnargs::{batch_len, f64s, i64s, string_result, strs};
use super::registry::{Simple, ret};
use super::udf::arg_array;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DurationNanosecondArray, Float64Array, Int32Array,
    Int64Array, StringArray, TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, Int32Type, TimeUnit, TimestampNanosecondType,
};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use quarry_syntax::ast::ScalarType;
use std::sync::Arc;

fn numeric_first(args: &[ScalarType]) -> Result<ScalarType, String> {
    match args.first() {
        Some(t @ (ScalarType::Int | ScalarType::Long | ScalarType::Real)) => Ok(*t),
        Some(ScalarType::Decimal) => Ok(ScalarType::Real),
        Some(ScalarType::Dynamic) => Ok(ScalarType::Real),
        Some(t) => Err(format!("expects a number, got {t:?}")),
        None => Err("needs an argument".into()),
    }
}

/// `max_of`/`min_of`: the common type of the arguments.
fn common(args: &[ScalarType]) -> Result<ScalarType, String> {
    use ScalarType as T;
    let mut out: Option<T> = None;
    for &t in args {
        let t = if t == T::Decimal { T::Real } else { t };
        out = Some(match (out, t) {
            (None, t) => t,
            (Some(a), b) if a == b => a,
            (Some(T::Int | T::Long | T::Real), T::Int | T::Long | T::Real) => {
                let a = out.unwrap_or(T::Int);
                if a == T::Real || t == T::Real {
                    T::Real
                } else {
                    T::Long
                }
            }
            (Some(a), b) => return Err(format!("arguments of different types ({a:?}, {b:?})")),
        });
    }
    out.ok_or_else(|| "needs arguments".into())
}

fn rand_ret(args: &[ScalarType]) -> Result<ScalarType, String> {
    Ok(if args.is_empty() {
        ScalarType::Real
    } else {
        ScalarType::Long
    })
}

pub const FUNCTIONS: &[Simple] = &[
    Simple {
        name: "ceiling",
        args: (1, 1),
        ret: numeric_first,
        kernel: ceiling,
    },
    Simple {
        name: "sign",
        args: (1, 1),
        ret: numeric_first,
        kernel: sign,
    },
    Simple {
        name: "exp",
        args: (1, 1),
        ret: ret::real,
        kernel: exp,
    },
    Simple {
        name: "exp2",
        args: (1, 1),
        ret: ret::real,
        kernel: exp2,
    },
    Simple {
        name: "exp10",
        args: (1, 1),
        ret: ret::real,
        kernel: exp10,
    },
    Simple {
        name: "log",
        args: (1, 1),
        ret: ret::real,
        kernel: log,
    },
    Simple {
        name: "log2",
        args: (1, 1),
        ret: ret::real,
        kernel: log2,
    },
    Simple {
        name: "log10",
        args: (1, 1),
        ret: ret::real,
        kernel: log10,
    },
    Simple {
        name: "sqrt",
        args: (1, 1),
        ret: ret::real,
        kernel: sqrt,
    },
    Simple {
        name: "pow",
        args: (2, 2),
        ret: ret::real,
        kernel: pow,
    },
    Simple {
        name: "sin",
        args: (1, 1),
        ret: ret::real,
        kernel: sin,
    },
    Simple {
        name: "cos",
        args: (1, 1),
        ret: ret::real,
        kernel: cos,
    },
    Simple {
        name: "tan",
        args: (1, 1),
        ret: ret::real,
        kernel: tan,
    },
    Simple {
        name: "cot",
        args: (1, 1),
        ret: ret::real,
        kernel: cot,
    },
    Simple {
        name: "asin",
        args: (1, 1),
        ret: ret::real,
        kernel: asin,
    },
    Simple {
        name: "acos",
        args: (1, 1),
        ret: ret::real,
        kernel: acos,
    },
    Simple {
        name: "atan",
        args: (1, 1),
        ret: ret::real,
        kernel: atan,
    },
    Simple {
        name: "atan2",
        args: (2, 2),
        ret: ret::real,
        kernel: atan2,
    },
    Simple {
        name: "pi",
        args: (0, 0),
        ret: ret::real,
        kernel: pi,
    },
    Simple {
        name: "degrees",
        args: (1, 1),
        ret: ret::real,
        kernel: degrees,
    },
    Simple {
        name: "radians",
        args: (1, 1),
        ret: ret::real,
        kernel: radians,
    },
    Simple {
        name: "gamma",
        args: (1, 1),
        ret: ret::real,
        kernel: gamma,
    },
    Simple {
        name: "loggamma",
        args: (1, 1),
        ret: ret::real,
        kernel: loggamma,
    },
    Simple {
        name: "erf",
        args: (1, 1),
        ret: ret::real,
        kernel: erf,
    },
    Simple {
        name: "erfc",
        args: (1, 1),
        ret: ret::real,
        kernel: erfc,
    },
    Simple {
        name: "isnan",
        args: (1, 1),
        ret: ret::bool,
        kernel: isnan,
    },
    Simple {
        name: "isinf",
        args: (1, 1),
        ret: ret::bool,
        kernel: isinf,
    },
    Simple {
        name: "isfinite",
        args: (1, 1),
        ret: ret::bool,
        kernel: isfinite,
    },
    Simple {
        name: "binary_and",
        args: (2, 2),
        ret: ret::long,
        kernel: binary_and,
    },
    Simple {
        name: "binary_or",
        args: (2, 2),
        ret: ret::long,
        kernel: binary_or,
    },
    Simple {
        name: "binary_xor",
        args: (2, 2),
        ret: ret::long,
        kernel: binary_xor,
    },
    Simple {
        name: "binary_not",
        args: (1, 1),
        ret: ret::long,
        kernel: binary_not,
    },
    Simple {
        name: "binary_shift_left",
        args: (2, 2),
        ret: ret::long,
        kernel: binary_shift_left,
    },
    Simple {
        name: "binary_shift_right",
        args: (2, 2),
        ret: ret::long,
        kernel: binary_shift_right,
    },
    Simple {
        name: "bitset_count_ones",
        args: (1, 1),
        ret: ret::long,
        kernel: bitset_count_ones,
    },
    Simple {
        name: "max_of",
        args: (1, 64),
        ret: common,
        kernel: max_of,
    },
    Simple {
        name: "min_of",
        args: (1, 64),
        ret: common,
        kernel: min_of,
    },
    Simple {
        name: "rand",
        args: (0, 1),
        ret: rand_ret,
        kernel: rand,
    },
    Simple {
        name: "new_guid",
        args: (0, 0),
        ret: ret::guid,
        kernel: new_guid,
    },
    Simple {
        name: "todecimal",
        args: (1, 1),
        ret: ret::real,
        kernel: todecimal,
    },
];

fn unary(args: &[ColumnarValue], rows: usize, f: fn(f64) -> f64) -> Result<ArrayRef> {
    let x = f64s(args, 0, rows)?;
    let out: Float64Array = x.iter().map(|v| v.map(f)).collect();
    Ok(Arc::new(out))
}

macro_rules! unary_kernels {
    ($($(#[$doc:meta])* $name:ident => $f:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
            unary(args, rows, $f)
        }
    )*};
}

unary_kernels! {
    /// `exp(x)`: e^x.
    exp => f64::exp;
    /// `exp2(x)`: 2^x.
    exp2 => f64::exp2;
    /// `exp10(x)`: 10^x.
    exp10 => |x| 10f64.powf(x);
    /// `log(x)`: natural logarithm.
    log => f64::ln;
    /// `log2(x)`.
    log2 => f64::log2;
    /// `log10(x)`.
    log10 => f64::log10;
    /// `sqrt(x)`.
    sqrt => f64::sqrt;
    /// `sin(x)`.
    sin => f64::sin;
    /// `cos(x)`.
    cos => f64::cos;
    /// `tan(x)`.
    tan => f64::tan;
    /// `cot(x)`: 1 / tan(x).
    cot => |x| 1.0 / x.tan();
    /// `asin(x)`.
    asin => f64::asin;
    /// `acos(x)`.
    acos => f64::acos;
    /// `atan(x)`.
    atan => f64::atan;
    /// `degrees(radians)`.
    degrees => f64::to_degrees;
    /// `radians(degrees)`.
    radians => f64::to_radians;
    /// `gamma(x)`.
    gamma => libm::tgamma;
    /// `loggamma(x)`: ln |Γ(x)|.
    loggamma => libm::lgamma;
    /// `erf(x)`.
    erf => libm::erf;
    /// `erfc(x)`.
    erfc => libm::erfc;
    /// `todecimal(x)` (decimal is held as real).
    todecimal => |x| x;
}

/// `pow(base, exponent)`.
pub fn pow(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let (a, b) = (f64s(args, 0, n)?, f64s(args, 1, n)?);
    let out: Float64Array = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| Some(x?.powf(y?)))
        .collect();
    Ok(Arc::new(out))
}

/// `atan2(y, x)`.
pub fn atan2(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let (a, b) = (f64s(args, 0, n)?, f64s(args, 1, n)?);
    let out: Float64Array = a
        .iter()
        .zip(b.iter())
        .map(|(y, x)| Some(y?.atan2(x?)))
        .collect();
    Ok(Arc::new(out))
}

/// `pi()`.
pub fn pi(_args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    Ok(Arc::new(Float64Array::from(vec![
        std::f64::consts::PI;
        rows
    ])))
}

/// Applies integer and real versions of a function, keeping the argument's type.
fn typed_unary(
    args: &[ColumnarValue],
    rows: usize,
    fi: fn(i64) -> i64,
    ff: fn(f64) -> f64,
) -> Result<ArrayRef> {
    let a = arg_array(args, 0, rows)?;
    Ok(match a.data_type() {
        DataType::Int32 => {
            let out: Int32Array = a
                .as_primitive::<Int32Type>()
                .iter()
                .map(|v| v.and_then(|v| i32::try_from(fi(i64::from(v))).ok()))
                .collect();
            Arc::new(out)
        }
        DataType::Int64 => {
            let out: Int64Array = i64s(args, 0, rows)?.iter().map(|v| v.map(fi)).collect();
            Arc::new(out)
        }
        _ => unary(args, rows, ff)?,
    })
}

/// `ceiling(x)`: the smallest integer ≥ x (same type as x).
pub fn ceiling(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    typed_unary(args, rows, |v| v, f64::ceil)
}

/// `sign(x)`: -1, 0 or +1 (same type as x; NaN stays NaN).
pub fn sign(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    typed_unary(args, rows, i64::signum, |x| {
        if x.is_nan() {
            x
        } else if x == 0.0 {
            0.0
        } else {
            x.signum()
        }
    })
}

fn float_test(args: &[ColumnarValue], rows: usize, f: fn(f64) -> bool) -> Result<ArrayRef> {
    let x = f64s(args, 0, rows)?;
    let out: BooleanArray = x.iter().map(|v| v.map(f)).collect();
    Ok(Arc::new(out))
}

/// `isnan(x)`.
pub fn isnan(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    float_test(args, rows, f64::is_nan)
}

/// `isinf(x)`: ±∞.
pub fn isinf(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    float_test(args, rows, f64::is_infinite)
}

/// `isfinite(x)`: neither infinite nor NaN.
pub fn isfinite(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    float_test(args, rows, f64::is_finite)
}

fn binary(args: &[ColumnarValue], rows: usize, f: fn(i64, i64) -> i64) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let (a, b) = (i64s(args, 0, n)?, i64s(args, 1, n)?);
    let out: Int64Array = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| Some(f(x?, y?)))
        .collect();
    Ok(Arc::new(out))
}

/// `binary_and(a, b)`.
pub fn binary_and(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    binary(args, rows, |a, b| a & b)
}

/// `binary_or(a, b)`.
pub fn binary_or(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    binary(args, rows, |a, b| a | b)
}

/// `binary_xor(a, b)`.
pub fn binary_xor(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    binary(args, rows, |a, b| a ^ b)
}

/// `binary_shift_left(a, n)`: the shift count is taken modulo 64 (as .NET does).
pub fn binary_shift_left(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    binary(args, rows, |a, b| a.wrapping_shl((b & 63) as u32))
}

/// `binary_shift_right(a, n)`: arithmetic shift, count modulo 64.
pub fn binary_shift_right(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    binary(args, rows, |a, b| a.wrapping_shr((b & 63) as u32))
}

/// `binary_not(a)`.
pub fn binary_not(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = i64s(args, 0, rows)?;
    let out: Int64Array = a.iter().map(|x| x.map(|x| !x)).collect();
    Ok(Arc::new(out))
}

/// `bitset_count_ones(a)`: the number of set bits of the long.
pub fn bitset_count_ones(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = i64s(args, 0, rows)?;
    let out: Int64Array = a
        .iter()
        .map(|x| x.map(|x| i64::from(x.count_ones())))
        .collect();
    Ok(Arc::new(out))
}

/// `max_of`/`min_of` over the argument columns, ignoring nulls (all null → null). The result
/// type is the arguments' common type: int, long, real, datetime, timespan or string.
fn extreme(args: &[ColumnarValue], rows: usize, max: bool) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let arrays = (0..args.len())
        .map(|i| arg_array(args, i, n))
        .collect::<Result<Vec<_>>>()?;
    let types: Vec<&DataType> = arrays
        .iter()
        .map(|a| a.data_type())
        .filter(|t| **t != DataType::Null)
        .collect();
    let all = |f: fn(&DataType) -> bool| !types.is_empty() && types.iter().all(|t| f(t));
    let pick = |better: bool| if max { better } else { !better };
    if all(|t| matches!(t, DataType::Timestamp(..))) {
        let cols = arrays
            .iter()
            .map(|a| {
                datafusion::arrow::compute::cast(
                    a,
                    &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                )
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let out: TimestampNanosecondArray = (0..n)
            .map(|i| {
                cols.iter()
                    .filter(|c| !c.is_null(i))
                    .map(|c| c.as_primitive::<TimestampNanosecondType>().value(i))
                    .reduce(|a, b| if pick(b > a) { b } else { a })
            })
            .collect();
        return Ok(Arc::new(out.with_timezone("UTC")));
    }
    if all(|t| matches!(t, DataType::Duration(_))) {
        let cols = arrays
            .iter()
            .map(|a| datafusion::arrow::compute::cast(a, &DataType::Duration(TimeUnit::Nanosecond)))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let out: DurationNanosecondArray = (0..n)
            .map(|i| {
                cols.iter()
                    .filter(|c| !c.is_null(i))
                    .map(|c| c.as_primitive::<DurationNanosecondType>().value(i))
                    .reduce(|a, b| if pick(b > a) { b } else { a })
            })
            .collect();
        return Ok(Arc::new(out));
    }
    if all(|t| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)) {
        let cols = (0..args.len())
            .map(|i| strs(args, i, n))
            .collect::<Result<Vec<StringArray>>>()?;
        return Ok(string_result((0..n).map(|i| {
            cols.iter()
                .filter(|c| !c.is_null(i))
                .map(|c| c.value(i))
                .reduce(|a, b| if pick(b > a) { b } else { a })
        })));
    }
    if all(|t| matches!(t, DataType::Int32)) {
        let cols: Vec<_> = arrays
            .iter()
            .map(|a| a.as_primitive::<Int32Type>().clone())
            .collect();
        let out: Int32Array = (0..n)
            .map(|i| {
                cols.iter()
                    .filter(|c| !c.is_null(i))
                    .map(|c| c.value(i))
                    .reduce(|a, b| if pick(b > a) { b } else { a })
            })
            .collect();
        return Ok(Arc::new(out));
    }
    if all(|t| matches!(t, DataType::Int32 | DataType::Int64)) {
        let cols = (0..args.len())
            .map(|i| i64s(args, i, n))
            .collect::<Result<Vec<_>>>()?;
        let out: Int64Array = (0..n)
            .map(|i| {
                cols.iter()
                    .filter(|c| !c.is_null(i))
                    .map(|c| c.value(i))
                    .reduce(|a, b| if pick(b > a) { b } else { a })
            })
            .collect();
        return Ok(Arc::new(out));
    }
    let cols = (0..args.len())
        .map(|i| f64s(args, i, n))
        .collect::<Result<Vec<_>>>()?;
    let out: Float64Array = (0..n)
        .map(|i| {
            cols.iter()
                .filter(|c| !c.is_null(i))
                .map(|c| c.value(i))
                .reduce(|a, b| if pick(b > a) { b } else { a })
        })
        .collect();
    Ok(Arc::new(out))
}

/// `max_of(a, b, ...)`: the largest non-null argument.
pub fn max_of(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    extreme(args, rows, true)
}

/// `min_of(a, b, ...)`: the smallest non-null argument.
pub fn min_of(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    extreme(args, rows, false)
}

/// `rand()`: a real in [0, 1); `rand(N)`: a long in [0, N).
pub fn rand(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    use rand::Rng;
    let mut rng = rand::rng();
    let bounded = args
        .first()
        .is_some_and(|a| !matches!(a.data_type(), DataType::Null));
    if !bounded {
        let out: Float64Array = (0..rows).map(|_| Some(rng.random::<f64>())).collect();
        return Ok(Arc::new(out));
    }
    let n = i64s(args, 0, rows)?;
    let out: Int64Array = n
        .iter()
        .map(|m| {
            let m = m?;
            (m > 0).then(|| rng.random_range(0..m))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `new_guid()`: a random (version 4) guid.
pub fn new_guid(_args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    use rand::Rng;
    let mut rng = rand::rng();
    let out: StringArray = (0..rows)
        .map(|_| {
            let mut b: [u8; 16] = rng.random();
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
            Some(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ))
        })
        .collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Float64Type, Int64Type};
    use datafusion::common::ScalarValue;

    fn r(v: f64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Float64(Some(v)))
    }
    fn l(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }
    type K = fn(&[ColumnarValue], usize) -> Result<ArrayRef>;
    fn real(f: K, args: &[ColumnarValue]) -> f64 {
        f(args, 1).unwrap().as_primitive::<Float64Type>().value(0)
    }
    fn long(f: K, args: &[ColumnarValue]) -> Option<i64> {
        let out = f(args, 1).unwrap();
        let a = out.as_primitive::<Int64Type>();
        (!a.is_null(0)).then(|| a.value(0))
    }
    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn documented_values() {
        assert!(close(real(asin, &[r(0.5)]), std::f64::consts::FRAC_PI_6));
        assert!(close(
            real(atan2, &[l(1), l(1)]),
            std::f64::consts::FRAC_PI_4
        ));
        assert!(close(real(atan2, &[l(0), l(-1)]), std::f64::consts::PI));
        assert!(close(
            real(atan2, &[l(-1), l(0)]),
            -std::f64::consts::FRAC_PI_2
        ));
        assert!(close(real(cos, &[l(1)]), 0.540_302_305_868_139_8));
        assert!(close(real(sin, &[l(1)]), 0.841470984807897));
        assert!(close(real(exp, &[l(2)]), 7.38905609893065));
        assert!(close(real(log10, &[l(5)]), 0.698_970_004_336_018_9));
        assert!(close(real(log2, &[l(5)]), 2.321_928_094_887_362));
        assert!(close(real(loggamma, &[l(5)]), 3.1780538303479458));
        assert!(close(real(gamma, &[l(5)]), 24.0));
        assert!(close(real(erf, &[l(1)]), 0.842700792949715));
        assert!(close(real(erfc, &[l(3)]), 2.20904969985854e-05));
        assert!(close(real(pow, &[l(2), l(3)]), 8.0));
        assert!(close(real(exp10, &[l(3)]), 1000.0));
        assert!(real(log, &[l(0)]).is_infinite());
        assert!(real(sqrt, &[l(-1)]).is_nan());
        assert!(close(real(pi, &[]), std::f64::consts::PI));
        assert!(close(real(degrees, &[r(std::f64::consts::PI)]), 180.0));
        assert!(close(real(radians, &[l(180)]), std::f64::consts::PI));
    }

    #[test]
    fn ceiling_and_sign() {
        assert_eq!(real(ceiling, &[r(-1.1)]), -1.0);
        assert_eq!(real(ceiling, &[r(0.9)]), 1.0);
        assert_eq!(long(ceiling, &[l(0)]), Some(0));
        assert_eq!(long(sign, &[l(-42)]), Some(-1));
        assert_eq!(long(sign, &[l(0)]), Some(0));
        assert_eq!(real(sign, &[r(11.2)]), 1.0);
    }

    #[test]
    fn float_tests() {
        let x = ColumnarValue::Array(Arc::new(Float64Array::from(vec![
            f64::NEG_INFINITY,
            f64::NAN,
            1.0,
        ])));
        let f: Vec<_> = isfinite(std::slice::from_ref(&x), 3)
            .unwrap()
            .as_boolean()
            .iter()
            .collect();
        assert_eq!(f, vec![Some(false), Some(false), Some(true)]);
        let i: Vec<_> = isinf(std::slice::from_ref(&x), 3)
            .unwrap()
            .as_boolean()
            .iter()
            .collect();
        assert_eq!(i, vec![Some(true), Some(false), Some(false)]);
        let nan: Vec<_> = isnan(&[x], 3).unwrap().as_boolean().iter().collect();
        assert_eq!(nan, vec![Some(false), Some(true), Some(false)]);
    }

    #[test]
    fn binary_functions() {
        assert_eq!(long(binary_not, &[l(100)]), Some(-101));
        assert_eq!(long(binary_or, &[l(5), l(3)]), Some(7));
        assert_eq!(long(binary_and, &[l(5), l(3)]), Some(1));
        assert_eq!(long(binary_shift_left, &[l(1), l(2)]), Some(4));
        assert_eq!(long(binary_shift_right, &[l(1), l(2)]), Some(0));
        assert_eq!(long(binary_xor, &[l(1), l(1)]), Some(0));
        assert_eq!(long(binary_xor, &[l(1), l(2)]), Some(3));
        assert_eq!(long(bitset_count_ones, &[l(42)]), Some(3));
    }

    #[test]
    fn max_min_of() {
        assert_eq!(long(max_of, &[l(10), l(1), l(-3), l(17)]), Some(17));
        assert_eq!(long(min_of, &[l(10), l(1), l(-3), l(17)]), Some(-3));
        let a = ColumnarValue::Array(Arc::new(Int32Array::from(vec![
            Some(1),
            Some(8),
            None,
            Some(1),
            None,
        ])));
        let b = ColumnarValue::Array(Arc::new(Int32Array::from(vec![
            Some(6),
            Some(1),
            Some(2),
            None,
            None,
        ])));
        let out = max_of(&[a.clone(), b.clone()], 5).unwrap();
        let got: Vec<_> = out.as_primitive::<Int32Type>().iter().collect();
        assert_eq!(got, vec![Some(6), Some(8), Some(2), Some(1), None]);
        let out = min_of(&[a, b], 5).unwrap();
        let got: Vec<_> = out.as_primitive::<Int32Type>().iter().collect();
        assert_eq!(got, vec![Some(1), Some(1), Some(2), Some(1), None]);
        assert!(close(real(max_of, &[l(1), r(2.5)]), 2.5));
        assert_eq!(
            common(&[ScalarType::Int, ScalarType::Long]),
            Ok(ScalarType::Long)
        );
        assert_eq!(
            common(&[ScalarType::Long, ScalarType::Real]),
            Ok(ScalarType::Real)
        );
        assert!(common(&[ScalarType::Long, ScalarType::String]).is_err());
    }

    #[test]
    fn random_values() {
        let x = real(rand, &[ColumnarValue::Scalar(ScalarValue::Null)]);
        assert!((0.0..1.0).contains(&x));
        let k = long(rand, &[l(10)]).unwrap();
        assert!((0..10).contains(&k));
        let g = new_guid(&[], 2).unwrap();
        let g = g.as_string::<i32>();
        assert_eq!(g.value(0).len(), 36);
        assert_ne!(g.value(0), g.value(1));
    }
}
