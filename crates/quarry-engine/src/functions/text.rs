//! String functions: `replace_regex`, `replace`, `countof`, `indexof`, `indexof_regex`,
//! `string_size`, `translate`, `reverse`, `strrep`, `strcmp`, `isascii`, `isutf8`,
//! `unicode_codepoints_*`, `regex_quote`, `replace_strings`, `extract_all`, `has_any_index`,
//! `punycode_*`, `format_bytes`.
//!
//! Kusto strings are never null: null inputs read as `""` and string results are never null.
//! Character positions are counted in Unicode scalar values.

use super::fnargs::{
    Values, array_at, batch_len, dyn_at, f64s, i64s, json_result, str_at, string_result, strs,
    tostrs,
};
use super::registry::{Simple, ret};
use super::udf::{arg_array, arg_scalar, scalar_str};
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Int32Array, Int64Array, StringArray,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ColumnarValue;
use regex::Regex;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub const FUNCTIONS: &[Simple] = &[
    Simple {
        name: "replace_regex",
        args: (3, 3),
        ret: ret::string,
        kernel: replace_regex,
    },
    Simple {
        name: "replace",
        args: (3, 3),
        ret: ret::string,
        kernel: replace_deprecated,
    },
    Simple {
        name: "countof",
        args: (2, 3),
        ret: ret::long,
        kernel: countof,
    },
    Simple {
        name: "indexof",
        args: (2, 5),
        ret: ret::long,
        kernel: indexof,
    },
    Simple {
        name: "indexof_regex",
        args: (2, 5),
        ret: ret::long,
        kernel: indexof_regex,
    },
    Simple {
        name: "string_size",
        args: (1, 1),
        ret: ret::long,
        kernel: string_size,
    },
    Simple {
        name: "translate",
        args: (3, 3),
        ret: ret::string,
        kernel: translate,
    },
    Simple {
        name: "reverse",
        args: (1, 1),
        ret: ret::string,
        kernel: reverse,
    },
    Simple {
        name: "strrep",
        args: (2, 3),
        ret: ret::string,
        kernel: strrep,
    },
    Simple {
        name: "strcmp",
        args: (2, 2),
        ret: ret::int,
        kernel: strcmp,
    },
    Simple {
        name: "isascii",
        args: (1, 1),
        ret: ret::bool,
        kernel: isascii,
    },
    Simple {
        name: "isutf8",
        args: (1, 1),
        ret: ret::bool,
        kernel: isutf8,
    },
    Simple {
        name: "unicode_codepoints_from_string",
        args: (1, 1),
        ret: ret::dynamic,
        kernel: codepoints_from_string,
    },
    Simple {
        name: "unicode_codepoints_to_string",
        args: (1, 64),
        ret: ret::string,
        kernel: codepoints_to_string,
    },
    Simple {
        name: "regex_quote",
        args: (1, 1),
        ret: ret::string,
        kernel: regex_quote,
    },
    Simple {
        name: "replace_strings",
        args: (3, 3),
        ret: ret::string,
        kernel: replace_strings,
    },
    Simple {
        name: "extract_all",
        args: (2, 3),
        ret: ret::dynamic,
        kernel: extract_all,
    },
    Simple {
        name: "extractall",
        args: (2, 3),
        ret: ret::dynamic,
        kernel: extract_all,
    },
    Simple {
        name: "has_any_index",
        args: (2, 2),
        ret: ret::long,
        kernel: has_any_index,
    },
    Simple {
        name: "punycode_from_string",
        args: (1, 1),
        ret: ret::string,
        kernel: punycode_from_string,
    },
    Simple {
        name: "punycode_to_string",
        args: (1, 1),
        ret: ret::string,
        kernel: punycode_to_string,
    },
    Simple {
        name: "punycode_domain_from_string",
        args: (1, 1),
        ret: ret::string,
        kernel: punycode_domain_from_string,
    },
    Simple {
        name: "punycode_domain_to_string",
        args: (1, 1),
        ret: ret::string,
        kernel: punycode_domain_to_string,
    },
    Simple {
        name: "format_bytes",
        args: (1, 4),
        ret: ret::string,
        kernel: format_bytes,
    },
];

// ---------------------------------------------------------------------------------------------
// Regex handling: a constant pattern is compiled once per batch; a pattern column is compiled
// once per distinct value.
// ---------------------------------------------------------------------------------------------

/// Regular expressions of one pattern argument.
pub struct Patterns {
    constant: Option<Option<Regex>>,
    column: Option<StringArray>,
    cache: HashMap<String, Option<Regex>>,
}

