//! A thin adapter that turns a plain Rust kernel into a DataFusion scalar UDF.
//!
//! The planner already knows every KQL call's result type, so each call site gets a UDF
//! instance with a fixed return type; kernels receive the evaluated arguments (arrays or
//! scalars) and the row count, and return an array of that type.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

/// A kernel: evaluated arguments and the batch's row count in, one array out.
pub type Kernel = fn(&[ColumnarValue], usize) -> Result<ArrayRef>;

#[derive(Debug)]
struct KqlScalarFn {
    name: String,
    ret: DataType,
    signature: Signature,
    kernel: Kernel,
}

// Identity is the kernel's address plus the result type; DataFusion uses it to recognise
// common subexpressions.
impl PartialEq for KqlScalarFn {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.ret == other.ret
            && self.kernel as usize == other.kernel as usize
    }
}
impl Eq for KqlScalarFn {}
impl std::hash::Hash for KqlScalarFn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.ret.hash(state);
        (self.kernel as usize).hash(state);
    }
}

impl ScalarUDFImpl for KqlScalarFn {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.ret.clone())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        // Constant-only calls are evaluated once, on a single row.
        let rows = if all_scalar { 1 } else { args.number_rows };
        let out = (self.kernel)(&args.args, rows)?;
        if all_scalar && out.len() == 1 {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// Builds a call expression of a KQL kernel with a known result type.
pub fn call(name: &str, ret: DataType, kernel: Kernel, args: Vec<Expr>) -> Expr {
    call_with_volatility(name, ret, kernel, args, Volatility::Immutable)
}

pub fn call_with_volatility(
    name: &str,
    ret: DataType,
    kernel: Kernel,
    args: Vec<Expr>,
    volatility: Volatility,
) -> Expr {
    let udf = ScalarUDF::from(KqlScalarFn {
        name: name.to_string(),
        ret,
        signature: Signature::variadic_any(volatility),
        kernel,
    });
    if args.is_empty() {
        // variadic_any refuses zero arguments; nullary kernels get a dummy one.
        return Arc::new(udf).call(vec![Expr::Literal(ScalarValue::Null, None)]);
    }
    Arc::new(udf).call(args)
}

/// The argument as an array of `rows` elements (scalars are repeated).
pub fn arg_array(args: &[ColumnarValue], i: usize, rows: usize) -> Result<ArrayRef> {
    match args.get(i) {
        Some(ColumnarValue::Array(a)) => Ok(a.clone()),
        Some(ColumnarValue::Scalar(s)) => s.to_array_of_size(rows),
        None => datafusion::common::internal_err!("missing argument {i}"),
    }
}

/// The argument if it is a scalar (a constant for the whole batch).
pub fn arg_scalar(args: &[ColumnarValue], i: usize) -> Option<&ScalarValue> {
    match args.get(i) {
        Some(ColumnarValue::Scalar(s)) => Some(s),
        _ => None,
    }
}

/// A scalar argument as a string (None for null or non-string).
pub fn scalar_str(s: &ScalarValue) -> Option<&str> {
    match s {
        ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => v.as_deref(),
        _ => None,
    }
}

/// The argument as a Utf8 array of `rows` elements (casting other string encodings).
pub fn string_array(
    args: &[ColumnarValue],
    i: usize,
    rows: usize,
) -> Result<datafusion::arrow::array::StringArray> {
    use datafusion::arrow::array::{Array, AsArray};
    let a = arg_array(args, i, rows)?;
    let a = if a.data_type() == &DataType::Utf8 {
        a
    } else {
        datafusion::arrow::compute::cast(&a, &DataType::Utf8)?
    };
    Ok(a.as_string::<i32>().clone())
}
