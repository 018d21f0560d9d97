//! IP address functions: `parse_ipv4`, `parse_ipv4_mask`, `ipv4_is_private`,
//! `ipv4_is_in_range`, `ipv4_is_in_any_range`, `ipv4_is_match`, `ipv4_compare`,
//! `format_ipv4`, `format_ipv4_mask`, `ipv4_netmask_suffix`, `has_ipv4`, `has_ipv4_prefix`,
//! `has_any_ipv4`, `has_any_ipv4_prefix`, and the IPv6 family (`parse_ipv6`,
//! `parse_ipv6_mask`, `ipv6_compare`, `ipv6_is_match`, `ipv6_is_in_range`,
//! `ipv6_is_in_any_range`).
//!
//! Addresses may carry a CIDR suffix (`192.168.1.1/24`); comparisons use the smallest of the
//! prefixes involved. Invalid addresses give null (bool/long) or "" (string).

use super::fnargs::{Values, batch_len, i64s, str_at, string_result, tostrs};
use super::registry::{Simple, ret};
use super::udf::arg_array;
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use serde_json::Value;
use std::sync::Arc;

pub const FUNCTIONS: &[Simple] = &[
    Simple {
        name: "parse_ipv4",
        args: (1, 1),
        ret: ret::long,
        kernel: parse_ipv4,
    },
    Simple {
        name: "parse_ipv4_mask",
        args: (2, 2),
        ret: ret::long,
        kernel: parse_ipv4_mask,
    },
    Simple {
        name: "ipv4_is_private",
        args: (1, 1),
        ret: ret::bool,
        kernel: ipv4_is_private,
    },
    Simple {
        name: "ipv4_is_in_range",
        args: (2, 2),
        ret: ret::bool,
        kernel: ipv4_is_in_range,
    },
    Simple {
        name: "ipv4_is_in_any_range",
        args: (2, 64),
        ret: ret::bool,
        kernel: ipv4_is_in_any_range,
    },
    Simple {
        name: "ipv4_is_match",
        args: (2, 3),
        ret: ret::bool,
        kernel: ipv4_is_match,
    },
    Simple {
        name: "ipv4_compare",
        args: (2, 3),
        ret: ret::long,
        kernel: ipv4_compare,
    },
    Simple {
        name: "format_ipv4",
        args: (1, 2),
        ret: ret::string,
        kernel: format_ipv4,
    },
    Simple {
        name: "format_ipv4_mask",
        args: (1, 2),
        ret: ret::string,
        kernel: format_ipv4_mask,
    },
    Simple {
        name: "ipv4_netmask_suffix",
        args: (1, 1),
        ret: ret::long,
        kernel: ipv4_netmask_suffix,
    },
    Simple {
        name: "has_ipv4",
        args: (2, 2),
        ret: ret::bool,
        kernel: has_ipv4,
    },
    Simple {
        name: "has_ipv4_prefix",
        args: (2, 2),
        ret: ret::bool,
        kernel: has_ipv4_prefix,
    },
    Simple {
        name: "has_any_ipv4",
        args: (2, 64),
        ret: ret::bool,
        kernel: has_any_ipv4,
    },
    Simple {
        name: "has_any_ipv4_prefix",
        args: (2, 64),
        ret: ret::bool,
        kernel: has_any_ipv4_prefix,
    },
    Simple {
        name: "parse_ipv6",
        args: (1, 1),
        ret: ret::string,
        kernel: parse_ipv6,
    },
    Simple {
        name: "parse_ipv6_mask",
        args: (2, 2),
        ret: ret::string,
        kernel: parse_ipv6_mask,
    },
    Simple {
        name: "ipv6_compare",
        args: (2, 3),
        ret: ret::long,
        kernel: ipv6_compare,
    },
    Simple {
        name: "ipv6_is_match",
        args: (2, 3),
        ret: ret::bool,
        kernel: ipv6_is_match,
    },
    Simple {
        name: "ipv6_is_in_range",
        args: (2, 2),
        ret: ret::bool,
        kernel: ipv6_is_in_range,
    },
    Simple {
        name: "ipv6_is_in_any_range",
        args: (2, 64),
        ret: ret::bool,
        kernel: ipv6_is_in_any_range,
    },
];

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Dotted-quad IPv4 (four decimal octets, 1–3 digits each) → u32.
pub fn parse_v4_addr(s: &str) -> Option<u32> {
    let mut parts = s.split('.');
    let mut v: u32 = 0;
    for _ in 0..4 {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let o: u32 = p.parse().ok()?;
        if o > 255 {
            return None;
        }
        v = (v << 8) | o;
    }
    parts.next().is_none().then_some(v)
}