impl Patterns {
    /// Compiles a constant pattern now (an invalid constant pattern is an error).
    pub fn new(args: &[ColumnarValue], i: usize, rows: usize) -> Result<Self> {
        if let Some(s) = arg_scalar(args, i) {
            let p = scalar_str(s).unwrap_or("");
            return match super::re2::compile(p) {
                Ok(r) => Ok(Patterns {
                    constant: Some(Some(r)),
                    column: None,
                    cache: HashMap::new(),
                }),
                Err(e) => exec_err!(
                    "invalid regular expression: {}",
                    e.to_string().lines().last().unwrap_or("").trim()
                ),
            };
        }
        Ok(Patterns {
            constant: None,
            column: Some(strs(args, i, rows)?),
            cache: HashMap::new(),
        })
    }

    /// The pattern of row `i` (None when that row's pattern is invalid).
    pub fn get(&mut self, i: usize) -> Option<&Regex> {
        if let Some(c) = &self.constant {
            return c.as_ref();
        }
        let col = self.column.as_ref()?;
        let p = str_at(col, i);
        if !self.cache.contains_key(p) {
            if self.cache.len() > 1024 {
                self.cache.clear();
            }
            self.cache
                .insert(p.to_string(), super::re2::compile(p).ok());
        }
        self.cache.get(p)?.as_ref()
    }
}

/// Kusto's rewrite pattern (`\1`..`\9` for groups, `\0` whole match) → the regex crate's.
fn rewrite_template(rewrite: &str) -> String {
    let mut out = String::with_capacity(rewrite.len());
    let mut chars = rewrite.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    chars.next();
                    out.push_str("${");
                    out.push(d);
                    out.push('}');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

fn replace_kernel(
    args: &[ColumnarValue],
    rows: usize,
    (src, pat, rew): (usize, usize, usize),
) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let text = tostrs(args, src, n)?;
    let mut pats = Patterns::new(args, pat, n)?;
    let rewrites = strs(args, rew, n)?;
    let constant_rewrite =
        arg_scalar(args, rew).map(|s| rewrite_template(scalar_str(s).unwrap_or("")));
    Ok(string_result((0..n).map(|i| {
        let t = str_at(&text, i);
        let Some(re) = pats.get(i) else {
            return Some(t.to_string());
        };
        let tpl = match &constant_rewrite {
            Some(c) => std::borrow::Cow::Borrowed(c.as_str()),
            None => std::borrow::Cow::Owned(rewrite_template(str_at(&rewrites, i))),
        };
        Some(re.replace_all(t, tpl.as_ref()).into_owned())
    })))
}

/// `replace_regex(source, lookup_regex, rewrite_pattern)`: every match replaced; `\1`.. in
/// the rewrite refer to capture groups.
pub fn replace_regex(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    replace_kernel(args, rows, (0, 1, 2))
}

/// The deprecated `replace(regex, rewrite, source)`.
pub fn replace_deprecated(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    replace_kernel(args, rows, (2, 0, 1))
}

/// `countof(source, search [, kind])`: plain matches may overlap, regex matches don't.
pub fn countof(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let text = tostrs(args, 0, n)?;
    let kinds = strs(args, 2, n)?;
    let regex_kind = |i: usize| str_at(&kinds, i).eq_ignore_ascii_case("regex");
    let any_regex = (0..n).any(regex_kind);
    let mut pats = if any_regex {
        Some(Patterns::new(args, 1, n)?)
    } else {
        None
    };
    let search = tostrs(args, 1, n)?;
    let out: Int64Array = (0..n)
        .map(|i| {
            let t = str_at(&text, i);
            if regex_kind(i) {
                let re = pats.as_mut()?.get(i)?;
                return i64::try_from(re.find_iter(t).count()).ok();
            }
            let s = str_at(&search, i);
            if s.is_empty() {
                return Some(0);
            }
            let mut count = 0i64;
            let mut from = 0;
            while let Some(p) = t.get(from..).and_then(|r| r.find(s)) {
                count += 1;
                // Overlapping: continue one character after the match start.
                let at = from + p;
                from = at + t[at..].chars().next().map_or(1, char::len_utf8);
            }
            Some(count)
        })
        .collect();
    Ok(Arc::new(out))
}

/// Shared argument handling of `indexof` / `indexof_regex`: returns the char range to search
/// and the occurrence, or `Err(None)` for null, `Err(Some(-1))` for "not found".
fn index_args(
    len: usize,
    start: Option<i64>,
    length: Option<i64>,
    occ: Option<i64>,
) -> std::result::Result<(usize, i64, i64), Option<i64>> {
    let start = start.unwrap_or(0);
    let length = length.unwrap_or(-1);
    let occ = occ.unwrap_or(1);
    if length < -1 || occ < 0 {
        return Err(None);
    }
    let li = i64::try_from(len).unwrap_or(i64::MAX);
    let from = if start < 0 {
        (li + start).max(0)
    } else {
        start
    };
    if from > li {
        return Err(Some(-1));
    }
    Ok((usize::try_from(from).unwrap_or(0), length, occ.max(1)))
}

