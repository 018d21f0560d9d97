//! Argument and result helpers shared by the scalar function families (`text`, `math`, `ip`,
//! `bags`, `encoding`, `parsing`, `timefns`).
//!
//! KQL values arrive as Arrow arrays (see `quarry_sources::types`): strings and dynamic values
//! are both Utf8 (dynamic holds compact JSON text), so a kernel decides from the *parameter*
//! how to read a Utf8 argument: [`str_at`] for `string` parameters (null → `""`), [`dyn_at`]
//! for `dynamic` parameters (JSON text), [`value_at`] for "any scalar or dynamic" parameters.

use super::dynamic::{json_text, parse_dynamic};
use super::udf::{arg_array, string_array};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use quarry_sources::types::kql_type_of_arrow;
use serde_json::Value;
use std::sync::Arc;

/// The batch length: the first array argument's length, else `rows`.
pub fn batch_len(args: &[ColumnarValue], rows: usize) -> usize {
    args.iter()
        .find_map(|a| match a {
            ColumnarValue::Array(a) => Some(a.len()),
            ColumnarValue::Scalar(_) => None,
        })
        .unwrap_or(rows)
}

/// A string argument as Utf8 (other types are cast to their text; missing → all null).
pub fn strs(args: &[ColumnarValue], i: usize, rows: usize) -> Result<StringArray> {
    if args.get(i).is_none() {
        return Ok(StringArray::new_null(rows));
    }
    string_array(args, i, rows)
}

/// A string argument converted with Kusto's `tostring()` (numbers, datetimes, timespans,
/// bools in their Kusto text; null → `""`).
pub fn tostrs(args: &[ColumnarValue], i: usize, rows: usize) -> Result<StringArray> {
    let a = arg_array(args, i, rows)?;
    if matches!(
        a.data_type(),
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
    ) {
        return string_array(args, i, rows);
    }
    let one = [ColumnarValue::Array(a)];
    let t = super::convert::to_string(&one, rows)?;
    Ok(t.as_string::<i32>().clone())
}

/// The string at `i` (null → `""`).
pub fn str_at(a: &StringArray, i: usize) -> &str {
    if a.is_null(i) { "" } else { a.value(i) }
}

/// The text at `i`, or `None` for null.
pub fn opt_at(a: &StringArray, i: usize) -> Option<&str> {
    (!a.is_null(i)).then(|| a.value(i))
}

/// The dynamic value at `i` of a Utf8 array holding JSON text (null → `None`).
pub fn dyn_at(a: &StringArray, i: usize) -> Option<Value> {
    if a.is_null(i) {
        return None;
    }
    match parse_dynamic(a.value(i)) {
        Value::Null => None,
        v => Some(v),
    }
}

/// The dynamic array at `i`, or `None` when the value is not an array.
pub fn array_at(a: &StringArray, i: usize) -> Option<Vec<Value>> {
    match dyn_at(a, i)? {
        Value::Array(v) => Some(v),
        _ => None,
    }
}

/// How a Utf8 argument of an "any value" parameter is read: text that is a JSON object,
/// array or string literal is taken as that dynamic value, anything else as a string.
///
/// The Arrow type cannot tell a `string` column from a `dynamic` one, so a string that reads
/// as a number (`"50"`) stays a string (Kusto: `bag_pack("n", "50")` is `{"n":"50"}`), at the
/// price of a dynamic number arriving as text being taken as a string too.
pub fn utf8_value(text: &str) -> Value {
    let t = text.trim_start();
    if (t.starts_with('{') || t.starts_with('[') || t.starts_with('"'))
        && let Ok(v) = serde_json::from_str::<Value>(text)
    {
        return v;
    }
    Value::String(text.to_string())
}

/// One argument of an "any value" parameter, evaluated to JSON values per row.
pub struct Values {
    array: ArrayRef,
}