/// `a.b.c.d[/n]` → (address, prefix).
pub fn parse_v4(s: &str) -> Option<(u32, u32)> {
    let s = s.trim();
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => {
            let p: u32 = p.trim().parse().ok()?;
            if p > 32 {
                return None;
            }
            (a.trim(), p)
        }
        None => (s, 32),
    };
    Some((parse_v4_addr(addr)?, prefix))
}

fn mask4(p: u32) -> u32 {
    if p == 0 {
        0
    } else {
        u32::MAX << (32 - p.min(32))
    }
}

fn dotted(v: u32) -> String {
    let b = v.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// IPv6 text (or IPv4, mapped to `::ffff:a.b.c.d`) with an optional prefix → (address,
/// prefix of 128). A prefix on an address written in dotted IPv4 form counts IPv4 bits.
pub fn parse_v6(s: &str) -> Option<(u128, u32)> {
    let s = s.trim();
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a.trim(), Some(p.trim().parse::<u32>().ok()?)),
        None => (s, None),
    };
    if !addr.contains(':') {
        let v4 = parse_v4_addr(addr)?;
        let p = prefix.unwrap_or(32);
        if p > 32 {
            return None;
        }
        return Some(((0xffffu128 << 32) | u128::from(v4), 96 + p));
    }
    let ip: std::net::Ipv6Addr = addr.parse().ok()?;
    let mut v = u128::from(ip);
    let dotted_tail = addr.rsplit(':').next().is_some_and(|t| t.contains('.'));
    if dotted_tail {
        // `::a.b.c.d` and `::ffff:a.b.c.d` both mean the IPv4 address.
        let upper = v >> 32;
        if upper == 0 || upper == 0xffff {
            v = (0xffffu128 << 32) | (v & 0xffff_ffff);
        }
        let p = prefix.unwrap_or(32);
        if p > 32 {
            return None;
        }
        return Some((v, 96 + p));
    }
    let p = prefix.unwrap_or(128);
    if p > 128 {
        return None;
    }
    Some((v, p))
}

fn mask6(p: u32) -> u128 {
    if p == 0 {
        0
    } else {
        u128::MAX << (128 - p.min(128))
    }
}

fn full_v6(v: u128) -> String {
    let b = v.to_be_bytes();
    (0..8)
        .map(|k| format!("{:02x}{:02x}", b[2 * k], b[2 * k + 1]))
        .collect::<Vec<_>>()
        .join(":")
}

// ---------------------------------------------------------------------------------------------
// IPv4 kernels
// ---------------------------------------------------------------------------------------------

/// An IPv4 argument that may be a string or a long (the numeric form).
fn v4_values(args: &[ColumnarValue], i: usize, n: usize) -> Result<Vec<Option<(u32, u32)>>> {
    let a = arg_array(args, i, n)?;
    if matches!(a.data_type(), DataType::Int64 | DataType::Int32) {
        let l = i64s(args, i, n)?;
        return Ok((0..n)
            .map(|k| {
                (!l.is_null(k))
                    .then(|| u32::try_from(l.value(k)).ok().map(|v| (v, 32)))
                    .flatten()
            })
            .collect());
    }
    let s = tostrs(args, i, n)?;
    Ok((0..n).map(|k| parse_v4(str_at(&s, k))).collect())
}