/// Char index → byte offset (clamped to the end).
fn byte_at(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(b, _)| b)
}

/// `indexof(source, lookup [, start [, length [, occurrence]]])`: the char index of the
/// occurrence-th match of `lookup` inside the examined range, -1 if none. Non-string
/// arguments are converted to strings (`indexof(1234567, 5, 1, 4)` = 4).
pub fn indexof(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let text = tostrs(args, 0, n)?;
    let look = tostrs(args, 1, n)?;
    let (st, ln, oc) = (i64s(args, 2, n)?, i64s(args, 3, n)?, i64s(args, 4, n)?);
    let get = |a: &Int64Array, i: usize| (!a.is_null(i)).then(|| a.value(i));
    let out: Int64Array = (0..n)
        .map(|i| {
            let t = str_at(&text, i);
            let l = str_at(&look, i);
            let chars: Vec<char> = t.chars().collect();
            let len = chars.len();
            let (mut from, length, occ) =
                match index_args(len, get(&st, i), get(&ln, i), get(&oc, i)) {
                    Ok(v) => v,
                    Err(r) => return r,
                };
            let needle: Vec<char> = l.chars().collect();
            // Kusto examines `length` characters from the start of each successive search.
            let count = if length == -1 {
                usize::MAX
            } else {
                usize::try_from(length).ok()?
            };
            let mut pos = -1;
            for _ in 0..occ {
                let end = from.saturating_add(count).min(len);
                let hit = (from..=end).find(|&p| {
                    p + needle.len() <= end && chars.get(p..p + needle.len()) == Some(&needle[..])
                });
                let Some(p) = hit else {
                    return Some(-1);
                };
                pos = i64::try_from(p).ok()?;
                from = p + 1;
            }
            Some(pos)
        })
        .collect();
    Ok(Arc::new(out))
}

/// `indexof_regex(source, regex [, start [, length [, occurrence]]])`: like `indexof` with a
/// regular expression; regex matches don't overlap.
pub fn indexof_regex(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let text = tostrs(args, 0, n)?;
    let mut pats = Patterns::new(args, 1, n)?;
    let (st, ln, oc) = (i64s(args, 2, n)?, i64s(args, 3, n)?, i64s(args, 4, n)?);
    let get = |a: &Int64Array, i: usize| (!a.is_null(i)).then(|| a.value(i));
    let out: Int64Array = (0..n)
        .map(|i| {
            let t = str_at(&text, i);
            let len = t.chars().count();
            let (from, length, occ) = match index_args(len, get(&st, i), get(&ln, i), get(&oc, i)) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let re = pats.get(i)?;
            let end = if length == -1 {
                len
            } else {
                from.saturating_add(usize::try_from(length).ok()?).min(len)
            };
            let (b0, b1) = (byte_at(t, from), byte_at(t, end));
            let hay = t.get(b0..b1)?;
            let m = re.find_iter(hay).nth(usize::try_from(occ - 1).ok()?);
            Some(match m {
                Some(m) => i64::try_from(from + hay[..m.start()].chars().count()).ok()?,
                None => -1,
            })
        })
        .collect();
    Ok(Arc::new(out))
}

/// `string_size(s)`: the size in bytes (UTF-8).
pub fn string_size(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    let out: Int64Array = (0..a.len())
        .map(|i| i64::try_from(str_at(&a, i).len()).ok())
        .collect();
    Ok(Arc::new(out))
}

/// `translate(searchList, replacementList, source)`: each character of `searchList` in
/// `source` is replaced by the character at the same position of `replacementList` (its last
/// character when shorter); an empty `replacementList` deletes them.
pub fn translate(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let search = strs(args, 0, n)?;
    let repl = strs(args, 1, n)?;
    let text = tostrs(args, 2, n)?;
    Ok(string_result((0..n).map(|i| {
        let s: Vec<char> = str_at(&search, i).chars().collect();
        let r: Vec<char> = str_at(&repl, i).chars().collect();
        let out: String = str_at(&text, i)
            .chars()
            .filter_map(|c| match s.iter().position(|x| *x == c) {
                None => Some(c),
                Some(p) => r.get(p).or(r.last()).copied(),
            })
            .collect();
        Some(out)
    })))
}

