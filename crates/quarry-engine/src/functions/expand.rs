//! Kernels behind `mv-expand` (dynamic value → list of elements to unnest) and `parse`
//! (one regex match → a struct of captured texts).

use super::udf::{arg_scalar, scalar_str, string_array};
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanBuilder, Int64Builder, ListBuilder, StringBuilder, StructArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ColumnarValue;
use serde_json::Value;
use std::sync::Arc;

/// Element type of the lists produced by [`mv_expand_list`].
pub fn list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

pub fn index_list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)))
}

fn scalar_i64(args: &[ColumnarValue], i: usize) -> Option<i64> {
    match arg_scalar(args, i)? {
        ScalarValue::Int64(v) => *v,
        ScalarValue::Int32(v) => v.map(i64::from),
        _ => None,
    }
}

/// The elements one dynamic value expands to, as JSON texts (`None` = a null element).
/// Kusto: a null value gives one null record; an empty array or bag gives none; a bag gives
/// one `{"key": value}` (or `["key", value]` with `kind=array`) per property; any other
/// value expands to itself.
fn elements(text: Option<&str>, bags_as_arrays: bool, limit: usize) -> Vec<Option<String>> {
    let Some(text) = text else {
        return vec![None];
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return vec![Some(Value::String(text.to_string()).to_string())],
    };
    let out: Vec<Option<String>> = match value {
        Value::Null => vec![None],
        Value::Array(items) => items
            .into_iter()
            .take(limit)
            .map(|v| (!v.is_null()).then(|| v.to_string()))
            .collect(),
        Value::Object(props) => props
            .into_iter()
            .take(limit)
            .map(|(k, v)| {
                Some(if bags_as_arrays {
                    Value::Array(vec![Value::String(k), v]).to_string()
                } else {
                    let mut m = serde_json::Map::new();
                    m.insert(k, v);
                    Value::Object(m).to_string()
                })
            })
            .collect(),
        other => vec![Some(other.to_string())],
    };
    out
}

/// `mv_expand_list(dynamic, bags_as_arrays: bool, limit: long)` → `List<Utf8>`.
pub fn mv_expand_list(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let values = string_array(args, 0, rows)?;
    let as_arrays = matches!(arg_scalar(args, 1), Some(ScalarValue::Boolean(Some(true))));
    let limit = scalar_i64(args, 2).map_or(usize::MAX, |l| l.max(0) as usize);
    let mut b = ListBuilder::new(StringBuilder::new());
    for i in 0..values.len() {
        let text = (!values.is_null(i)).then(|| values.value(i));
        for e in elements(text, as_arrays, limit) {
            b.values().append_option(e);
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}

/// `mv_expand_index(dynamic, limit)` → `List<Int64>`: 0, 1, ... one per expanded element.
pub fn mv_expand_index(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let values = string_array(args, 0, rows)?;
    let limit = scalar_i64(args, 1).map_or(usize::MAX, |l| l.max(0) as usize);
    let mut b = ListBuilder::new(Int64Builder::new());
    for i in 0..values.len() {
        let text = (!values.is_null(i)).then(|| values.value(i));
        let n = elements(text, false, limit).len();
        for k in 0..n {
            b.values().append_value(k as i64);
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}

/// The struct type [`parse_captures`] returns for `n` captured columns: `m` (matched) and
/// `c1`..`cn` (captured text, null when not matched).
pub fn captures_type(n: usize) -> DataType {
    let mut fields = vec![Field::new("m", DataType::Boolean, true)];
    for i in 1..=n {
        fields.push(Field::new(format!("c{i}"), DataType::Utf8, true));
    }
    DataType::Struct(Fields::from(fields))
}

/// `parse_captures(text, regex)`: matches the regex (whose column groups are named `c1`..`cn`)
/// against each value.
pub fn parse_captures(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let text = string_array(args, 0, rows)?;
    let Some(pattern) = arg_scalar(args, 1).and_then(scalar_str) else {
        return exec_err!("parse: the pattern must be a constant");
    };
    let re = match super::re2::compile(pattern) {
        Ok(r) => r,
        Err(e) => return exec_err!("parse: invalid pattern: {e}"),
    };
    let n = re
        .capture_names()
        .flatten()
        .filter(|n| n.starts_with('c') && n[1..].parse::<usize>().is_ok())
        .count();
    let mut matched = BooleanBuilder::with_capacity(text.len());
    let mut cols: Vec<StringBuilder> = (0..n).map(|_| StringBuilder::new()).collect();
    for i in 0..text.len() {
        let s = if text.is_null(i) { "" } else { text.value(i) };
        match re.captures(s) {
            Some(caps) => {
                matched.append_value(true);
                for (k, b) in cols.iter_mut().enumerate() {
                    b.append_option(caps.name(&format!("c{}", k + 1)).map(|m| m.as_str()));
                }
            }
            None => {
                matched.append_value(false);
                for b in cols.iter_mut() {
                    b.append_null();
                }
            }
        }
    }
    let DataType::Struct(fields) = captures_type(n) else {
        return exec_err!("parse: internal type error");
    };
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(matched.finish())];
    arrays.extend(cols.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    Ok(Arc::new(StructArray::try_new(fields, arrays, None)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_follows_the_documented_rules() {
        assert_eq!(elements(None, false, usize::MAX), vec![None]);
        assert_eq!(
            elements(Some("[]"), false, usize::MAX),
            Vec::<Option<String>>::new()
        );
        assert_eq!(
            elements(Some("{}"), false, usize::MAX),
            Vec::<Option<String>>::new()
        );
        assert_eq!(
            elements(Some("[1,\"a\",null]"), false, usize::MAX),
            vec![Some("1".into()), Some("\"a\"".into()), None]
        );
        assert_eq!(
            elements(Some("{\"a\":1,\"b\":2}"), false, usize::MAX),
            vec![Some("{\"a\":1}".into()), Some("{\"b\":2}".into())]
        );
        assert_eq!(
            elements(Some("{\"a\":1}"), true, usize::MAX),
            vec![Some("[\"a\",1]".into())]
        );
        assert_eq!(
            elements(Some("5"), false, usize::MAX),
            vec![Some("5".into())]
        );
        assert_eq!(elements(Some("[1,2,3]"), false, 2).len(), 2);
    }
}