impl Values {
    pub fn new(args: &[ColumnarValue], i: usize, rows: usize) -> Result<Self> {
        Ok(Values {
            array: arg_array(args, i, rows)?,
        })
    }
    /// The value at row `i` as JSON (`Value::Null` for null).
    pub fn get(&self, i: usize) -> Value {
        let a = &self.array;
        if i >= a.len() || a.is_null(i) {
            return Value::Null;
        }
        match a.data_type() {
            DataType::Utf8 => utf8_value(a.as_string::<i32>().value(i)),
            DataType::Null => Value::Null,
            dt => crate::format::cell_json(a, i, kql_type_of_arrow(dt)),
        }
    }
    pub fn is_string(&self) -> bool {
        matches!(
            self.array.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        )
    }
    pub fn data_type(&self) -> &DataType {
        self.array.data_type()
    }
}

/// A numeric argument as Float64 (ints, strings and dynamic numbers are cast; missing → null).
pub fn f64s(args: &[ColumnarValue], i: usize, rows: usize) -> Result<Float64Array> {
    if args.get(i).is_none() {
        return Ok(Float64Array::new_null(rows));
    }
    let a = arg_array(args, i, rows)?;
    let a = match a.data_type() {
        DataType::Float64 => a,
        DataType::Duration(_) | DataType::Timestamp(..) => {
            let l = datafusion::arrow::compute::cast(&a, &DataType::Int64)?;
            datafusion::arrow::compute::cast(&l, &DataType::Float64)?
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = string_array(args, i, rows)?;
            let v: Float64Array = s
                .iter()
                .map(|t| t.and_then(|t| json_number(&parse_dynamic(t))))
                .collect();
            Arc::new(v)
        }
        _ => datafusion::arrow::compute::cast(&a, &DataType::Float64)?,
    };
    Ok(a.as_primitive::<Float64Type>().clone())
}

/// A numeric argument as Int64 (reals truncated; missing → null).
pub fn i64s(args: &[ColumnarValue], i: usize, rows: usize) -> Result<Int64Array> {
    if args.get(i).is_none() {
        return Ok(Int64Array::new_null(rows));
    }
    let a = arg_array(args, i, rows)?;
    let a = match a.data_type() {
        DataType::Int64 => a,
        DataType::Float64 | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let f = f64s(args, i, rows)?;
            let v: Int64Array = f.iter().map(|x| x.and_then(f64_to_i64)).collect();
            Arc::new(v)
        }
        _ => datafusion::arrow::compute::cast(&a, &DataType::Int64)?,
    };
    Ok(a.as_primitive::<Int64Type>().clone())
}

/// A bool argument (missing → null).
pub fn bools(args: &[ColumnarValue], i: usize, rows: usize) -> Result<BooleanArray> {
    if args.get(i).is_none() {
        return Ok(BooleanArray::new_null(rows));
    }
    let a = arg_array(args, i, rows)?;
    let a = match a.data_type() {
        DataType::Boolean => a,
        DataType::Utf8 => {
            let s = a.as_string::<i32>();
            let v: BooleanArray = s
                .iter()
                .map(|t| match t.map(parse_dynamic) {
                    Some(Value::Bool(b)) => Some(b),
                    Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
                    Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
                    _ => None,
                })
                .collect();
            Arc::new(v)
        }
        _ => datafusion::arrow::compute::cast(&a, &DataType::Boolean)?,
    };
    Ok(a.as_boolean().clone())
}

/// Truncates a real to a long (None when out of range or not finite).
pub fn f64_to_i64(x: f64) -> Option<i64> {
    let t = x.trunc();
    if t.is_finite() && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t) {
        // In range: the cast is exact for integral values.
        Some(t as i64)
    } else {
        None
    }
}

/// A JSON number (or numeric string) as f64.
pub fn json_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// A JSON number as i64 (integral values only; reals are truncated).
pub fn json_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(f64_to_i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// Equality of dynamic values as Kusto compares them: numbers by value (`1 == 1.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(p), Some(q)) => p == q,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        _ => a == b,
    }
}

/// A canonical key for distinct-value bookkeeping (numbers by value).
pub fn json_key(v: &Value) -> String {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 9e15 => format!("{}", x as i64),
            _ => json_text(v),
        },
        _ => json_text(v),
    }
}