/// `reverse(value)`: the characters of `tostring(value)` in reverse order (a datetime is
/// reversed in its 7-digit form `2017-10-15T12:00:00.0000000Z`).
pub fn reverse(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = arg_array(args, 0, rows)?;
    let texts: Vec<String> = match a.data_type() {
        DataType::Timestamp(..) => {
            let t = super::fnargs::i64s(&[ColumnarValue::Array(a.clone())], 0, a.len())?;
            (0..t.len())
                .map(|i| {
                    if t.is_null(i) {
                        return String::new();
                    }
                    let s = crate::format::format_datetime(t.value(i));
                    if s.contains('.') {
                        s
                    } else {
                        s.replace('Z', ".0000000Z")
                    }
                })
                .collect()
        }
        _ => {
            let s = tostrs(args, 0, rows)?;
            (0..s.len()).map(|i| str_at(&s, i).to_string()).collect()
        }
    };
    Ok(string_result(
        texts
            .iter()
            .map(|t| Some(t.chars().rev().collect::<String>())),
    ))
}

/// `strrep(value, multiplier [, delimiter])`: `value` (as a string) repeated, joined by the
/// delimiter; the multiplier is capped at 1024 and below 1 gives "".
pub fn strrep(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let v = tostrs(args, 0, n)?;
    let m = i64s(args, 1, n)?;
    let d = strs(args, 2, n)?;
    Ok(string_result((0..n).map(|i| {
        if m.is_null(i) {
            return None;
        }
        let k = usize::try_from(m.value(i).clamp(0, 1024)).unwrap_or(0);
        Some(vec![str_at(&v, i); k].join(str_at(&d, i)))
    })))
}

/// `strcmp(a, b)`: -1, 0 or 1 by ordinal comparison.
pub fn strcmp(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let a = tostrs(args, 0, n)?;
    let b = tostrs(args, 1, n)?;
    let out: Int32Array = (0..n)
        .map(|i| {
            Some(match str_at(&a, i).cmp(str_at(&b, i)) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            })
        })
        .collect();
    Ok(Arc::new(out))
}

/// `isascii(s)`: whether every character is ASCII.
pub fn isascii(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    let out: BooleanArray = (0..a.len())
        .map(|i| Some(str_at(&a, i).is_ascii()))
        .collect();
    Ok(Arc::new(out))
}

/// `isutf8(s)`: whether the string is valid UTF-8 (always, for text held as Arrow Utf8).
pub fn isutf8(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    let out: BooleanArray = (0..a.len()).map(|_| Some(true)).collect();
    Ok(Arc::new(out))
}

/// `unicode_codepoints_from_string(s)`: the code points as an array of numbers.
pub fn codepoints_from_string(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    Ok(json_result((0..a.len()).map(|i| {
        Some(Value::Array(
            str_at(&a, i)
                .chars()
                .map(|c| Value::from(u32::from(c)))
                .collect(),
        ))
    })))
}

/// `unicode_codepoints_to_string(values...)`: each argument a code point or an array of
/// them; invalid code points are skipped.
pub fn codepoints_to_string(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let cols = (0..args.len())
        .map(|i| Values::new(args, i, n))
        .collect::<Result<Vec<_>>>()?;
    let push = |out: &mut String, v: &Value| {
        if let Some(c) = super::fnargs::json_i64(v)
            .and_then(|x| u32::try_from(x).ok())
            .and_then(char::from_u32)
        {
            out.push(c);
        }
    };
    Ok(string_result((0..n).map(|i| {
        let mut out = String::new();
        for c in &cols {
            match c.get(i) {
                Value::Array(items) => items.iter().for_each(|v| push(&mut out, v)),
                v => push(&mut out, &v),
            }
        }
        Some(out)
    })))
}

/// `regex_quote(s)`: the string with regex metacharacters escaped.
pub fn regex_quote(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    Ok(string_result(
        (0..a.len()).map(|i| Some(regex::escape(str_at(&a, i)))),
    ))
}

