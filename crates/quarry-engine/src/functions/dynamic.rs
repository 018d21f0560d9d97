//! Kernels over `dynamic` values, stored as compact JSON text in Utf8 (SQL null = dynamic null).
//!
//! JSON this module writes is compact, keeps object property order, and prints non-integer
//! numbers (reals) the way Kusto does (`118.0` → `118`, `1.5`, `1E+21`; see
//! [`crate::format::format_real`]): `parse_json('{"value":118.0}')` shows `{"value":118}`.

use super::udf::{arg_array, arg_scalar, scalar_str, string_array};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, Expr};
use quarry_sources::types::kql_type_of_arrow;
use serde_json::Value;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// JSON text helpers
// ---------------------------------------------------------------------------------------------

/// Appends `s` as a JSON string literal.
pub fn write_json_str(s: &str, out: &mut String) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends the compact JSON text of a value (reals in Kusto's number format).
pub fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.push_str(&n.to_string());
            } else {
                match n.as_f64() {
                    Some(x) if x.is_finite() => out.push_str(&crate::format::format_real(x)),
                    _ => out.push_str(&n.to_string()),
                }
            }
        }
        Value::String(s) => write_json_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(x, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, x)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_str(k, out);
                out.push(':');
                write_json(x, out);
            }
            out.push('}');
        }
    }
}

/// The compact JSON text of a value.
pub fn json_text(v: &Value) -> String {
    let mut s = String::new();
    write_json(v, &mut s);
    s
}

/// Parses stored dynamic text; text that is not JSON is taken as a JSON string (the way
/// [`crate::format`] shows it).
pub fn parse_dynamic(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// Kusto's `tostring()` of one dynamic value: a JSON string gives its content, `null` gives
/// `""`, anything else its compact JSON text.
pub fn dynamic_to_text(text: &str) -> String {
    let t = text.trim();
    if t.starts_with('"') {
        if let Ok(s) = serde_json::from_str::<String>(t) {
            return s;
        }
        return text.to_string();
    }
    match t {
        "null" | "" => String::new(),
        "true" | "false" => t.to_string(),
        _ => match serde_json::from_str::<Value>(t) {
            Ok(Value::Null) => String::new(),
            Ok(v) => json_text(&v),
            Err(_) => text.to_string(),
        },
    }
}

/// An Arrow string-like argument as owned-by-array Utf8 (any string encoding).
fn strings(args: &[ColumnarValue], i: usize, rows: usize) -> Result<StringArray> {
    string_array(args, i, rows)
}

fn opt_str(a: &StringArray, i: usize) -> Option<&str> {
    (!a.is_null(i)).then(|| a.value(i))
}

// ---------------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------------

/// An index / property key.
enum Key<'a> {
    Name(&'a str),
    Index(i64),
    None,
}

fn lookup<'v>(obj: &'v Value, key: &Key) -> Option<&'v Value> {
    match (obj, key) {
        (Value::Object(m), Key::Name(k)) => m.get(*k).or_else(|| {
            // A dynamic key arrives as JSON text: `"name"`.
            let k = k.trim();
            if k.starts_with('"') {
                serde_json::from_str::<String>(k)
                    .ok()
                    .and_then(|k| m.get(k.as_str()))
            } else {
                None
            }
        }),
        (Value::Array(a), Key::Name(k)) => index(a, k.trim().parse::<i64>().ok()?),
        (Value::Array(a), Key::Index(i)) => index(a, *i),
        _ => None,
    }
}

/// Element `i` of an array, negative counting from the end.
fn index(a: &[Value], i: i64) -> Option<&Value> {
    let len = i64::try_from(a.len()).ok()?;
    let i = if i < 0 { len.checked_add(i)? } else { i };
    a.get(usize::try_from(i).ok()?)
}

/// Keys of `get` as one per row.
enum Keys {
    Str(StringArray),
    Int(Int64Array),
    None,
}