/// A JSON array/object result column: `None` → dynamic null.
pub fn json_result(values: impl IntoIterator<Item = Option<Value>>) -> ArrayRef {
    let out: StringArray = values
        .into_iter()
        .map(|v| match v {
            None | Some(Value::Null) => None,
            Some(v) => Some(json_text(&v)),
        })
        .collect();
    Arc::new(out)
}

/// A string result column (never null: `None` → `""`).
pub fn string_result<S: AsRef<str>>(values: impl IntoIterator<Item = Option<S>>) -> ArrayRef {
    let out: StringArray = values
        .into_iter()
        .map(|v| Some(v.as_ref().map_or("", |s| s.as_ref()).to_string()))
        .collect();
    Arc::new(out)
}

/// A guid result column (null stays null: guids are nullable in Kusto).
pub fn guid_result(values: impl IntoIterator<Item = Option<String>>) -> ArrayRef {
    let out: StringArray = values.into_iter().collect();
    Arc::new(out)
}

/// Reads a JSON path (`$.a.b`, `$['a'][0]`, `a.b`, `$.a[-1]`) into steps.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(i64),
}

pub fn parse_json_path(path: &str) -> Option<Vec<Step>> {
    let p = path.trim();
    let mut rest = p.strip_prefix('$').unwrap_or(p);
    let mut steps = Vec::new();
    let bare = !p.starts_with('$');
    let mut first = true;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let (name, tail) = r.split_at(end);
            if name.is_empty() {
                return None;
            }
            steps.push(Step::Key(name.to_string()));
            rest = tail;
        } else if let Some(r) = rest.strip_prefix('[') {
            let r = r.trim_start();
            if let Some(q) = r.chars().next().filter(|c| *c == '\'' || *c == '"') {
                let body = &r[1..];
                let close = body.find(q)?;
                steps.push(Step::Key(body[..close].to_string()));
                let after = body[close + 1..].trim_start();
                rest = after.strip_prefix(']')?;
            } else {
                let close = r.find(']')?;
                let idx: i64 = r[..close].trim().parse().ok()?;
                steps.push(Step::Index(idx));
                rest = &r[close + 1..];
            }
        } else if bare && first {
            // `key.sub` without the leading `$.`
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            steps.push(Step::Key(rest[..end].to_string()));
            rest = &rest[end..];
        } else {
            return None;
        }
        first = false;
    }
    Some(steps)
}

/// Follows a path into a value.
pub fn follow<'v>(v: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    let mut cur = v;
    for s in steps {
        cur = match (s, cur) {
            (Step::Key(k), Value::Object(m)) => m.get(k)?,
            (Step::Index(i), Value::Array(a)) => {
                let len = i64::try_from(a.len()).ok()?;
                let j = if *i < 0 { len + i } else { *i };
                a.get(usize::try_from(j).ok()?)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        assert_eq!(
            parse_json_path("$.a.b"),
            Some(vec![Step::Key("a".into()), Step::Key("b".into())])
        );
        assert_eq!(
            parse_json_path("$['a b'][1]"),
            Some(vec![Step::Key("a b".into()), Step::Index(1)])
        );
        assert_eq!(
            parse_json_path("key1"),
            Some(vec![Step::Key("key1".into())])
        );
        assert_eq!(parse_json_path("$."), None);
        let v: Value = serde_json::from_str(r#"{"a":{"b":[1,2,3]}}"#).unwrap();
        let p = parse_json_path("$.a.b[-1]").unwrap();
        assert_eq!(follow(&v, &p), Some(&Value::from(3)));
    }

    #[test]
    fn utf8_values() {
        assert_eq!(utf8_value("50"), Value::String("50".into()));
        assert_eq!(utf8_value("[1,2]"), serde_json::json!([1, 2]));
        assert_eq!(utf8_value("\"x\""), Value::String("x".into()));
        assert_eq!(utf8_value("{bad"), Value::String("{bad".into()));
        assert!(json_eq(&serde_json::json!(1), &serde_json::json!(1.0)));
        assert_eq!(json_key(&serde_json::json!(1.0)), "1");
    }
}