fn opt_i64(a: &Int64Array, i: usize) -> Option<i64> {
    (!a.is_null(i)).then(|| a.value(i))
}

/// `parse_ipv4(ip)`: the address as a long (masked by its CIDR suffix); null if invalid.
pub fn parse_ipv4(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let v = v4_values(args, 0, batch_len(args, rows))?;
    let out: Int64Array = v
        .iter()
        .map(|x| x.map(|(a, p)| i64::from(a & mask4(p))))
        .collect();
    Ok(Arc::new(out))
}

/// `parse_ipv4_mask(ip, prefix)`: the address masked by `prefix` (0–32) as a long.
pub fn parse_ipv4_mask(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let v = v4_values(args, 0, n)?;
    let p = i64s(args, 1, n)?;
    let out: Int64Array = (0..n)
        .map(|i| {
            let (a, own) = v[i]?;
            let q = u32::try_from(opt_i64(&p, i)?).ok().filter(|q| *q <= 32)?;
            Some(i64::from(a & mask4(own.min(q))))
        })
        .collect();
    Ok(Arc::new(out))
}

const PRIVATE_V4: [(u32, u32); 3] = [(0x0a00_0000, 8), (0xac10_0000, 12), (0xc0a8_0000, 16)];

/// `ipv4_is_private(ip)`: within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (a CIDR
/// range must lie entirely inside one of them).
pub fn ipv4_is_private(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let v = v4_values(args, 0, batch_len(args, rows))?;
    let out: BooleanArray = v
        .iter()
        .map(|x| {
            let (a, p) = (*x)?;
            Some(
                PRIVATE_V4
                    .iter()
                    .any(|(net, bits)| p >= *bits && a & mask4(*bits) == *net),
            )
        })
        .collect();
    Ok(Arc::new(out))
}

fn in_range4(ip: (u32, u32), range: (u32, u32)) -> bool {
    let m = mask4(range.1);
    ip.1 >= range.1 && ip.0 & m == range.0 & m
}

/// `ipv4_is_in_range(ip, range)`.
pub fn ipv4_is_in_range(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let ip = v4_values(args, 0, n)?;
    let rg = v4_values(args, 1, n)?;
    let out: BooleanArray = (0..n).map(|i| Some(in_range4(ip[i]?, rg[i]?))).collect();
    Ok(Arc::new(out))
}

/// The strings of "one or more strings, or a dynamic array of them" arguments `from..`.
fn string_lists(args: &[ColumnarValue], from: usize, n: usize) -> Result<Vec<Vec<String>>> {
    let cols = (from..args.len())
        .map(|i| Values::new(args, i, n))
        .collect::<Result<Vec<_>>>()?;
    Ok((0..n)
        .map(|i| {
            let mut out = Vec::new();
            for c in &cols {
                match c.get(i) {
                    Value::Array(items) => out.extend(items.into_iter().filter_map(|v| match v {
                        Value::String(s) => Some(s),
                        _ => None,
                    })),
                    Value::String(s) => out.push(s),
                    _ => {}
                }
            }
            out
        })
        .collect())
}

/// `ipv4_is_in_any_range(ip, range1, range2, ...)` or `(ip, dynamic([ranges]))`.
pub fn ipv4_is_in_any_range(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let ip = v4_values(args, 0, n)?;
    let lists = string_lists(args, 1, n)?;
    let out: BooleanArray = (0..n)
        .map(|i| {
            let a = ip[i]?;
            Some(
                lists[i]
                    .iter()
                    .filter_map(|r| parse_v4(r))
                    .any(|r| in_range4(a, r)),
            )
        })
        .collect();
    Ok(Arc::new(out))
}