impl Keys {
    fn new(args: &[ColumnarValue], rows: usize) -> Result<Keys> {
        let a = arg_array(args, 1, rows)?;
        Ok(match a.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Keys::Str(strings(args, 1, rows)?)
            }
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float32
            | DataType::Float64 => {
                // Reals index only when whole; the cast truncates, so check first.
                let ints = datafusion::arrow::compute::cast(&a, &DataType::Int64)?;
                let ints = ints.as_primitive::<Int64Type>();
                let whole: Int64Array =
                    if matches!(a.data_type(), DataType::Float32 | DataType::Float64) {
                        let f = datafusion::arrow::compute::cast(&a, &DataType::Float64)?;
                        let f = f.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
                        f.iter()
                            .zip(ints.iter())
                            .map(|(f, i)| f.filter(|f| f.fract() == 0.0).and(i))
                            .collect()
                    } else {
                        ints.clone()
                    };
                Keys::Int(whole)
            }
            _ => Keys::None,
        })
    }
    fn get(&self, row: usize) -> Key<'_> {
        match self {
            Keys::Str(a) => opt_str(a, row).map_or(Key::None, Key::Name),
            Keys::Int(a) => {
                if a.is_null(row) {
                    Key::None
                } else {
                    Key::Index(a.value(row))
                }
            }
            Keys::None => Key::None,
        }
    }
}