/// `replace_strings(text, lookups, rewrites)`: each lookup (in order) replaced by the rewrite
/// at the same position; text produced by a replacement is not searched again.
pub fn replace_strings(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let text = tostrs(args, 0, n)?;
    let looks = strs(args, 1, n)?;
    let rews = strs(args, 2, n)?;
    let as_strings = |v: Option<Vec<Value>>| -> Vec<String> {
        v.unwrap_or_default()
            .into_iter()
            .map(|x| match x {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => super::dynamic::json_text(&other),
            })
            .collect()
    };
    Ok(string_result((0..n).map(|i| {
        let lookups = as_strings(array_at(&looks, i));
        let rewrites = as_strings(array_at(&rews, i));
        // Segments of (text, already produced by a replacement).
        let mut segs: Vec<(String, bool)> = vec![(str_at(&text, i).to_string(), false)];
        for (k, l) in lookups.iter().enumerate() {
            if l.is_empty() {
                continue;
            }
            let r = rewrites.get(k).map_or("", String::as_str);
            let mut next = Vec::with_capacity(segs.len());
            for (s, done) in segs {
                if done || !s.contains(l.as_str()) {
                    next.push((s, done));
                    continue;
                }
                let mut parts = s.split(l.as_str()).peekable();
                while let Some(p) = parts.next() {
                    if !p.is_empty() {
                        next.push((p.to_string(), false));
                    }
                    if parts.peek().is_some() {
                        next.push((r.to_string(), true));
                    }
                }
            }
            segs = next;
        }
        Some(segs.into_iter().map(|(s, _)| s).collect::<String>())
    })))
}

/// `extract_all(regex, [captureGroups,] source)`: all matches; per match the selected groups
/// (all groups by default, the whole match when the regex has none). One group → an array of
/// strings, several → an array of arrays. No match → null.
pub fn extract_all(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let src_idx = args.len() - 1;
    let text = tostrs(args, src_idx, n)?;
    let mut pats = Patterns::new(args, 0, n)?;
    let groups = if args.len() == 3 {
        Some(strs(args, 1, n)?)
    } else {
        None
    };
    Ok(json_result((0..n).map(|i| {
        let t = str_at(&text, i);
        let re = pats.get(i)?;
        let selected: Vec<GroupRef> = match &groups {
            Some(g) => match dyn_at(g, i) {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(GroupRef::Name(s.clone())),
                        v => super::fnargs::json_i64(v)
                            .and_then(|x| usize::try_from(x).ok())
                            .map(GroupRef::Index),
                    })
                    .collect(),
                _ => return None,
            },
            None => {
                let k = re.captures_len().saturating_sub(1);
                if k == 0 {
                    vec![GroupRef::Index(0)]
                } else {
                    (1..=k).map(GroupRef::Index).collect()
                }
            }
        };
        if selected.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        for caps in re.captures_iter(t) {
            let vals: Vec<Value> = selected
                .iter()
                .map(|g| {
                    let m = match g {
                        GroupRef::Index(k) => caps.get(*k),
                        GroupRef::Name(s) => caps.name(s),
                    };
                    Value::String(m.map_or("", |m| m.as_str()).to_string())
                })
                .collect();
            if vals.len() == 1 {
                out.extend(vals);
            } else {
                out.push(Value::Array(vals));
            }
        }
        (!out.is_empty()).then_some(Value::Array(out))
    })))
}

enum GroupRef {
    Index(usize),
    Name(String),
}

/// Whole-term, case-insensitive containment (`has`).
fn has_term(hay: &str, needle: &str) -> bool {
    let hay = hay.to_lowercase();
    let needle = needle.to_lowercase();
    if needle.is_empty() {
        return false;
    }
    let alnum = |c: char| c.is_alphanumeric();
    let need_start = needle.chars().next().is_some_and(alnum);
    let need_end = needle.chars().next_back().is_some_and(alnum);
    hay.match_indices(&needle).any(|(s, m)| {
        let e = s + m.len();
        (!need_start || hay[..s].chars().next_back().is_none_or(|c| !alnum(c)))
            && (!need_end || hay[e..].chars().next().is_none_or(|c| !alnum(c)))
    })
}

/// `has_any_index(source, lookups)`: the index of the first lookup that `source` has (as a
/// whole term, case-insensitively), -1 if none.
pub fn has_any_index(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let text = tostrs(args, 0, n)?;
    let looks = strs(args, 1, n)?;
    let out: Int64Array = (0..n)
        .map(|i| {
            let t = str_at(&text, i);
            let items = array_at(&looks, i)?;
            let pos = items.iter().position(|v| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => return false,
                    other => super::dynamic::json_text(other),
                };
                has_term(t, &s)
            });
            Some(pos.and_then(|p| i64::try_from(p).ok()).unwrap_or(-1))
        })
        .collect();
    Ok(Arc::new(out))
}

fn map_strings(
    args: &[ColumnarValue],
    rows: usize,
    f: impl Fn(&str) -> Option<String>,
) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    Ok(string_result((0..a.len()).map(|i| f(str_at(&a, i)))))
}

/// `punycode_from_string(s)`: the Punycode encoding (RFC 3492) of `s`.
pub fn punycode_from_string(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    map_strings(args, rows, idna::punycode::encode_str)
}