fn compare4(args: &[ColumnarValue], n: usize) -> Result<Vec<Option<i64>>> {
    let a = v4_values(args, 0, n)?;
    let b = v4_values(args, 1, n)?;
    let p = i64s(args, 2, n)?;
    Ok((0..n)
        .map(|i| {
            let (x, px) = a[i]?;
            let (y, py) = b[i]?;
            let q = if args.len() > 2 {
                u32::try_from(opt_i64(&p, i)?).ok().filter(|q| *q <= 32)?
            } else {
                32
            };
            let m = mask4(px.min(py).min(q));
            Some(match (x & m).cmp(&(y & m)) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            })
        })
        .collect())
}

/// `ipv4_compare(ip1, ip2 [, prefix])`: -1, 0 or 1.
pub fn ipv4_compare(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let out: Int64Array = compare4(args, batch_len(args, rows))?.into_iter().collect();
    Ok(Arc::new(out))
}

/// `ipv4_is_match(ip1, ip2 [, prefix])`.
pub fn ipv4_is_match(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let out: BooleanArray = compare4(args, batch_len(args, rows))?
        .into_iter()
        .map(|c| c.map(|c| c == 0))
        .collect();
    Ok(Arc::new(out))
}

/// `format_ipv4(ip [, prefix])`: the (masked) address in dotted form.
pub fn format_ipv4(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    format4(args, rows, false)
}

/// `format_ipv4_mask(ip [, prefix])`: `a.b.c.d/prefix`.
pub fn format_ipv4_mask(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    format4(args, rows, true)
}

fn format4(args: &[ColumnarValue], rows: usize, with_mask: bool) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let v = v4_values(args, 0, n)?;
    let p = i64s(args, 1, n)?;
    Ok(string_result((0..n).map(|i| {
        let (a, own) = v[i]?;
        let q = if args.len() > 1 {
            u32::try_from(opt_i64(&p, i)?).ok().filter(|q| *q <= 32)?
        } else {
            32
        };
        let q = own.min(q);
        let s = dotted(a & mask4(q));
        Some(if with_mask { format!("{s}/{q}") } else { s })
    })))
}

/// `ipv4_netmask_suffix(ip)`: the CIDR suffix (32 when absent).
pub fn ipv4_netmask_suffix(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let v = v4_values(args, 0, batch_len(args, rows))?;
    let out: Int64Array = v.iter().map(|x| x.map(|(_, p)| i64::from(p))).collect();
    Ok(Arc::new(out))
}

/// The IPv4 addresses that occur in `text` delimited by non-alphanumeric characters.
fn ipv4_tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| parse_v4_addr(t).is_some())
}

/// A valid IPv4 prefix: a complete address, or 1–3 octets followed by a dot.
fn valid_v4_prefix(p: &str) -> bool {
    if parse_v4_addr(p).is_some() {
        return true;
    }
    let Some(body) = p.strip_suffix('.') else {
        return false;
    };
    let parts: Vec<&str> = body.split('.').collect();
    (1..=3).contains(&parts.len())
        && parts.iter().all(|o| {
            !o.is_empty()
                && o.len() <= 3
                && o.bytes().all(|b| b.is_ascii_digit())
                && o.parse::<u32>().is_ok_and(|x| x <= 255)
        })
}