/// `obj.key` / `obj[key]`: a property (string key) or an array element (integer key, negative
/// from the end). Missing, a JSON null, or an `obj` that is not JSON gives null.
pub fn get(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let keys = Keys::new(args, rows)?;
    let mut out = StringBuilder::new();
    // A constant object is parsed once.
    if let Some(s) = arg_scalar(args, 0) {
        let obj = scalar_str(s).and_then(|t| serde_json::from_str::<Value>(t).ok());
        for row in 0..rows {
            match obj.as_ref().and_then(|o| lookup(o, &keys.get(row))) {
                Some(Value::Null) | None => out.append_null(),
                Some(v) => out.append_value(json_text(v)),
            }
        }
        return Ok(Arc::new(out.finish()));
    }
    let objs = strings(args, 0, rows)?;
    for row in 0..objs.len() {
        let v = opt_str(&objs, row)
            .filter(|t| t.trim_start().starts_with(['{', '[']))
            .and_then(|t| serde_json::from_str::<Value>(t).ok());
        match v.as_ref().and_then(|o| lookup(o, &keys.get(row))) {
            Some(Value::Null) | None => out.append_null(),
            Some(v) => out.append_value(json_text(v)),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `tostring(dynamic)`: a JSON string's content, other values as compact JSON, null → `""`.
pub fn to_string_kernel(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strings(args, 0, rows)?;
    let out: StringArray = (0..a.len())
        .map(|i| Some(opt_str(&a, i).map(dynamic_to_text).unwrap_or_default()))
        .collect();
    Ok(Arc::new(out))
}

fn split_one(s: &str, delim: &str, index: Option<i64>) -> String {
    let parts: Vec<&str> = if delim.is_empty() {
        vec![s]
    } else {
        s.split(delim).collect()
    };
    let mut out = String::from("[");
    match index {
        None => {
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_str(p, &mut out);
            }
        }
        Some(i) => {
            if let Some(p) = usize::try_from(i).ok().and_then(|i| parts.get(i)) {
                write_json_str(p, &mut out);
            }
        }
    }
    out.push(']');
    out
}

/// `split(s, delimiter, [index])` → a dynamic array of strings (`split("", "_")` = `[""]`);
/// with an index, the array holding only that element (`[]` when out of range). A null index
/// gives null.
pub fn split(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let s = strings(args, 0, rows)?;
    let d = strings(args, 1, s.len())?;
    let idx = if args.len() > 2 {
        let a = arg_array(args, 2, s.len())?;
        let a = datafusion::arrow::compute::cast(&a, &DataType::Int64)?;
        Some(a.as_primitive::<Int64Type>().clone())
    } else {
        None
    };
    let out: StringArray = (0..s.len())
        .map(|i| {
            let index = match &idx {
                Some(a) if a.is_null(i) => return None,
                Some(a) => Some(a.value(i)),
                None => None,
            };
            Some(split_one(
                opt_str(&s, i).unwrap_or(""),
                opt_str(&d, i).unwrap_or(""),
                index,
            ))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `parse_json(string)`: JSON text → its compact form; other text → that text as a JSON
/// string; `""` or null → null.
pub fn parse_json(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strings(args, 0, rows)?;
    let out: StringArray = (0..a.len())
        .map(|i| {
            let t = opt_str(&a, i)?;
            if t.trim().is_empty() {
                return None;
            }
            match serde_json::from_str::<Value>(t) {
                Ok(Value::Null) => None,
                Ok(v) => Some(json_text(&v)),
                Err(_) => {
                    let mut s = String::new();
                    write_json_str(t, &mut s);
                    Some(s)
                }
            }
        })
        .collect();
    Ok(Arc::new(out))
}

/// `array_length(dynamic) -> long`: null when the value is not an array.
pub fn array_length(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strings(args, 0, rows)?;
    let out: Int64Array = (0..a.len())
        .map(|i| {
            let t = opt_str(&a, i)?;
            if !t.trim_start().starts_with('[') {
                return None;
            }
            match serde_json::from_str::<Value>(t) {
                Ok(Value::Array(v)) => i64::try_from(v.len()).ok(),
                _ => None,
            }
        })
        .collect();
    Ok(Arc::new(out))
}

/// `pack_array(d1, d2, ...)`: the (dynamic) arguments as one JSON array; null → `null`.
pub fn pack_array(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let cols = (0..args.len())
        .map(|i| strings(args, i, rows))
        .collect::<Result<Vec<_>>>()?;
    let n = cols.first().map_or(rows, |c| c.len());
    let out: StringArray = (0..n)
        .map(|row| {
            let mut s = String::from("[");
            for (i, c) in cols.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                match opt_str(c, row) {
                    None => s.push_str("null"),
                    Some(t) => write_json(&parse_dynamic(t), &mut s),
                }
            }
            s.push(']');
            Some(s)
        })
        .collect();
    Ok(Arc::new(out))
}

/// The kernel behind [`to_dynamic_expr`]: any Arrow value → its dynamic JSON text. Numbers
/// are JSON numbers, bools JSON bools, strings/guids JSON strings, datetimes and timespans
/// JSON strings of their Kusto text (`"2024-03-01T10:00:00Z"`, `"00:00:02"`), nested Arrow
/// values JSON arrays/objects. Null stays null (dynamic null).
pub fn to_dynamic(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = arg_array(args, 0, rows)?;
    let ty = kql_type_of_arrow(a.data_type());
    if a.data_type() == &DataType::Null {
        return Ok(Arc::new(StringArray::new_null(a.len())));
    }
    let out: StringArray = (0..a.len())
        .map(|i| {
            if a.is_null(i) {
                return None;
            }
            match crate::format::cell_json(&a, i, ty) {
                Value::Null => None,
                v => Some(json_text(&v)),
            }
        })
        .collect();
    Ok(Arc::new(out))
}

/// Wraps a typed expression (any KQL type but dynamic) into its dynamic JSON text.
pub fn to_dynamic_expr(e: Expr) -> Expr {
    super::udf::call("todynamic", DataType::Utf8, to_dynamic, vec![e])
}

/// Elements of one list row as JSON values (null elements skipped).
fn list_values(list: &ArrayRef, row: usize) -> Result<Vec<Value>> {
    let items: ArrayRef = match list.data_type() {
        DataType::List(_) => list.as_list::<i32>().value(row),
        DataType::LargeList(_) => list.as_list::<i64>().value(row),
        DataType::Null => return Ok(vec![]),
        other => return exec_err!("make_list: expected a list, got {other}"),
    };
    let items = match items.data_type() {
        DataType::Utf8 => items,
        _ => datafusion::arrow::compute::cast(&items, &DataType::Utf8)?,
    };
    let items = items.as_string::<i32>();
    Ok(items.iter().flatten().map(parse_dynamic).collect())
}

fn lists_to_json(args: &[ColumnarValue], rows: usize, set: bool) -> Result<ArrayRef> {
    let list = arg_array(args, 0, rows)?;
    let out: StringArray = (0..list.len())
        .map(|row| {
            if list.is_null(row) {
                return Ok(Some("[]".to_string()));
            }
            let values = list_values(&list, row)?;
            let mut s = String::from("[");
            let mut seen = std::collections::HashSet::new();
            let mut first = true;
            let mut push = |v: &Value, s: &mut String| {
                let text = json_text(v);
                if set && !seen.insert(text.clone()) {
                    return;
                }
                if !first {
                    s.push(',');
                }
                first = false;
                s.push_str(&text);
            };
            for v in &values {
                match v {
                    // make_set unions array inputs (Kusto docs: make_set(dynamic arrays)).
                    Value::Array(items) if set => {
                        for x in items {
                            push(x, &mut s);
                        }
                    }
                    v => push(v, &mut s),
                }
            }
            s.push(']');
            Ok(Some(s))
        })
        .collect::<Result<StringArray>>()?;
    Ok(Arc::new(out))
}

/// `make_list` finisher: an Arrow `List<Utf8>` of dynamic JSON texts → one JSON array text;
/// a null list (no rows) → `[]`.
pub fn list_to_json(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    lists_to_json(args, rows, false)
}

/// `make_set` finisher: like [`list_to_json`], but array elements are unioned into the set
/// (`make_set(dynamic(['A1','A2']))` over rows gives the distinct elements) and duplicates
/// are dropped, keeping first-seen order.
pub fn set_to_json(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    lists_to_json(args, rows, true)
}

/// `make_bag` finisher: merges the property bags of a `List<Utf8>` of JSON texts into one
/// object; non-object values are ignored; for a key seen twice the first value is kept
/// (Kusto picks an arbitrary one).
pub fn bag_merge_list(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let list = arg_array(args, 0, rows)?;
    let out: StringArray = (0..list.len())
        .map(|row| {
            let mut bag = serde_json::Map::new();
            if !list.is_null(row) {
                for v in list_values(&list, row)? {
                    if let Value::Object(o) = v {
                        for (k, v) in o {
                            bag.entry(k).or_insert(v);
                        }
                    }
                }
            }
            Ok(Some(json_text(&Value::Object(bag))))
        })
        .collect::<Result<StringArray>>()?;
    Ok(Arc::new(out))
}

/// See [`bag_merge_list`].
pub fn bag_merge_list_expr(e: Expr) -> Expr {
    super::udf::call("make_bag_json", DataType::Utf8, bag_merge_list, vec![e])
}

/// See [`list_to_json`].
pub fn list_to_json_expr(e: Expr) -> Expr {
    super::udf::call("make_list_json", DataType::Utf8, list_to_json, vec![e])
}

/// See [`set_to_json`].
pub fn set_to_json_expr(e: Expr) -> Expr {
    super::udf::call("make_set_json", DataType::Utf8, set_to_json, vec![e])
}

/// A constant as a dynamic scalar (for callers that build literals).
pub fn dynamic_scalar(v: &Value) -> ScalarValue {
    match v {
        Value::Null => ScalarValue::Utf8(None),
        v => ScalarValue::Utf8(Some(json_text(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        BooleanArray, DurationNanosecondArray, Float64Array, Int32Array, ListBuilder,
        TimestampNanosecondArray,
    };

    fn s(v: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(v.into())))
    }
    fn null_s() -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(None))
    }
    fn long(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }
    fn col(values: &[Option<&str>]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(StringArray::from(values.to_vec())))
    }
    fn texts(a: &ArrayRef) -> Vec<Option<String>> {
        a.as_string::<i32>()
            .iter()
            .map(|x| x.map(str::to_string))
            .collect()
    }
    fn one(a: Result<ArrayRef>) -> Option<String> {
        a.ok().and_then(|a| texts(&a).into_iter().next().flatten())
    }

    #[test]
    fn get_properties_and_indexes() {
        let obj = r#"{"a":{"b":[10,20,30]},"s":"x","n":null}"#;
        assert_eq!(
            one(get(&[s(obj), s("a")], 1)),
            Some(r#"{"b":[10,20,30]}"#.into())
        );
        assert_eq!(one(get(&[s(obj), s("s")], 1)), Some(r#""x""#.into()));
        assert_eq!(one(get(&[s(obj), s("missing")], 1)), None);
        assert_eq!(one(get(&[s(obj), s("n")], 1)), None);
        assert_eq!(one(get(&[s("[10,20,30]"), long(1)], 1)), Some("20".into()));
        assert_eq!(one(get(&[s("[10,20,30]"), long(-1)], 1)), Some("30".into()));
        assert_eq!(one(get(&[s("[10,20,30]"), long(3)], 1)), None);
        assert_eq!(one(get(&[s("[10,20,30]"), long(-4)], 1)), None);
        assert_eq!(one(get(&[s("not json"), s("a")], 1)), None);
        assert_eq!(one(get(&[null_s(), s("a")], 1)), None);
        // Dynamic key (JSON text of a string).
        assert_eq!(one(get(&[s(obj), s("\"s\"")], 1)), Some(r#""x""#.into()));
        // Columns.
        let out = get(
            &[
                col(&[Some(r#"{"k":1}"#), Some("[1,2]"), None]),
                ColumnarValue::Array(Arc::new(Int32Array::from(vec![0, 1, 0]))),
            ],
            3,
        )
        .map(|a| texts(&a));
        assert_eq!(out.ok(), Some(vec![None, Some("2".into()), None]));
    }

    #[test]
    fn parse_json_follows_the_docs() {
        // docs: parse_json of the duration record; reals print without ".0".
        let src = r#"{"duration":{"value":118.0,"count":5.0,"min":100.0,"max":150.0,"stdDev":0.0,"sampledValue":118.0,"sum":118.0}}"#;
        let d = one(parse_json(&[s(src)], 1));
        assert_eq!(
            d.as_deref(),
            Some(
                r#"{"duration":{"value":118,"count":5,"min":100,"max":150,"stdDev":0,"sampledValue":118,"sum":118}}"#
            )
        );
        let v = one(get(&[s(d.as_deref().unwrap_or("")), s("duration")], 1));
        let v = one(get(&[s(v.as_deref().unwrap_or("")), s("value")], 1));
        assert_eq!(v.as_deref(), Some("118"));
        assert_eq!(
            one(parse_json(&[s(" [1, 2.5, \"a\"] ")], 1)),
            Some(r#"[1,2.5,"a"]"#.into())
        );
        assert_eq!(one(parse_json(&[s("hello")], 1)), Some(r#""hello""#.into()));
        assert_eq!(one(parse_json(&[s("123")], 1)), Some("123".into()));
        assert_eq!(one(parse_json(&[s("")], 1)), None);
        assert_eq!(one(parse_json(&[null_s()], 1)), None);
    }

    #[test]
    fn tostring_of_dynamic() {
        assert_eq!(dynamic_to_text(r#""abc""#), "abc");
        assert_eq!(dynamic_to_text(r#""a\"b""#), "a\"b");
        assert_eq!(dynamic_to_text("null"), "");
        assert_eq!(dynamic_to_text("12"), "12");
        assert_eq!(dynamic_to_text(r#"{ "a" : [1, 2] }"#), r#"{"a":[1,2]}"#);
        assert_eq!(dynamic_to_text("not json"), "not json");
        let out = to_string_kernel(&[col(&[Some(r#""x""#), None])], 2).map(|a| texts(&a));
        assert_eq!(out.ok(), Some(vec![Some("x".into()), Some(String::new())]));
    }

    #[test]
    fn split_follows_the_docs() {
        let sp = |a: &str, d: &str| one(split(&[s(a), s(d)], 1));
        assert_eq!(sp("aa_bb", "_"), Some(r#"["aa","bb"]"#.into()));
        assert_eq!(sp("", "_"), Some(r#"[""]"#.into()));
        assert_eq!(sp("a__b", "_"), Some(r#"["a","","b"]"#.into()));
        assert_eq!(sp("aabbcc", "bb"), Some(r#"["aa","cc"]"#.into()));
        assert_eq!(sp("艺术.com", "."), Some(r#"["艺术","com"]"#.into()));
        assert_eq!(
            one(split(&[s("aaa_bbb_ccc"), s("_"), long(1)], 1)),
            Some(r#"["bbb"]"#.into())
        );
        assert_eq!(
            one(split(&[s("aaa_bbb_ccc"), s("_"), long(5)], 1)),
            Some("[]".into())
        );
        assert_eq!(sp("a\"b", ","), Some(r#"["a\"b"]"#.into()));
    }

    #[test]
    fn array_length_only_for_arrays() {
        let out = array_length(
            &[col(&[
                Some("[1,2,3]"),
                Some("{}"),
                Some("[]"),
                None,
                Some("[x"),
            ])],
            5,
        )
        .map(|a| a.as_primitive::<Int64Type>().iter().collect::<Vec<_>>());
        assert_eq!(out.ok(), Some(vec![Some(3), None, Some(0), None, None]));
    }

    #[test]
    fn pack_array_follows_the_docs() -> Result<()> {
        // docs: pack_array(x, tostring(x*2), (x*2)*1s) → [1,"2","00:00:02"].
        let x = to_dynamic(&[long(1)], 1)?;
        let y = to_dynamic(&[s("2")], 1)?;
        let z = to_dynamic(
            &[ColumnarValue::Scalar(ScalarValue::DurationNanosecond(
                Some(2_000_000_000),
            ))],
            1,
        )?;
        let out = pack_array(
            &[
                ColumnarValue::Array(x),
                ColumnarValue::Array(y),
                ColumnarValue::Array(z),
                null_s(),
            ],
            1,
        );
        assert_eq!(one(out), Some(r#"[1,"2","00:00:02",null]"#.into()));
        Ok(())
    }

    #[test]
    fn to_dynamic_of_each_type() -> Result<()> {
        let cases: Vec<(ArrayRef, Option<&str>)> = vec![
            (Arc::new(Int64Array::from(vec![Some(5)])), Some("5")),
            (Arc::new(Int32Array::from(vec![Some(-5)])), Some("-5")),
            (Arc::new(Float64Array::from(vec![Some(1.5)])), Some("1.5")),
            (Arc::new(Float64Array::from(vec![Some(2.0)])), Some("2")),
            (
                Arc::new(Float64Array::from(vec![Some(f64::NAN)])),
                Some("\"NaN\""),
            ),
            (Arc::new(BooleanArray::from(vec![Some(true)])), Some("true")),
            (
                Arc::new(StringArray::from(vec![Some("a\"b")])),
                Some(r#""a\"b""#),
            ),
            (
                Arc::new(
                    TimestampNanosecondArray::from(vec![Some(1_709_287_200_000_000_000)])
                        .with_timezone("UTC"),
                ),
                Some(r#""2024-03-01T10:00:00Z""#),
            ),
            (
                Arc::new(DurationNanosecondArray::from(vec![Some(3_600_000_000_000)])),
                Some(r#""01:00:00""#),
            ),
            (Arc::new(Int64Array::from(vec![None::<i64>])), None),
        ];
        for (a, want) in cases {
            let out = to_dynamic(&[ColumnarValue::Array(a)], 1)?;
            assert_eq!(texts(&out)[0].as_deref(), want);
        }
        Ok(())
    }

    fn list_col(rows: &[Option<Vec<&str>>]) -> ColumnarValue {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in rows {
            match r {
                Some(items) => {
                    for i in items {
                        b.values().append_value(i);
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        ColumnarValue::Array(Arc::new(b.finish()))
    }

    #[test]
    fn make_list_and_set_finishers() {
        let l = list_col(&[
            Some(vec![r#""triangle""#, r#""square""#]),
            None,
            Some(vec![r#"{"name":"a","n":3}"#]),
        ]);
        let out = list_to_json(&[l], 3).map(|a| texts(&a));
        assert_eq!(
            out.ok(),
            Some(vec![
                Some(r#"["triangle","square"]"#.into()),
                Some("[]".into()),
                Some(r#"[{"name":"a","n":3}]"#.into())
            ])
        );
        // docs make_set: arrays are unioned.
        let l = list_col(&[Some(vec![
            r#"["A1","A2","A3"]"#,
            r#"["A2","C1"]"#,
            r#"["C2","A3"]"#,
            r#"["C2","A1"]"#,
        ])]);
        assert_eq!(
            one(set_to_json(&[l], 1)),
            Some(r#"["A1","A2","A3","C1","C2"]"#.into())
        );
        let l = list_col(&[Some(vec!["1", "5", "7", "5"])]);
        assert_eq!(one(set_to_json(&[l], 1)), Some("[1,5,7]".into()));
    }
}
