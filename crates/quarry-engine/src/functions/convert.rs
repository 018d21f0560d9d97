//! Conversion kernels (stub; being written).
use datafusion::arrow::array::ArrayRef;
use datafusion::common::{Result, not_impl_err};
use datafusion::logical_expr::{ColumnarValue, Expr};
use quarry_syntax::ast::ScalarType;

macro_rules! stub { ($($n:ident),*) => { $(pub fn $n(_a: &[ColumnarValue], _r: usize) -> Result<ArrayRef> { not_impl_err!(stringify!($n)) })* } }
stub!(to_string, substring, trim, trim_start, trim_end, extract);
pub fn convert(e: Expr, _from: ScalarType, _to: ScalarType) -> Expr {
    e
}
pub fn cast_dynamic(e: Expr, _to: ScalarType) -> Expr {
    e
}
pub fn scale_timespan(span: Expr, _factor: Expr, _divide: bool) -> Expr {
    span
}