/// `punycode_to_string(s)`: the decoded Punycode string ("" when invalid).
pub fn punycode_to_string(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    map_strings(args, rows, idna::punycode::decode_to_string)
}

/// `punycode_domain_from_string(domain)`: decodes each `xn--` label of a domain.
pub fn punycode_domain_from_string(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    map_strings(args, rows, |d| {
        d.split('.')
            .map(|label| match label.get(..4) {
                Some(p) if p.eq_ignore_ascii_case("xn--") => {
                    idna::punycode::decode_to_string(&label[4..])
                }
                _ => Some(label.to_string()),
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join("."))
    })
}

/// `punycode_domain_to_string(domain)`: encodes each non-ASCII label as `xn--...`.
pub fn punycode_domain_to_string(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    map_strings(args, rows, |d| {
        d.split('.')
            .map(|label| {
                if label.is_ascii() {
                    Some(label.to_string())
                } else {
                    idna::punycode::encode_str(label).map(|e| format!("xn--{e}"))
                }
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join("."))
    })
}

const BYTE_UNITS: [&str; 7] = ["Bytes", "KB", "MB", "GB", "TB", "PB", "EB"];

/// `format_bytes(size [, precision [, units [, base]]])`: `564 Bytes`, `10.1 KB`, `19 MB`.
pub fn format_bytes(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let size = f64s(args, 0, n)?;
    let prec = i64s(args, 1, n)?;
    let units = strs(args, 2, n)?;
    let base = i64s(args, 3, n)?;
    Ok(string_result((0..n).map(|i| {
        if size.is_null(i) {
            return None;
        }
        let v = size.value(i);
        let p = if prec.is_null(i) {
            0
        } else {
            prec.value(i).clamp(0, 15)
        };
        let b = if base.is_null(i) { 1024 } else { base.value(i) };
        let b = if b == 1000 { 1000.0 } else { 1024.0 };
        let wanted = str_at(&units, i).trim();
        let unit = match BYTE_UNITS.iter().position(|u| {
            u.eq_ignore_ascii_case(wanted) || (wanted.eq_ignore_ascii_case("B") && *u == "Bytes")
        }) {
            Some(u) => u,
            None => {
                let mut u = 0;
                let mut x = v.abs();
                while x >= b && u + 1 < BYTE_UNITS.len() {
                    x /= b;
                    u += 1;
                }
                u
            }
        };
        let scaled = v / b.powi(i32::try_from(unit).unwrap_or(0));
        let p = usize::try_from(p).unwrap_or(0);
        Some(format!("{scaled:.p$} {}", BYTE_UNITS[unit]))
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{Int32Type, Int64Type};
    use datafusion::common::ScalarValue;

    fn s(v: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(v.into())))
    }
    fn l(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }
    type K = fn(&[ColumnarValue], usize) -> Result<ArrayRef>;
    fn text(f: K, args: &[ColumnarValue]) -> String {
        let out = f(args, 1).unwrap();
        let a = out.as_string::<i32>();
        if a.is_null(0) {
            "null".into()
        } else {
            a.value(0).to_string()
        }
    }
    fn long(f: K, args: &[ColumnarValue]) -> Option<i64> {
        let out = f(args, 1).unwrap();
        let a = out.as_primitive::<Int64Type>();
        (!a.is_null(0)).then(|| a.value(0))
    }

    #[test]
    fn replace_with_groups() {
        // Docs: replace_regex(str, @'is (\d+)', @'was: \1').
        assert_eq!(
            text(
                replace_regex,
                &[s("Number is 1"), s(r"is (\d+)"), s(r"was: \1")]
            ),
            "Number was: 1"
        );
        assert_eq!(
            text(replace_deprecated, &[s("a"), s("$b"), s("xax")]),
            "x$bx"
        );
        let col = ColumnarValue::Array(Arc::new(StringArray::from(vec!["a1", "b22"])));
        let out = replace_regex(&[col, s(r"\d"), s("#")], 2).unwrap();
        assert_eq!(out.as_string::<i32>().value(1), "b##");
        assert!(replace_regex(&[s("x"), s("("), s("")], 1).is_err());
    }

    #[test]
    fn countof_docs() {
        assert_eq!(long(countof, &[s("aaa"), s("a")]), Some(3));
        assert_eq!(long(countof, &[s("aaaa"), s("aa")]), Some(3));
        assert_eq!(long(countof, &[s("ababa"), s("ab"), s("normal")]), Some(2));
        assert_eq!(long(countof, &[s("ababa"), s("aba")]), Some(2));
        assert_eq!(long(countof, &[s("ababa"), s("aba"), s("regex")]), Some(1));
        assert_eq!(long(countof, &[s("abcabc"), s("a.c"), s("regex")]), Some(2));
    }

    #[test]
    fn indexof_docs() {
        let abc = || s("abcdefg");
        assert_eq!(long(indexof, &[abc(), s("cde")]), Some(2));
        assert_eq!(long(indexof, &[abc(), s("cde"), l(1), l(4)]), Some(2));
        assert_eq!(long(indexof, &[abc(), s("cde"), l(1), l(2)]), Some(-1));
        assert_eq!(long(indexof, &[abc(), s("cde"), l(3), l(4)]), Some(-1));
        assert_eq!(long(indexof, &[abc(), s("cde"), l(-5)]), Some(2));
        assert_eq!(long(indexof, &[l(1234567), l(5), l(1), l(4)]), Some(4));
        assert_eq!(long(indexof, &[abc(), s("cde"), l(2), l(-1)]), Some(2));
        let two = || s("abcdefgabcdefg");
        assert_eq!(
            long(indexof, &[two(), s("cde"), l(1), l(10), l(2)]),
            Some(9)
        );
        assert_eq!(
            long(indexof, &[two(), s("cde"), l(1), l(-1), l(3)]),
            Some(-1)
        );
        assert_eq!(long(indexof, &[abc(), s("cde"), l(1), l(-2)]), None);
        assert_eq!(long(indexof_regex, &[s("abcabc"), s("a.c")]), Some(0));
        assert_eq!(long(indexof_regex, &[s("abcabc"), s("a.c"), l(1)]), Some(3));
        assert_eq!(
            long(indexof_regex, &[s("abcabc"), s("a.c"), l(0), l(-1), l(2)]),
            Some(3)
        );
        assert_eq!(long(indexof_regex, &[s("abcabc"), s("x")]), Some(-1));
    }

    #[test]
    fn small_string_functions() {
        assert_eq!(long(string_size, &[s("hello")]), Some(5));
        assert_eq!(long(string_size, &[s("⒦⒰⒮⒯⒪")]), Some(15));
        assert_eq!(text(translate, &[s("abc"), s("x"), s("abc")]), "xxx");
        assert_eq!(text(translate, &[s("abc"), s(""), s("ab")]), "");
        assert_eq!(
            text(translate, &[s("krasp"), s("otsku"), s("spark")]),
            "kusto"
        );
        assert_eq!(text(reverse, &[s("ABC")]), "CBA");
        assert_eq!(text(reverse, &[l(12345)]), "54321");
        assert_eq!(
            text(
                reverse,
                &[ColumnarValue::Scalar(ScalarValue::Float64(Some(123.45)))]
            ),
            "54.321"
        );
        let dt = ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(
            Some(1_508_068_800_000_000_000),
            Some("UTC".into()),
        ));
        assert_eq!(text(reverse, &[dt]), "Z0000000.00:00:21T51-01-7102");
        let three_h =
            ColumnarValue::Scalar(ScalarValue::DurationNanosecond(Some(3 * 3_600_000_000_000)));
        assert_eq!(text(reverse, &[three_h]), "00:00:30");
        assert_eq!(text(strrep, &[s("ABC"), l(2)]), "ABCABC");
        assert_eq!(text(strrep, &[l(123), l(3), s(".")]), "123.123.123");
        let three_s = ColumnarValue::Scalar(ScalarValue::DurationNanosecond(Some(3_000_000_000)));
        assert_eq!(text(strrep, &[three_s, l(2), s(" ")]), "00:00:03 00:00:03");
        let cmp = |a: &str, b: &str| {
            strcmp(&[s(a), s(b)], 1)
                .unwrap()
                .as_primitive::<Int32Type>()
                .value(0)
        };
        assert_eq!(
            (
                cmp("ABC", "ABC"),
                cmp("abc", "ABC"),
                cmp("ABC", "abc"),
                cmp("abcde", "abc")
            ),
            (0, 1, -1, 1)
        );
        assert!(
            isascii(&[s("some string")], 1)
                .unwrap()
                .as_boolean()
                .value(0)
        );
        assert!(!isascii(&[s("é")], 1).unwrap().as_boolean().value(0));
        assert_eq!(
            text(regex_quote, &[s("(so$me.Te^xt)")]),
            r"\(so\$me\.Te\^xt\)"
        );
    }

    #[test]
    fn codepoints() {
        assert_eq!(
            text(codepoints_from_string, &[s("⒦⒰⒮⒯⒪")]),
            "[9382,9392,9390,9391,9386]"
        );
        assert_eq!(
            text(
                codepoints_to_string,
                &[l(75), l(117), l(115), l(116), l(111)]
            ),
            "Kusto"
        );
        assert_eq!(
            text(codepoints_to_string, &[s("[75,117,115]"), l(116), l(111)]),
            "Kusto"
        );
    }

    #[test]
    fn replace_strings_docs() {
        let msg = || s("A magic trick can turn a cat into a dog");
        assert_eq!(
            text(
                replace_strings,
                &[msg(), s(r#"["cat","dog"]"#), s(r#"["dog","pigeon"]"#)]
            ),
            "A magic trick can turn a dog into a pigeon"
        );
        assert_eq!(
            text(
                replace_strings,
                &[
                    msg(),
                    s(r#"["turn"," into a dog"]"#),
                    s(r#"["disappear",""]"#)
                ]
            ),
            "A magic trick can disappear a cat"
        );
        let m = || s("This is an example of using replace_strings()");
        assert_eq!(
            text(
                replace_strings,
                &[m(), s(r#"["This","is"]"#), s(r#"["This","was"]"#)]
            ),
            "This was an example of using replace_strings()"
        );
        assert_eq!(
            text(
                replace_strings,
                &[m(), s(r#"["is","This"]"#), s(r#"["was","This"]"#)]
            ),
            "Thwas was an example of using replace_strings()"
        );
    }

    #[test]
    fn extract_all_docs() {
        let id = || s("82b8be2d-dfa7-4bd1-8f63-24ad26d31449");
        assert_eq!(
            text(extract_all, &[s(r"([\da-f]{2})"), id()]),
            r#"["82","b8","be","2d","df","a7","4b","d1","8f","63","24","ad","26","d3","14","49"]"#
        );
        assert_eq!(
            text(extract_all, &[s(r"(\w)(\w+)(\w)"), s("[1,3]"), id()]),
            r#"[["8","d"],["d","7"],["4","1"],["8","3"],["2","9"]]"#
        );
        assert_eq!(
            text(
                extract_all,
                &[
                    s(r"(?P<first>\w)(?P<middle>\w+)(?P<last>\w)"),
                    s(r#"["first",2,"last"]"#),
                    id()
                ]
            ),
            r#"[["8","2b8be2","d"],["d","fa","7"],["4","bd","1"],["8","f6","3"],["2","4ad26d3144","9"]]"#
        );
        assert_eq!(
            text(
                extract_all,
                &[s(r"(\d+)"), s("a set of numbers: 123, 567 and 789")]
            ),
            r#"["123","567","789"]"#
        );
        assert_eq!(text(extract_all, &[s(r"(\d+)"), s("none")]), "null");
    }

    #[test]
    fn has_any_index_docs() {
        let t = || s("this is an example");
        assert_eq!(
            long(has_any_index, &[t(), s(r#"["this","example"]"#)]),
            Some(0)
        );
        assert_eq!(
            long(has_any_index, &[t(), s(r#"["not","example"]"#)]),
            Some(1)
        );
        assert_eq!(
            long(has_any_index, &[t(), s(r#"["not","found"]"#)]),
            Some(-1)
        );
        assert_eq!(
            long(has_any_index, &[s("Example number 2"), s("[1,2,3]")]),
            Some(1)
        );
        assert_eq!(long(has_any_index, &[t(), s("[]")]), Some(-1));
    }

    #[test]
    fn punycode_docs() {
        assert_eq!(
            text(punycode_from_string, &[s("académie-française")]),
            "acadmie-franaise-npb1a"
        );
        assert_eq!(text(punycode_from_string, &[s("艺术")]), "cqv902d");
        assert_eq!(
            text(punycode_to_string, &[s("acadmie-franaise-npb1a")]),
            "académie-française"
        );
        assert_eq!(
            text(
                punycode_domain_from_string,
                &[s("xn--Ry-lja8c.xn--Jng-uta63a.xn--Bng-9ka.com")]
            ),
            "Rúyì.Jīngū.Bàng.com"
        );
        assert_eq!(
            text(punycode_domain_to_string, &[s("艺术.com")]),
            "xn--cqv902d.com"
        );
    }

    #[test]
    fn format_bytes_docs() {
        assert_eq!(text(format_bytes, &[l(564)]), "564 Bytes");
        assert_eq!(text(format_bytes, &[l(10332), l(1)]), "10.1 KB");
        assert_eq!(text(format_bytes, &[l(20010332)]), "19 MB");
        assert_eq!(text(format_bytes, &[l(20010332), l(2)]), "19.08 MB");
        assert_eq!(
            text(format_bytes, &[l(20010332), l(0), s("KB")]),
            "19541 KB"
        );
    }
}
