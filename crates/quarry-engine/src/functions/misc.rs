//! Assorted scalar functions: gzip/zlib compression to and from base64
//! (`gzip_compress_to_base64_string`, `gzip_decompress_from_base64_string`,
//! `zlib_compress_to_base64_string`, `zlib_decompress_from_base64_string`), the beta
//! distribution (`beta_cdf`, `beta_inv`, `beta_pdf`), and the security-context functions of a
//! local, single-user engine (`current_principal`, `current_principal_is_member_of`,
//! `current_principal_details`, `cursor_current`).

use super::fnargs::{batch_len, str_at, strs};
use super::registry::{Simple, ret};
use super::udf::arg_array;
use base64::Engine as _;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use flate2::Compression;
use std::io::{Read, Write};
use std::sync::Arc;

/// The principal Quarry reports: queries run locally, as the local user, with no directory.
pub const LOCAL_PRINCIPAL: &str = "localuser=quarry";

/// Longest decompressed output accepted (larger gives null rather than exhausting memory).
const MAX_DECOMPRESSED: u64 = 64 << 20;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Kusto's documented outputs are stored (uncompressed, level 0) deflate streams; short inputs
/// are stored the same way so results match byte for byte, longer ones are compressed (any
/// inflater reads both).
fn pick_level(data: &[u8]) -> Compression {
    if data.len() <= 1024 {
        Compression::none()
    } else {
        Compression::default()
    }
}

fn gzip(data: &[u8]) -> Option<Vec<u8>> {
    let level = pick_level(data);
    let mut e = flate2::GzBuilder::new()
        .operating_system(255)
        .write(Vec::new(), level);
    e.write_all(data).ok()?;
    let mut out = e.finish().ok()?;
    // XFL (informational) is 0 in Kusto's stored output.
    if level == Compression::none() && out.len() > 8 {
        out[8] = 0;
    }
    Some(out)
}

fn zlib(data: &[u8]) -> Option<Vec<u8>> {
    let level = pick_level(data);
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), level);
    e.write_all(data).ok()?;
    let mut out = e.finish().ok()?;
    // zlib's header for a stored stream says "fastest" (0x78 0x01), as Kusto's output has.
    if level == Compression::none() && out.len() >= 2 {
        out[0] = 0x78;
        out[1] = 0x01;
    }
    Some(out)
}

fn read_limited(r: impl Read) -> Option<String> {
    let mut out = Vec::new();
    r.take(MAX_DECOMPRESSED).read_to_end(&mut out).ok()?;
    String::from_utf8(out).ok()
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

fn string_map(
    args: &[ColumnarValue],
    rows: usize,
    f: impl Fn(&str) -> Option<String>,
) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let s = strs(args, 0, n)?;
    let out: StringArray = (0..n).map(|i| f(str_at(&s, i))).collect();
    Ok(Arc::new(out))
}

fn gzip_compress(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    string_map(args, rows, |s| gzip(s.as_bytes()).map(|b| b64(&b)))
}

fn zlib_compress(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    string_map(args, rows, |s| zlib(s.as_bytes()).map(|b| b64(&b)))
}

fn gzip_decompress(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    string_map(args, rows, |s| {
        read_limited(flate2::read::GzDecoder::new(decode_b64(s)?.as_slice()))
    })
}

fn zlib_decompress(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    string_map(args, rows, |s| {
        read_limited(flate2::read::ZlibDecoder::new(decode_b64(s)?.as_slice()))
    })
}

// ---------------------------------------------------------------------------------------------
// Beta distribution
// ---------------------------------------------------------------------------------------------