fn has_kernel(args: &[ColumnarValue], rows: usize, prefix: bool) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let text = tostrs(args, 0, n)?;
    let lists = string_lists(args, 1, n)?;
    let out: BooleanArray = (0..n)
        .map(|i| {
            let wanted: Vec<&str> = lists[i]
                .iter()
                .map(|s| s.trim())
                .filter(|s| {
                    if prefix {
                        valid_v4_prefix(s)
                    } else {
                        parse_v4_addr(s).is_some()
                    }
                })
                .collect();
            if wanted.is_empty() {
                return Some(false);
            }
            Some(ipv4_tokens(str_at(&text, i)).any(|tok| {
                wanted.iter().any(|w| {
                    if prefix {
                        tok == *w || (w.ends_with('.') && tok.starts_with(w))
                    } else {
                        tok == *w
                    }
                })
            }))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `has_ipv4(source, ip)`: whether `source` contains the (valid) address as a delimited token.
pub fn has_ipv4(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    has_kernel(args, rows, false)
}

/// `has_ipv4_prefix(source, prefix)`: whether an address in `source` starts with the prefix
/// (a complete address or octets ending with a dot).
pub fn has_ipv4_prefix(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    has_kernel(args, rows, true)
}

/// `has_any_ipv4(source, ip1, ip2, ...)` or `(source, dynamic([ips]))`.
pub fn has_any_ipv4(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    has_kernel(args, rows, false)
}

/// `has_any_ipv4_prefix(source, prefix1, ...)` or `(source, dynamic([prefixes]))`.
pub fn has_any_ipv4_prefix(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    has_kernel(args, rows, true)
}

// ---------------------------------------------------------------------------------------------
// IPv6 kernels
// ---------------------------------------------------------------------------------------------

fn v6_values(args: &[ColumnarValue], i: usize, n: usize) -> Result<Vec<Option<(u128, u32)>>> {
    let s = tostrs(args, i, n)?;
    Ok((0..n).map(|k| parse_v6(str_at(&s, k))).collect())
}

/// `parse_ipv6(ip)`: the canonical full form (`0000:...:ffff:c0a8:0101`), masked by a suffix.
pub fn parse_ipv6(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let v = v6_values(args, 0, batch_len(args, rows))?;
    Ok(string_result(
        v.iter().map(|x| x.map(|(a, p)| full_v6(a & mask6(p)))),
    ))
}

/// `parse_ipv6_mask(ip, prefix)`: like `parse_ipv6`, masked by the smaller prefix too.
pub fn parse_ipv6_mask(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let v = v6_values(args, 0, n)?;
    let p = i64s(args, 1, n)?;
    Ok(string_result((0..n).map(|i| {
        let (a, own) = v[i]?;
        let q = u32::try_from(opt_i64(&p, i)?).ok().filter(|q| *q <= 128)?;
        Some(full_v6(a & mask6(own.min(q))))
    })))
}

fn compare6(args: &[ColumnarValue], n: usize) -> Result<Vec<Option<i64>>> {
    let a = v6_values(args, 0, n)?;
    let b = v6_values(args, 1, n)?;
    let p = i64s(args, 2, n)?;
    Ok((0..n)
        .map(|i| {
            let (x, px) = a[i]?;
            let (y, py) = b[i]?;
            let q = if args.len() > 2 {
                u32::try_from(opt_i64(&p, i)?).ok().filter(|q| *q <= 128)?
            } else {
                128
            };
            let m = mask6(px.min(py).min(q));
            Some(match (x & m).cmp(&(y & m)) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            })
        })
        .collect())
}

/// `ipv6_compare(ip1, ip2 [, prefix])`: -1, 0 or 1 (IPv4 compared as mapped IPv6).
pub fn ipv6_compare(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let out: Int64Array = compare6(args, batch_len(args, rows))?.into_iter().collect();
    Ok(Arc::new(out))
}

/// `ipv6_is_match(ip1, ip2 [, prefix])`.
pub fn ipv6_is_match(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let out: BooleanArray = compare6(args, batch_len(args, rows))?
        .into_iter()
        .map(|c| c.map(|c| c == 0))
        .collect();
    Ok(Arc::new(out))
}

fn in_range6(ip: (u128, u32), range: (u128, u32)) -> bool {
    let m = mask6(range.1);
    ip.0 & m == range.0 & m
}

/// `ipv6_is_in_range(ip, range)`.
pub fn ipv6_is_in_range(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let ip = v6_values(args, 0, n)?;
    let rg = v6_values(args, 1, n)?;
    let out: BooleanArray = (0..n).map(|i| Some(in_range6(ip[i]?, rg[i]?))).collect();
    Ok(Arc::new(out))
}

/// `ipv6_is_in_any_range(ip, ranges...)` or `(ip, dynamic([ranges]))`.
pub fn ipv6_is_in_any_range(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let ip = v6_values(args, 0, n)?;
    let lists = string_lists(args, 1, n)?;
    let out: BooleanArray = (0..n)
        .map(|i| {
            let a = ip[i]?;
            Some(
                lists[i]
                    .iter()
                    .filter_map(|r| parse_v6(r))
                    .any(|r| in_range6(a, r)),
            )
        })
        .collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, StringArray};
    use datafusion::arrow::datatypes::Int64Type;
    use datafusion::common::ScalarValue;

    fn s(v: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(v.into())))
    }
    fn l(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }
    type K = fn(&[ColumnarValue], usize) -> Result<ArrayRef>;
    fn b(f: K, args: &[ColumnarValue]) -> Option<bool> {
        let out = f(args, 1).unwrap();
        let a = out.as_boolean();
        (!a.is_null(0)).then(|| a.value(0))
    }
    fn long(f: K, args: &[ColumnarValue]) -> Option<i64> {
        let out = f(args, 1).unwrap();
        let a = out.as_primitive::<Int64Type>();
        (!a.is_null(0)).then(|| a.value(0))
    }
    fn text(f: K, args: &[ColumnarValue]) -> String {
        f(args, 1).unwrap().as_string::<i32>().value(0).to_string()
    }

    #[test]
    fn parse_and_format_v4() {
        assert_eq!(long(parse_ipv4, &[s("127.0.0.1")]), Some(2130706433));
        assert_eq!(long(parse_ipv4, &[s("192.1.168.1/24")]), Some(3221334016));
        assert_eq!(long(parse_ipv4, &[s("127.0.0.256")]), None);
        assert_eq!(long(parse_ipv4, &[s("1.2.3")]), None);
        assert_eq!(
            long(parse_ipv4_mask, &[s("10.20.30.40"), l(24)]),
            Some(169090560)
        );
        assert_eq!(
            text(format_ipv4, &[s("192.168.1.255"), l(24)]),
            "192.168.1.0"
        );
        assert_eq!(text(format_ipv4, &[l(3232236031)]), "192.168.1.255");
        assert_eq!(
            text(format_ipv4_mask, &[s("192.168.1.255/24")]),
            "192.168.1.0/24"
        );
        assert_eq!(
            text(format_ipv4_mask, &[s("192.168.1.255"), l(24)]),
            "192.168.1.0/24"
        );
        assert_eq!(text(format_ipv4, &[s("bad")]), "");
        assert_eq!(long(ipv4_netmask_suffix, &[s("192.168.1.1/24")]), Some(24));
        assert_eq!(long(ipv4_netmask_suffix, &[s("192.168.1.1")]), Some(32));
    }

    #[test]
    fn private_and_ranges() {
        assert_eq!(b(ipv4_is_private, &[s("10.1.2.3")]), Some(true));
        assert_eq!(b(ipv4_is_private, &[s("192.168.1.1/24")]), Some(true));
        assert_eq!(b(ipv4_is_private, &[s("127.0.0.1")]), Some(false));
        assert_eq!(b(ipv4_is_private, &[s("172.31.255.255")]), Some(true));
        assert_eq!(b(ipv4_is_private, &[s("172.32.0.1")]), Some(false));
        assert_eq!(b(ipv4_is_private, &[s("nope")]), None);
        assert_eq!(
            b(ipv4_is_in_range, &[s("192.168.1.1"), s("192.168.1.1")]),
            Some(true)
        );
        assert_eq!(
            b(ipv4_is_in_range, &[s("192.168.1.1"), s("192.168.1.255/24")]),
            Some(true)
        );
        assert_eq!(
            b(ipv4_is_in_range, &[s("192.168.2.1"), s("192.168.1.255/24")]),
            Some(false)
        );
        assert_eq!(
            b(
                ipv4_is_in_any_range,
                &[
                    s("192.168.1.6"),
                    s("192.168.1.1/24"),
                    s("10.0.0.1/8"),
                    s("127.1.0.1/16")
                ]
            ),
            Some(true)
        );
        let nets = s(r#"["192.168.1.1/16","127.0.0.1/8","10.0.0.1/8"]"#);
        let ips = ColumnarValue::Array(Arc::new(StringArray::from(vec![
            "10.1.2.3",
            "192.168.1.5",
            "123.1.11.21",
            "1.1.1.1",
        ])));
        let out = ipv4_is_in_any_range(&[ips, nets], 4).unwrap();
        let got: Vec<Option<bool>> = out.as_boolean().iter().collect();
        assert_eq!(got, vec![Some(true), Some(true), Some(false), Some(false)]);
    }

    #[test]
    fn compare_v4() {
        for (x, y) in [
            ("192.168.1.0", "192.168.1.0"),
            ("192.168.1.1/24", "192.168.1.255"),
            ("192.168.1.1", "192.168.1.255/24"),
            ("192.168.1.1/30", "192.168.1.255/24"),
        ] {
            assert_eq!(long(ipv4_compare, &[s(x), s(y)]), Some(0));
            assert_eq!(b(ipv4_is_match, &[s(x), s(y)]), Some(true));
        }
        assert_eq!(
            long(ipv4_compare, &[s("192.168.1.1"), s("192.168.1.255")]),
            Some(-1)
        );
        assert_eq!(
            long(ipv4_compare, &[s("192.168.1.1"), s("192.168.1.255"), l(24)]),
            Some(0)
        );
        assert_eq!(
            b(
                ipv4_is_match,
                &[s("192.168.1.1"), s("192.168.1.255"), l(24)]
            ),
            Some(true)
        );
    }

    #[test]
    fn has_ipv4_docs() {
        let log = || s("05:04:54 127.0.0.1 GET /favicon.ico 404");
        assert_eq!(b(has_ipv4, &[log(), s("127.0.0.1")]), Some(true));
        assert_eq!(
            b(
                has_ipv4,
                &[
                    s("05:04:54 127.0.0.256 GET /favicon.ico 404"),
                    s("127.0.0.256")
                ]
            ),
            Some(false)
        );
        assert_eq!(
            b(
                has_ipv4,
                &[s("05:04:54127.0.0.1 GET /favicon.ico 404"), s("127.0.0.1")]
            ),
            Some(false)
        );
        assert_eq!(b(has_ipv4_prefix, &[log(), s("127.0.")]), Some(true));
        assert_eq!(b(has_ipv4_prefix, &[log(), s("127.0")]), Some(false));
        assert_eq!(
            b(
                has_ipv4_prefix,
                &[s("05:04:54127.0.0.1 GET /favicon.ico 404"), s("127.0.")]
            ),
            Some(false)
        );
        assert_eq!(
            b(has_any_ipv4, &[log(), s("127.0.0.1"), s("127.0.0.2")]),
            Some(true)
        );
        assert_eq!(
            b(has_any_ipv4, &[log(), s(r#"["127.0.0.1","127.0.0.2"]"#)]),
            Some(true)
        );
        assert_eq!(
            b(
                has_any_ipv4,
                &[
                    s("05:04:54127.0.0.1 GET /favicon.ico 404"),
                    s("127.0.0.1"),
                    s("192.168.1.1")
                ]
            ),
            Some(false)
        );
        assert_eq!(
            b(has_any_ipv4_prefix, &[log(), s("127.0."), s("192.168.")]),
            Some(true)
        );
        assert_eq!(
            b(has_any_ipv4_prefix, &[log(), s(r#"["127.0.","192.168."]"#)]),
            Some(true)
        );
        assert_eq!(b(has_any_ipv4_prefix, &[log(), s("127.0")]), Some(false));
    }

    #[test]
    fn v6_docs() {
        for (x, y) in [
            ("192.168.1.1", "192.168.1.1"),
            ("192.168.1.1/24", "192.168.1.255"),
            ("192.168.1.1/30", "192.168.1.255/24"),
            ("fe80::85d:e82c:9446:7994/120", "fe80::85d:e82c:9446:7998"),
            ("fe80::85d:e82c:9446:7994", "fe80::85d:e82c:9446:7998/120"),
            ("192.168.1.1", "::ffff:c0a8:0101"),
            ("192.168.1.1/24", "::ffff:c0a8:01ff"),
            ("::ffff:c0a8:0101", "192.168.1.255/24"),
            ("::192.168.1.1/30", "192.168.1.255/24"),
        ] {
            assert_eq!(long(ipv6_compare, &[s(x), s(y)]), Some(0), "{x} {y}");
            assert_eq!(b(ipv6_is_match, &[s(x), s(y)]), Some(true));
        }
        for (x, y, p) in [
            ("192.168.1.1", "192.168.1.0", 31),
            ("192.168.1.1", "192.168.1.255", 24),
            ("fe80::85d:e82c:9446:7994", "fe80::85d:e82c:9446:7995", 127),
            (
                "fe80::85d:e82c:9446:7994/127",
                "fe80::85d:e82c:9446:7998",
                120,
            ),
            ("192.168.1.1/24", "::ffff:c0a8:01ff", 127),
            ("::ffff:c0a8:0101", "192.168.1.255", 120),
        ] {
            assert_eq!(
                long(ipv6_compare, &[s(x), s(y), l(p)]),
                Some(0),
                "{x} {y} {p}"
            );
        }
        assert_eq!(
            long(
                ipv6_compare,
                &[s("fe80::85d:e82c:9446:7994"), s("fe80::85d:e82c:9446:7995")]
            ),
            Some(-1)
        );
        for (ip, m, want) in [
            (
                "192.168.255.255",
                120,
                "0000:0000:0000:0000:0000:ffff:c0a8:ff00",
            ),
            (
                "192.168.255.255/24",
                124,
                "0000:0000:0000:0000:0000:ffff:c0a8:ff00",
            ),
            (
                "255.255.255.255",
                128,
                "0000:0000:0000:0000:0000:ffff:ffff:ffff",
            ),
            (
                "fe80::85d:e82c:9446:7994",
                128,
                "fe80:0000:0000:0000:085d:e82c:9446:7994",
            ),
            (
                "fe80::85d:e82c:9446:7994/120",
                124,
                "fe80:0000:0000:0000:085d:e82c:9446:7900",
            ),
            (
                "::192.168.255.255",
                128,
                "0000:0000:0000:0000:0000:ffff:c0a8:ffff",
            ),
            (
                "::192.168.255.255/24",
                128,
                "0000:0000:0000:0000:0000:ffff:c0a8:ff00",
            ),
        ] {
            assert_eq!(text(parse_ipv6_mask, &[s(ip), l(m)]), want);
        }
        assert_eq!(
            text(parse_ipv6, &[s("fe80::85d:e82c:9446:7994/120")]),
            "fe80:0000:0000:0000:085d:e82c:9446:7900"
        );
        let ip = "a5e:f127:8a9d:146d:e102:b5d3:c755:abcd";
        assert_eq!(
            b(
                ipv6_is_in_range,
                &[s(ip), s("a5e:f127:8a9d:146d:e102:b5d3:c755:0000/112")]
            ),
            Some(true)
        );
        assert_eq!(b(ipv6_is_in_range, &[s(ip), s(ip)]), Some(true));
        assert_eq!(
            b(ipv6_is_in_range, &[s(ip), s("0:0:0:0:0:ffff:c0a8:ac/60")]),
            Some(false)
        );
        let nets =
            s(r#"["a5e:f127:8a9d:146d:e102:b5d3:c755:f6cd/112","0:0:0:0:0:ffff:c0a8:ac/60"]"#);
        assert_eq!(b(ipv6_is_in_any_range, &[s(ip), nets.clone()]), Some(true));
        assert_eq!(
            b(
                ipv6_is_in_any_range,
                &[s("a5e:f127:8a9d:146d:e102:b5d3:c756:abd1"), nets]
            ),
            Some(false)
        );
    }
}
