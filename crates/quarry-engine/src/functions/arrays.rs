//! Functions over dynamic arrays that produce plain values.

use super::registry::{Simple, ret};
use super::udf::string_array;
use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use std::sync::Arc;

pub const FUNCTIONS: &[Simple] = &[Simple {
    name: "strcat_array",
    args: (2, 2),
    ret: ret::string,
    kernel: strcat_array,
}];

/// The text of one JSON element as Kusto's tostring gives it: strings without quotes.
fn element_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `strcat_array(array, delimiter)`: the elements as strings, joined. A value that is not
/// an array gives "".
pub fn strcat_array(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let arrays = string_array(args, 0, rows)?;
    let delims = string_array(args, 1, rows)?;
    let mut out = StringBuilder::with_capacity(arrays.len(), arrays.len() * 16);
    for i in 0..arrays.len() {
        let delim = if delims.is_null(i) {
            ""
        } else {
            delims.value(i)
        };
        let joined = if arrays.is_null(i) {
            String::new()
        } else {
            match serde_json::from_str::<serde_json::Value>(arrays.value(i)) {
                Ok(serde_json::Value::Array(items)) => items
                    .iter()
                    .map(element_text)
                    .collect::<Vec<_>>()
                    .join(delim),
                _ => String::new(),
            }
        };
        out.append_value(joined);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;
    use datafusion::common::ScalarValue;

    #[test]
    fn joins_elements_as_strings() {
        // Microsoft's strcat_array example: strcat_array(dynamic([1, 2, 3]), "->") == "1->2->3".
        let args = [
            ColumnarValue::Scalar(ScalarValue::Utf8(Some("[1,2,3]".into()))),
            ColumnarValue::Scalar(ScalarValue::Utf8(Some("->".into()))),
        ];
        let out = strcat_array(&args, 1).unwrap();
        assert_eq!(out.as_string::<i32>().value(0), "1->2->3");
        let args = [
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(r#"["svc_","sa_"]"#.into()))),
            ColumnarValue::Scalar(ScalarValue::Utf8(Some("|".into()))),
        ];
        assert_eq!(
            strcat_array(&args, 1).unwrap().as_string::<i32>().value(0),
            "svc_|sa_"
        );
    }
}