/// Continued fraction of the regularized incomplete beta function (Lentz's method).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b).
fn beta_reg(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front =
        libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Kusto: out-of-range x or p gives null; non-positive alpha/beta gives NaN.
fn beta_args(x: f64, a: f64, b: f64) -> Option<f64> {
    if !(0.0..=1.0).contains(&x) {
        return None;
    }
    if a <= 0.0 || b <= 0.0 || a.is_nan() || b.is_nan() {
        return Some(f64::NAN);
    }
    Some(0.0)
}

fn beta_cdf_value(x: f64, a: f64, b: f64) -> Option<f64> {
    let r = beta_args(x, a, b)?;
    if r.is_nan() {
        return Some(r);
    }
    Some(beta_reg(x, a, b))
}

fn beta_pdf_value(x: f64, a: f64, b: f64) -> Option<f64> {
    let r = beta_args(x, a, b)?;
    if r.is_nan() {
        return Some(r);
    }
    let ln = (a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() + libm::lgamma(a + b)
        - libm::lgamma(a)
        - libm::lgamma(b);
    Some(ln.exp())
}

fn beta_inv_value(p: f64, a: f64, b: f64) -> Option<f64> {
    let r = beta_args(p, a, b)?;
    if r.is_nan() {
        return Some(r);
    }
    // Bisection on the monotone CDF.
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if beta_reg(mid, a, b) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

fn reals(args: &[ColumnarValue], i: usize, n: usize) -> Result<Float64Array> {
    let a = arg_array(args, i, n)?;
    let a = datafusion::arrow::compute::cast(&a, &DataType::Float64)?;
    Ok(a.as_primitive::<Float64Type>().clone())
}

fn beta_kernel(
    args: &[ColumnarValue],
    rows: usize,
    f: fn(f64, f64, f64) -> Option<f64>,
) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let (x, a, b) = (reals(args, 0, n)?, reals(args, 1, n)?, reals(args, 2, n)?);
    let out: Float64Array = (0..n)
        .map(|i| {
            if x.is_null(i) || a.is_null(i) || b.is_null(i) {
                return None;
            }
            f(x.value(i), a.value(i), b.value(i))
        })
        .collect();
    Ok(Arc::new(out))
}

fn beta_cdf(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    beta_kernel(args, rows, beta_cdf_value)
}
fn beta_pdf(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    beta_kernel(args, rows, beta_pdf_value)
}
fn beta_inv(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    beta_kernel(args, rows, beta_inv_value)
}

// ---------------------------------------------------------------------------------------------
// Security context of a local engine
// ---------------------------------------------------------------------------------------------

fn current_principal(_args: &[ColumnarValue], _rows: usize) -> Result<ArrayRef> {
    Ok(Arc::new(StringArray::from(vec![LOCAL_PRINCIPAL])))
}

fn current_principal_details(_args: &[ColumnarValue], _rows: usize) -> Result<ArrayRef> {
    let v = serde_json::json!({
        "Type": "LocalUser",
        "DisplayName": "quarry",
        "FQN": LOCAL_PRINCIPAL,
    });
    Ok(Arc::new(StringArray::from(vec![
        super::dynamic::json_text(&v),
    ])))
}

/// The local principal belongs to no group: false for every group or user argument except
/// the local principal itself.
fn current_principal_is_member_of(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let cols: Vec<StringArray> = (0..args.len())
        .map(|i| strs(args, i, n))
        .collect::<Result<_>>()?;
    let out: BooleanArray = (0..n)
        .map(|r| {
            Some(cols.iter().any(|c| {
                let s = str_at(c, r);
                s == LOCAL_PRINCIPAL || s.contains(&format!("\"{LOCAL_PRINCIPAL}\""))
            }))
        })
        .collect();
    Ok(Arc::new(out))
}

/// There is no database cursor over files: an empty string.
fn cursor_current(_args: &[ColumnarValue], _rows: usize) -> Result<ArrayRef> {
    Ok(Arc::new(StringArray::from(vec![""])))
}

pub const FUNCTIONS: &[Simple] = &[
    Simple {
        name: "assert",
        args: (2, 2),
        ret: ret::bool,
        kernel: assert_kernel,
    },
    Simple {
        name: "gzip_compress_to_base64_string",
        args: (1, 1),
        ret: ret::string,
        kernel: gzip_compress,
    },
    Simple {
        name: "gzip_decompress_from_base64_string",
        args: (1, 1),
        ret: ret::string,
        kernel: gzip_decompress,
    },
    Simple {
        name: "zlib_compress_to_base64_string",
        args: (1, 1),
        ret: ret::string,
        kernel: zlib_compress,
    },
    Simple {
        name: "zlib_decompress_from_base64_string",
        args: (1, 1),
        ret: ret::string,
        kernel: zlib_decompress,
    },
    Simple {
        name: "beta_cdf",
        args: (3, 3),
        ret: ret::real,
        kernel: beta_cdf,
    },
    Simple {
        name: "beta_pdf",
        args: (3, 3),
        ret: ret::real,
        kernel: beta_pdf,
    },
    Simple {
        name: "beta_inv",
        args: (3, 3),
        ret: ret::real,
        kernel: beta_inv,
    },
    Simple {
        name: "current_principal",
        args: (0, 0),
        ret: ret::string,
        kernel: current_principal,
    },
    Simple {
        name: "current_principal_details",
        args: (0, 0),
        ret: ret::dynamic,
        kernel: current_principal_details,
    },
    Simple {
        name: "current_principal_is_member_of",
        args: (1, 64),
        ret: ret::bool,
        kernel: current_principal_is_member_of,
    },
    Simple {
        name: "cursor_current",
        args: (0, 0),
        ret: ret::string,
        kernel: cursor_current,
    },
];

/// `pack_all(ignore_null_empty, name1, dynamic1, name2, dynamic2, ...)` (the planner passes
/// every column of the row): a bag of all columns; with `ignore_null_empty`, null values and
/// empty strings are left out.
pub fn pack_all(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let ignore = arg_array(args, 0, n)?;
    let ignore = datafusion::arrow::compute::cast(&ignore, &DataType::Boolean)?;
    let ignore = ignore.as_boolean();
    let cols: Vec<StringArray> = (1..args.len())
        .map(|i| strs(args, i, n))
        .collect::<Result<_>>()?;
    let out: StringArray = (0..n)
        .map(|r| {
            let skip = !ignore.is_null(r) && ignore.value(r);
            let mut bag = serde_json::Map::new();
            for pair in cols.chunks(2) {
                let [k, v] = pair else { continue };
                let value = super::fnargs::dyn_at(v, r).unwrap_or(serde_json::Value::Null);
                if skip && (value.is_null() || value.as_str() == Some("")) {
                    continue;
                }
                bag.insert(str_at(k, r).to_string(), value);
            }
            Some(super::dynamic::json_text(&serde_json::Value::Object(bag)))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `assert(condition, message)`: true, or a query error carrying `message` when the condition
/// is false (assert reference).
fn assert_kernel(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let c = arg_array(args, 0, n)?;
    let c = datafusion::arrow::compute::cast(&c, &DataType::Boolean)?;
    let c = c.as_boolean();
    let msg = strs(args, 1, n)?;
    for i in 0..n {
        if !c.is_null(i) && !c.value(i) {
            return datafusion::common::exec_err!("assertion failed: {}", str_at(&msg, i));
        }
    }
    Ok(Arc::new(BooleanArray::from(vec![true; n])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_inverse_matches_reference() {
        let v = beta_inv_value(0.1, 10.0, 20.0).unwrap_or(0.0);
        assert!((v - 0.226415022388749).abs() < 1e-9, "{v}");
        assert!(beta_inv_value(1.5, 10.0, 20.0).is_none());
        assert!(beta_inv_value(0.1, -1.0, 20.0).is_some_and(f64::is_nan));
    }

    #[test]
    fn gzip_round_trip() {
        let z = gzip(b"1234567890qwertyuiop").map(|b| b64(&b));
        assert_eq!(
            z.as_deref(),
            Some("H4sIAAAAAAAA/wEUAOv/MTIzNDU2Nzg5MHF3ZXJ0eXVpb3A6m7f2FAAAAA==")
        );
        let z = zlib(b"1234567890qwertyuiop").map(|b| b64(&b));
        assert_eq!(
            z.as_deref(),
            Some("eAEBFADr/zEyMzQ1Njc4OTBxd2VydHl1aW9wOAkGdw==")
        );
    }
}
