//! `has_any` / `has_all` whose set is only known at run time: a dynamic array value (a
//! `toscalar(T | summarize make_list(c))` of a tabular set, or a dynamic column).

use super::dynamic::parse_dynamic;
use super::strings::has_text;
use super::udf::string_array;
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use serde_json::Value;
use std::sync::Arc;

/// The set's elements as text; arrays inside the array (a set column's values) are flattened,
/// as dynamic arrays in a `has_any` list are.
fn elements(text: &str) -> Vec<String> {
    fn push(v: Value, out: &mut Vec<String>, depth: usize) {
        match v {
            Value::Null => {}
            Value::String(s) => out.push(s),
            Value::Array(items) if depth < 2 => {
                for it in items {
                    push(it, out, depth + 1);
                }
            }
            other => out.push(other.to_string()),
        }
    }
    let mut out = Vec::new();
    push(parse_dynamic(text), &mut out, 0);
    out
}

fn run(args: &[ColumnarValue], rows: usize, all: bool) -> Result<ArrayRef> {
    let hay = string_array(args, 0, rows)?;
    let sets = string_array(args, 1, rows)?;
    let out: BooleanArray = (0..hay.len())
        .map(|i| {
            let h = if hay.is_null(i) { "" } else { hay.value(i) };
            let set = if sets.is_null(i) {
                vec![]
            } else {
                elements(sets.value(i))
            };
            Some(if all {
                set.iter().all(|n| has_text(h, n))
            } else {
                set.iter().any(|n| has_text(h, n))
            })
        })
        .collect();
    Ok(Arc::new(out))
}

/// `has_any_dynamic(text, array)`: some element is a term of `text`.
pub fn has_any_dynamic(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    run(args, rows, false)
}

/// `has_all_dynamic(text, array)`: every element is a term of `text`.
pub fn has_all_dynamic(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    run(args, rows, true)
}
