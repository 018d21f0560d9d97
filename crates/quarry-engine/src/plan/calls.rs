//! Function calls: the KQL scalar function library and, inside `summarize`, aggregates.
//!
//! Each KQL function maps to a DataFusion built-in where the semantics match exactly, and to
//! one of our kernels (`crate::functions`) where Kusto differs (0-based `substring`, term-based
//! `has`, non-null strings, tick-based `bin`, exact-then-HLL `dcount`, ...).

use super::scalar::{column, numeric_result, string_lit};
use super::{Binding, ColumnInfo, PResult, Planner, Typed, err};
use crate::functions::{bin, convert, datetime as dtf, dcount::DCount, dynamic, udf};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Expr, ExprFunctionExt, lit, when};
use quarry_syntax::ast::{self, ScalarType};
use quarry_syntax::{Diagnostic, Span};
use std::ops::Not;
use std::sync::Arc;

/// A rewrite applied to an aggregate's result after aggregation (e.g. a cast back to the KQL type).
pub(super) type PostAggregate = Box<dyn Fn(Expr) -> Expr>;

/// Aggregates collected while compiling one `summarize`: each is computed by the aggregate
/// node under a hidden name, and the surrounding scalar expression refers to that name.
#[derive(Default)]
pub(crate) struct AggCollector {
    pub exprs: Vec<(Expr, String)>,
    /// `summarize` without `by`: over no rows it still gives one row, where Kusto's
    /// aggregates take their documented defaults (summarize reference: sum, sumif, stdev,
    /// variance → 0; avg → NaN).
    pub no_keys: bool,
}

const AGGREGATES: &[&str] = &[
    "count",
    "countif",
    "dcount",
    "dcountif",
    "sum",
    "sumif",
    "avg",
    "avgif",
    "min",
    "max",
    "minif",
    "maxif",
    "make_list",
    "make_set",
    "make_list_if",
    "make_set_if",
    "take_any",
    "any",
    "arg_max",
    "arg_min",
    "stdev",
    "variance",
    "percentile",
    "count_distinct",
    "take_anyif",
    "anyif",
    "stdevif",
    "varianceif",
    "stdevp",
    "variancep",
    "make_bag",
    "make_bag_if",
    "make_list_with_nulls",
];

pub(crate) fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name) || super::aggs::EXTRA_AGGREGATES.contains(&name)
}

const SCALARS: &[&str] = &[
    "iff",
    "iif",
    "case",
    "bin",
    "floor",
    "ago",
    "now",
    "datetime_diff",
    "datetime_add",
    "startofday",
    "startofhour",
    "startofweek",
    "startofmonth",
    "startofyear",
    "endofday",
    "endofweek",
    "endofmonth",
    "endofyear",
    "dayofmonth",
    "dayofyear",
    "weekofyear",
    "week_of_year",
    "format_datetime",
    "tostring",
    "toint",
    "tolong",
    "todouble",
    "toreal",
    "tobool",
    "toboolean",
    "todatetime",
    "totimespan",
    "toguid",
    "tolower",
    "toupper",
    "strlen",
    "substring",
    "strcat",
    "strcat_delim",
    "split",
    "trim",
    "trim_start",
    "trim_end",
    "replace_string",
    "extract",
    "isempty",
    "isnotempty",
    "isnull",
    "isnotnull",
    "coalesce",
    "parse_json",
    "todynamic",
    "array_length",
    "pack_array",
    "not",
    "abs",
    "round",
    "dayofweek",
    "hourofday",
    "getyear",
    "getmonth",
    "toscalar",
];

/// Number of arguments a function accepts (min, max).
fn arity(name: &str) -> (usize, usize) {
    match name {
        "now" => (0, 1),
        // `count(expr)` is accepted and counts rows like `count()` (summarize reference:
        // `count(y)` over a null and a non-null y is 2).
        "count" => (0, 1),
        "iff" | "iif" => (3, 3),
        "case" => (3, usize::MAX),
        "bin" | "floor" => (2, 2),
        "ago" | "tostring" | "toint" | "tolong" | "todouble" | "toreal" | "tobool"
        | "toboolean" | "todatetime" | "totimespan" | "toguid" | "tolower" | "toupper"
        | "strlen" | "isempty" | "isnotempty" | "isnull" | "isnotnull" | "parse_json"
        | "todynamic" | "array_length" | "not" | "abs" | "dayofweek" | "hourofday" | "getyear"
        | "getmonth" | "countif" | "sum" | "avg" | "min" | "max" | "take_any" | "any" | "stdev"
        | "variance" | "toscalar" | "dayofmonth" | "dayofyear" | "weekofyear" | "week_of_year" => {
            (1, 1)
        }
        "startofday" | "startofhour" | "startofweek" | "startofmonth" | "startofyear"
        | "endofday" | "endofweek" | "endofmonth" | "endofyear" => (1, 2),
        "datetime_diff" | "datetime_add" | "replace_string" => (3, 3),
        "format_datetime" | "trim" | "trim_start" | "trim_end" | "sumif" | "avgif" | "minif"
        | "maxif" => (2, 2),
        "dcount" | "round" => (1, 2),
        "dcountif" => (2, 3),
        "substring" | "split" => (2, 3),
        "extract" => (3, 4),
        "strcat" | "pack_array" | "coalesce" => (1, 64),
        "strcat_delim" => (3, 64),
        "arg_max" | "arg_min" => (2, usize::MAX),
        "count_distinct" | "stdevp" | "variancep" => (1, 1),
        "make_set" | "make_list" | "make_bag" | "make_list_with_nulls" => (1, 2),
        "make_set_if" | "make_list_if" | "make_bag_if" => (2, 3),
        "take_anyif" | "anyif" | "stdevif" | "varianceif" => (2, 2),
        _ => (0, usize::MAX),
    }
}

fn is_numeric(t: ScalarType) -> bool {
    matches!(
        t,
        ScalarType::Int | ScalarType::Long | ScalarType::Real | ScalarType::Decimal
    )
}

impl Planner<'_> {
    pub(super) fn call(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Arg],
        row: &[ColumnInfo],
        span: Span,
    ) -> PResult<Typed> {
        if let Some(Binding::Function(fdef)) = self.lookup(&name.name) {
            let fdef = fdef.clone();
            return match self.call_user_function(&fdef, name, args, row)? {
                super::Value::Scalar(t) => Ok(t),
                super::Value::Table(_) => err(
                    "KQL1032",
                    format!(
                        "`{}` returns a table; a scalar value is expected here",
                        name.name
                    ),
                    span,
                ),
            };
        }
        // Deprecated spellings Kusto still accepts.
        let fname = match name.name.as_str() {
            "makeset" => "make_set",
            "makelist" => "make_list",
            "parsejson" => "parse_json",
            "arraylength" => "array_length",
            "columnifexists" => "column_ifexists",
            "extractjson" => "extract_json",
            "todecimal" => "toreal",
            other => other,
        };
        if fname == "column_ifexists" {
            return self.column_ifexists(args, row, span);
        }
        if let Some(t) = self.row_function(fname, args, row, span)? {
            return Ok(t);
        }
        // `extract_json(path, text, typeof(T))`: the value converted to T.
        if fname == "extract_json"
            && args.len() == 3
            && let ast::ExprKind::TypeOf(tn) = &args[2].value.kind
            && let Some(simple) = crate::functions::registry::lookup(fname)
        {
            let v = self.simple_call(simple, &args[..2], row, span)?;
            return Ok(Typed::new(convert::convert(v.expr, v.ty, tn.ty), tn.ty));
        }
        if fname == "ingestion_time" && args.is_empty() {
            // Files carry no ingestion time.
            return Ok(Typed::new(
                crate::datetime::datetime_lit(None),
                ScalarType::DateTime,
            ));
        }
        if !is_aggregate(fname)
            && !SCALARS.contains(&fname)
            && let Some(simple) = crate::functions::registry::lookup(fname)
        {
            return self.simple_call(simple, args, row, span);
        }
        if !is_aggregate(fname) && !SCALARS.contains(&fname) {
            let mut d =
                Diagnostic::error("KQL1002", format!("unknown function `{fname}`"), name.span);
            let lets: Vec<String> = self
                .scopes
                .iter()
                .flat_map(|s| {
                    s.iter()
                        .filter(|(_, b)| matches!(b, Binding::Function(_)))
                        .map(|(k, _)| k.clone())
                })
                .collect();
            if let Some(c) = crate::suggest::closest(
                fname,
                AGGREGATES
                    .iter()
                    .chain(SCALARS)
                    .copied()
                    .chain(crate::functions::registry::names())
                    .map(|s| s.to_string())
                    .chain(lets.iter().cloned())
                    .collect::<Vec<String>>()
                    .iter()
                    .map(String::as_str),
            ) {
                d.help = Some(format!("did you mean `{c}`?"));
            }
            return Err(Box::new(d));
        }
        let (lo, hi) = arity(fname);
        if args.len() < lo || args.len() > hi {
            let expected = if lo == hi {
                format!("{lo}")
            } else if hi == usize::MAX {
                format!("at least {lo}")
            } else {
                format!("{lo} to {hi}")
            };
            return err(
                "KQL1020",
                format!(
                    "`{fname}` takes {expected} argument(s), {} given",
                    args.len()
                ),
                span,
            );
        }
        if is_aggregate(fname) {
            return self.aggregate_call(fname, args, row, span);
        }
        let a: Vec<&ast::Expr> = args.iter().map(|a| &a.value).collect();
        self.scalar_call(fname, &a, row, span)
    }

    fn scalar_call(
        &mut self,
        fname: &str,
        a: &[&ast::Expr],
        row: &[ColumnInfo],
        span: Span,
    ) -> PResult<Typed> {
        use ScalarType as T;
        let now = crate::datetime::datetime_lit(Some(self.now_ns));
        Ok(match fname {
            "iff" | "iif" => {
                let c = self.scalar(a[0], row)?;
                let mut x = self.scalar(a[1], row)?;
                let mut y = self.scalar(a[2], row)?;
                self.expect(&c, T::Bool, a[0].span, fname)?;
                // A dynamic branch and a string branch (`iff(c, bag.Name, "")`, common in
                // Microsoft's rules) give a dynamic result: the string becomes a dynamic string.
                let (xt, yt) = (x.ty, y.ty);
                for (v, other) in [(&mut x, yt), (&mut y, xt)] {
                    if v.ty == T::String && other == T::Dynamic {
                        *v = Typed::new(dynamic::to_dynamic_expr(v.expr.clone()), T::Dynamic);
                    }
                }
                let ty = self.common_type(&x, &y, a[2].span)?;
                Typed::new(
                    when(c.expr, x.expr)
                        .otherwise(y.expr)
                        .map_err(|e| super::tabular::df_error(e, span))?,
                    ty,
                )
            }
            "case" => {
                let pairs = (a.len() - 1) / 2;
                if a.len().is_multiple_of(2) {
                    return err(
                        "KQL1020",
                        "`case` takes condition/value pairs followed by an else value",
                        span,
                    );
                }
                let mut conds = Vec::new();
                let mut values = Vec::new();
                for i in 0..pairs {
                    let c = self.scalar(a[2 * i], row)?;
                    self.expect(&c, T::Bool, a[2 * i].span, "case")?;
                    conds.push(c.expr);
                    values.push(self.scalar(a[2 * i + 1], row)?);
                }
                values.push(self.scalar(a[a.len() - 1], row)?);
                let mut ty = values
                    .iter()
                    .skip(1)
                    .fold(values[0].ty, |t, v| merge_type(t, v.ty));
                // Strings beside dynamic values become dynamic strings (as for iff).
                if values.iter().any(|v| v.ty == T::Dynamic) {
                    ty = T::Dynamic;
                }
                let values: Vec<Expr> = values
                    .into_iter()
                    .map(|v| {
                        if v.ty == ty {
                            v.expr
                        } else if ty == T::Dynamic && v.ty == T::String {
                            dynamic::to_dynamic_expr(v.expr)
                        } else if is_numeric(ty) && is_numeric(v.ty) {
                            cast(v.expr, crate::types::arrow_type(ty))
                        } else {
                            v.expr
                        }
                    })
                    .collect();
                let mut values = values.into_iter();
                let mut builder: Option<
                    datafusion::logical_expr::conditional_expressions::CaseBuilder,
                > = None;
                for c in conds {
                    let v = values.next().unwrap_or(lit(ScalarValue::Null));
                    builder = Some(match builder {
                        None => when(c, v),
                        Some(mut b) => b.when(c, v),
                    });
                }
                let e = values.next().unwrap_or(lit(ScalarValue::Null));
                let Some(mut b) = builder else {
                    return Ok(Typed::new(e, ty));
                };
                Typed::new(
                    b.otherwise(e)
                        .map_err(|e| super::tabular::df_error(e, span))?,
                    ty,
                )
            }
            "bin" | "floor" => {
                let mut x = self.scalar(a[0], row)?;
                let r = self.scalar(a[1], row)?;
                match x.ty {
                    T::Int => {
                        x = Typed::new(cast(x.expr, DataType::Int64), T::Long);
                    }
                    T::Long | T::Real | T::DateTime | T::TimeSpan => {}
                    T::Decimal => {}
                    other => {
                        return err(
                            "KQL1060",
                            format!(
                                "`{fname}` needs a number, datetime or timespan, got {}",
                                other.name()
                            ),
                            a[0].span,
                        );
                    }
                }
                let ok_span = match x.ty {
                    T::DateTime | T::TimeSpan => r.ty == T::TimeSpan,
                    _ => is_numeric(r.ty),
                };
                if !ok_span {
                    return err(
                        "KQL1060",
                        format!(
                            "`{fname}`: the bin size for a {} must be a {}, got {}",
                            x.ty.name(),
                            if matches!(x.ty, T::DateTime | T::TimeSpan) {
                                "timespan"
                            } else {
                                "number"
                            },
                            r.ty.name()
                        ),
                        a[1].span,
                    );
                }
                let ty = match (x.ty, r.ty) {
                    (T::Long, T::Real) => T::Real,
                    (t, _) => t,
                };
                let xe = if ty == T::Real && x.ty == T::Long {
                    cast(x.expr, DataType::Float64)
                } else {
                    x.expr
                };
                Typed::new(
                    udf::call(
                        "bin",
                        crate::types::arrow_type(ty),
                        bin::bin,
                        vec![xe, r.expr],
                    ),
                    ty,
                )
            }
            "startofhour" => {
                let x = self.datetime_arg(a[0], row, fname)?;
                Typed::new(
                    udf::call(
                        "bin",
                        crate::types::arrow_type(T::DateTime),
                        bin::bin,
                        vec![
                            x.expr,
                            lit(ScalarValue::DurationNanosecond(Some(3_600_000_000_000))),
                        ],
                    ),
                    T::DateTime,
                )
            }
            "startofday" | "startofweek" | "startofmonth" | "startofyear" | "endofday"
            | "endofweek" | "endofmonth" | "endofyear" => {
                let x = self.datetime_arg(a[0], row, fname)?;
                let offset = match a.get(1) {
                    Some(o) => {
                        let o = self.scalar(o, row)?;
                        cast(o.expr, DataType::Int64)
                    }
                    None => lit(0i64),
                };
                let kernel: udf::Kernel = match fname {
                    "startofday" => dtf::start_of_day,
                    "startofweek" => dtf::start_of_week,
                    "startofmonth" => dtf::start_of_month,
                    "endofday" => dtf::end_of_day,
                    "endofweek" => dtf::end_of_week,
                    "endofmonth" => dtf::end_of_month,
                    "endofyear" => dtf::end_of_year,
                    _ => dtf::start_of_year,
                };
                Typed::new(
                    udf::call(
                        fname,
                        crate::types::arrow_type(T::DateTime),
                        kernel,
                        vec![x.expr, offset],
                    ),
                    T::DateTime,
                )
            }
            "ago" => {
                let d = self.scalar(a[0], row)?;
                self.expect(&d, T::TimeSpan, a[0].span, "ago")?;
                Typed::new(
                    datafusion::logical_expr::binary_expr(
                        now,
                        datafusion::logical_expr::Operator::Minus,
                        d.expr,
                    ),
                    T::DateTime,
                )
            }
            "now" => match a.first() {
                None => Typed::new(now, T::DateTime),
                Some(o) => {
                    let d = self.scalar(o, row)?;
                    self.expect(&d, T::TimeSpan, o.span, "now")?;
                    Typed::new(
                        datafusion::logical_expr::binary_expr(
                            now,
                            datafusion::logical_expr::Operator::Plus,
                            d.expr,
                        ),
                        T::DateTime,
                    )
                }
            },
            "datetime_diff" => {
                let part = self.scalar(a[0], row)?;
                let x = self.datetime_arg(a[1], row, fname)?;
                let y = self.datetime_arg(a[2], row, fname)?;
                self.check_part(&part, a[0].span)?;
                Typed::new(
                    udf::call(
                        fname,
                        DataType::Int64,
                        dtf::datetime_diff,
                        vec![part.expr, x.expr, y.expr],
                    ),
                    T::Long,
                )
            }
            "datetime_add" => {
                let part = self.scalar(a[0], row)?;
                let n = self.scalar(a[1], row)?;
                let x = self.datetime_arg(a[2], row, fname)?;
                self.check_part(&part, a[0].span)?;
                Typed::new(
                    udf::call(
                        fname,
                        crate::types::arrow_type(T::DateTime),
                        dtf::datetime_add,
                        vec![part.expr, cast(n.expr, DataType::Int64), x.expr],
                    ),
                    T::DateTime,
                )
            }
            "format_datetime" => {
                let x = self.datetime_arg(a[0], row, fname)?;
                let fmt = self.scalar(a[1], row)?;
                Typed::new(
                    udf::call(
                        fname,
                        DataType::Utf8,
                        dtf::format_datetime,
                        vec![x.expr, fmt.expr],
                    ),
                    T::String,
                )
            }
            "dayofweek" => {
                let x = self.datetime_arg(a[0], row, fname)?;
                Typed::new(
                    udf::call(
                        fname,
                        crate::types::arrow_type(T::TimeSpan),
                        dtf::day_of_week,
                        vec![x.expr],
                    ),
                    T::TimeSpan,
                )
            }
            "hourofday" | "getyear" | "getmonth" | "dayofmonth" | "dayofyear" | "weekofyear"
            | "week_of_year" => {
                let x = self.datetime_arg(a[0], row, fname)?;
                let kernel: udf::Kernel = match fname {
                    "hourofday" => dtf::hour_of_day,
                    "getyear" => dtf::get_year,
                    "dayofmonth" => dtf::day_of_month,
                    "dayofyear" => dtf::day_of_year,
                    "weekofyear" | "week_of_year" => dtf::week_of_year,
                    _ => dtf::get_month,
                };
                Typed::new(
                    udf::call(fname, DataType::Int32, kernel, vec![x.expr]),
                    T::Int,
                )
            }
            "tostring" => {
                let x = self.scalar(a[0], row)?;
                Typed::new(self.to_string_expr(x), T::String)
            }
            "toint" | "tolong" | "todouble" | "toreal" | "tobool" | "toboolean" | "todatetime"
            | "totimespan" | "toguid" => {
                let x = self.scalar(a[0], row)?;
                let ty = match fname {
                    "toint" => T::Int,
                    "tolong" => T::Long,
                    "todouble" | "toreal" => T::Real,
                    "tobool" | "toboolean" => T::Bool,
                    "todatetime" => T::DateTime,
                    "totimespan" => T::TimeSpan,
                    _ => T::Guid,
                };
                Typed::new(convert::convert(x.expr, x.ty, ty), ty)
            }
            "tolower" | "toupper" => {
                let x = self.string_operand(a[0], row)?;
                Typed::new(
                    if fname == "tolower" {
                        f::lower(x.expr)
                    } else {
                        f::upper(x.expr)
                    },
                    T::String,
                )
            }
            "strlen" => {
                let x = self.string_operand(a[0], row)?;
                Typed::new(cast(f::character_length(x.expr), DataType::Int64), T::Long)
            }
            "substring" => {
                let x = self.string_operand(a[0], row)?;
                let mut args = vec![x.expr];
                for e in &a[1..] {
                    let t = self.scalar(e, row)?;
                    args.push(cast(t.expr, DataType::Int64));
                }
                Typed::new(
                    udf::call(fname, DataType::Utf8, convert::substring, args),
                    T::String,
                )
            }
            "strcat" => {
                let mut parts = Vec::new();
                for e in a {
                    parts.push(self.string_operand(e, row)?.expr);
                }
                Typed::new(f::concat(parts), T::String)
            }
            "strcat_delim" => {
                let mut parts = Vec::new();
                for e in a {
                    parts.push(self.string_operand(e, row)?.expr);
                }
                let delim = parts.remove(0);
                Typed::new(f::concat_ws(delim, parts), T::String)
            }
            "strcat_array" => {
                let x = self.scalar(a[0], row)?;
                let d = self.string_operand(a[1], row)?;
                Typed::new(
                    udf::call(
                        fname,
                        DataType::Utf8,
                        crate::functions::arrays::strcat_array,
                        vec![x.expr, d.expr],
                    ),
                    T::String,
                )
            }
            "split" => {
                let x = self.string_operand(a[0], row)?;
                let d = self.string_operand(a[1], row)?;
                let mut args = vec![x.expr, d.expr];
                if let Some(i) = a.get(2) {
                    let t = self.scalar(i, row)?;
                    args.push(cast(t.expr, DataType::Int64));
                }
                Typed::new(
                    udf::call(fname, DataType::Utf8, dynamic::split, args),
                    T::Dynamic,
                )
            }
            "trim" | "trim_start" | "trim_end" => {
                let re = self.string_operand(a[0], row)?;
                let x = self.string_operand(a[1], row)?;
                self.check_regex(&re.expr, a[0].span)?;
                let kernel: udf::Kernel = match fname {
                    "trim" => convert::trim,
                    "trim_start" => convert::trim_start,
                    _ => convert::trim_end,
                };
                Typed::new(
                    udf::call(fname, DataType::Utf8, kernel, vec![re.expr, x.expr]),
                    T::String,
                )
            }
            "replace_string" => {
                let x = self.string_operand(a[0], row)?;
                let from = self.string_operand(a[1], row)?;
                let to = self.string_operand(a[2], row)?;
                Typed::new(f::replace(x.expr, from.expr, to.expr), T::String)
            }
            "extract" => {
                let re = self.string_operand(a[0], row)?;
                self.check_regex(&re.expr, a[0].span)?;
                let g = self.scalar(a[1], row)?;
                let x = self.string_operand(a[2], row)?;
                let e = udf::call(
                    fname,
                    DataType::Utf8,
                    convert::extract,
                    vec![re.expr, cast(g.expr, DataType::Int64), x.expr],
                );
                match a.get(3) {
                    Some(ty) => {
                        let ast::ExprKind::TypeOf(tn) = &ty.kind else {
                            return err(
                                "KQL1061",
                                "extract's fourth argument must be typeof(<type>)",
                                ty.span,
                            );
                        };
                        Typed::new(convert::convert(e, T::String, tn.ty), tn.ty)
                    }
                    None => Typed::new(e, T::String),
                }
            }
            "isempty" | "isnotempty" => {
                let x = self.scalar(a[0], row)?;
                let empty = match x.ty {
                    T::String | T::Guid => x.expr.clone().is_null().or(x.expr.eq(string_lit(""))),
                    T::Dynamic => x.expr.clone().is_null().or(x.expr.eq(string_lit("\"\""))),
                    _ => x.expr.is_null(),
                };
                Typed::new(
                    if fname == "isempty" {
                        empty
                    } else {
                        empty.not()
                    },
                    T::Bool,
                )
            }
            "isnull" | "isnotnull" => {
                let x = self.scalar(a[0], row)?;
                let e = if matches!(x.ty, T::String) {
                    // Kusto strings are never null.
                    lit(fname == "isnotnull")
                } else if fname == "isnull" {
                    x.expr.is_null()
                } else {
                    x.expr.is_not_null()
                };
                Typed::new(e, T::Bool)
            }
            "coalesce" => {
                let mut parts = Vec::new();
                let mut ty: Option<T> = None;
                for e in a {
                    let t = self.scalar(e, row)?;
                    ty = Some(ty.map_or(t.ty, |x| merge_type(x, t.ty)));
                    parts.push(t);
                }
                let ty = ty.unwrap_or(T::String);
                if ty == T::String {
                    // First non-empty string.
                    let mut it = parts.into_iter().rev();
                    let mut acc = it.next().map(|t| t.expr).unwrap_or(string_lit(""));
                    for t in it {
                        acc = when(
                            t.expr
                                .clone()
                                .is_null()
                                .or(t.expr.clone().eq(string_lit(""))),
                            acc,
                        )
                        .otherwise(t.expr)
                        .map_err(|e| super::tabular::df_error(e, span))?;
                    }
                    Typed::new(acc, T::String)
                } else {
                    Typed::new(f::coalesce(parts.into_iter().map(|t| t.expr).collect()), ty)
                }
            }
            "parse_json" | "todynamic" => {
                let x = self.scalar(a[0], row)?;
                if x.ty == T::Dynamic {
                    return Ok(x);
                }
                if x.ty == T::String {
                    Typed::new(
                        udf::call(fname, DataType::Utf8, dynamic::parse_json, vec![x.expr]),
                        T::Dynamic,
                    )
                } else {
                    Typed::new(dynamic::to_dynamic_expr(x.expr), T::Dynamic)
                }
            }
            "array_length" => {
                let x = self.scalar(a[0], row)?;
                Typed::new(
                    udf::call(fname, DataType::Int64, dynamic::array_length, vec![x.expr]),
                    T::Long,
                )
            }
            "pack_array" => {
                let mut parts = Vec::new();
                for e in a {
                    let t = self.scalar(e, row)?;
                    parts.push(if t.ty == T::Dynamic {
                        t.expr
                    } else {
                        dynamic::to_dynamic_expr(t.expr)
                    });
                }
                Typed::new(
                    udf::call(fname, DataType::Utf8, dynamic::pack_array, parts),
                    T::Dynamic,
                )
            }
            "not" => {
                let x = self.scalar(a[0], row)?;
                self.expect(&x, T::Bool, a[0].span, "not")?;
                Typed::new(x.expr.not(), T::Bool)
            }
            "abs" => {
                let x = self.scalar(a[0], row)?;
                if x.ty == T::TimeSpan {
                    // abs() of a timespan (`abs(Timestamp - pivot)`): the timespan's magnitude.
                    let zero = lit(ScalarValue::DurationNanosecond(Some(0)));
                    let e = datafusion::logical_expr::when(
                        x.expr.clone().lt(zero.clone()),
                        datafusion::logical_expr::binary_expr(
                            zero,
                            datafusion::logical_expr::Operator::Minus,
                            x.expr.clone(),
                        ),
                    )
                    .otherwise(x.expr)
                    .map_err(|e| super::tabular::df_error(e, span))?;
                    Typed::new(e, T::TimeSpan)
                } else {
                    Typed::new(f::abs(x.expr), x.ty)
                }
            }
            "round" => {
                let x = self.scalar(a[0], row)?;
                let mut args = vec![cast(x.expr, DataType::Float64)];
                if let Some(p) = a.get(1) {
                    args.push(cast(self.scalar(p, row)?.expr, DataType::Int64));
                }
                Typed::new(f::round(args), T::Real)
            }
            "toscalar" => {
                // `toscalar(2)`: a scalar argument is its own value (toscalar reference).
                let t = match self.tabular(a[0]) {
                    Err(e) if e.code == "KQL1032" || e.code == "KQL1003" => {
                        return self.scalar(a[0], row);
                    }
                    other => other?,
                };
                let Some(first) = t.columns.first().cloned() else {
                    return err("KQL1038", "toscalar(): the subquery has no columns", span);
                };
                let plan = datafusion::logical_expr::LogicalPlanBuilder::from(t.plan)
                    .project(vec![column(&first.name)])
                    .and_then(|b| b.limit(0, Some(1)))
                    .and_then(|b| b.build())
                    .map_err(|e| super::tabular::df_error(e, span))?;
                Typed::new(
                    Expr::ScalarSubquery(datafusion::logical_expr::Subquery {
                        subquery: Arc::new(plan),
                        outer_ref_columns: vec![],
                        spans: Default::default(),
                    }),
                    first.ty,
                )
            }
            other => {
                return err(
                    "KQL1002",
                    format!("function `{other}` is not implemented yet"),
                    span,
                );
            }
        })
    }

    /// `column_ifexists("Name", default)`: the column when the input has it, else the default.
    fn column_ifexists(
        &mut self,
        args: &[ast::Arg],
        row: &[ColumnInfo],
        span: Span,
    ) -> PResult<Typed> {
        if args.len() != 2 {
            return err(
                "KQL1020",
                "`column_ifexists` takes a column name and a default value",
                span,
            );
        }
        let name = self.scalar(&args[0].value, &[])?;
        let Expr::Literal(ScalarValue::Utf8(Some(n)), _) = &name.expr else {
            return err(
                "KQL1060",
                "column_ifexists needs a constant column name",
                args[0].value.span,
            );
        };
        if let Some(c) = row.iter().find(|c| &c.name == n) {
            return Ok(Typed::new(column(&c.name), c.ty));
        }
        self.scalar(&args[1].value, row)
    }

    /// A function from the registry: check arity, evaluate the arguments, ask the entry for
    /// the result type, call the kernel.
    fn simple_call(
        &mut self,
        f: &crate::functions::registry::Simple,
        args: &[ast::Arg],
        row: &[ColumnInfo],
        span: Span,
    ) -> PResult<Typed> {
        let (lo, hi) = f.args;
        if args.len() < lo || args.len() > hi {
            let expected = if lo == hi {
                format!("{lo}")
            } else if hi == usize::MAX {
                format!("at least {lo}")
            } else {
                format!("{lo} to {hi}")
            };
            return err(
                "KQL1020",
                format!(
                    "`{}` takes {expected} argument(s), {} given",
                    f.name,
                    args.len()
                ),
                span,
            );
        }
        // A trailing `typeof(T)` (extract_json, percentile_tdigest, ...) converts the result.
        let (args, target) = match args.split_last() {
            Some((last, rest)) => match &last.value.kind {
                ast::ExprKind::TypeOf(tn) => (rest, Some(tn.ty)),
                _ => (args, None),
            },
            None => (args, None),
        };
        let mut exprs = Vec::with_capacity(args.len());
        let mut types = Vec::with_capacity(args.len());
        for a in args {
            let t = self.scalar(&a.value, row)?;
            types.push(t.ty);
            exprs.push(t.expr);
        }
        let ty = (f.ret)(&types).map_err(|m| {
            Box::new(Diagnostic::error(
                "KQL1060",
                format!("`{}`: {m}", f.name),
                span,
            ))
        })?;
        let e = udf::call(f.name, crate::types::arrow_type(ty), f.kernel, exprs);
        Ok(match target {
            Some(to) => Typed::new(convert::convert(e, ty, to), to),
            None => Typed::new(e, ty),
        })
    }

    fn check_regex(&self, e: &Expr, span: Span) -> PResult<()> {
        if let Expr::Literal(ScalarValue::Utf8(Some(p)), _) = e
            && let Err(x) = crate::functions::re2::compile(p)
        {
            return err(
                "KQL1035",
                format!(
                    "invalid regular expression: {}",
                    x.to_string().lines().last().unwrap_or("").trim()
                ),
                span,
            );
        }
        Ok(())
    }

    fn check_part(&self, part: &Typed, span: Span) -> PResult<()> {
        if let Expr::Literal(ScalarValue::Utf8(Some(p)), _) = &part.expr
            && dtf::DatePart::parse(p).is_none()
        {
            return err(
                "KQL1062",
                format!("unknown datetime part `{p}`"),
                span,
            )
            .map_err(|d| {
                Box::new(d.with_help(
                    "use one of: year, quarter, month, week, day, hour, minute, second, millisecond, microsecond, nanosecond",
                ))
            });
        }
        Ok(())
    }

    fn datetime_arg(&mut self, e: &ast::Expr, row: &[ColumnInfo], fname: &str) -> PResult<Typed> {
        let x = self.scalar(e, row)?;
        match x.ty {
            ScalarType::DateTime => Ok(x),
            ScalarType::String | ScalarType::Dynamic => Ok(Typed::new(
                convert::convert(x.expr, x.ty, ScalarType::DateTime),
                ScalarType::DateTime,
            )),
            other => err(
                "KQL1060",
                format!("`{fname}` needs a datetime, got {}", other.name()),
                e.span,
            ),
        }
    }

    fn expect(&self, t: &Typed, ty: ScalarType, span: Span, fname: &str) -> PResult<()> {
        if t.ty != ty {
            return err(
                "KQL1060",
                format!("`{fname}` needs a {} here, got {}", ty.name(), t.ty.name()),
                span,
            );
        }
        Ok(())
    }

    fn common_type(&self, x: &Typed, y: &Typed, span: Span) -> PResult<ScalarType> {
        if x.ty == y.ty {
            return Ok(x.ty);
        }
        if is_numeric(x.ty) && is_numeric(y.ty) {
            return Ok(numeric_result(x.ty, y.ty));
        }
        // A null literal of any type adopts the other branch's type.
        if matches!(&y.expr, Expr::Literal(v, _) if v.is_null()) {
            return Ok(x.ty);
        }
        if matches!(&x.expr, Expr::Literal(v, _) if v.is_null()) {
            return Ok(y.ty);
        }
        err(
            "KQL1063",
            format!(
                "both branches must have the same type: {} and {}",
                x.ty.name(),
                y.ty.name()
            ),
            span,
        )
    }

    /// An aggregate inside `summarize`: registers it with the collector and returns a
    /// reference to its hidden output column.
    fn aggregate_call(
        &mut self,
        fname: &str,
        args: &[ast::Arg],
        row: &[ColumnInfo],
        span: Span,
    ) -> PResult<Typed> {
        if self.agg.is_none() {
            return err(
                "KQL1064",
                format!("aggregate function `{fname}` can only be used in `summarize`"),
                span,
            );
        }
        use ScalarType as T;
        let a: Vec<&ast::Expr> = args.iter().map(|a| &a.value).collect();
        let cond = |this: &mut Self, i: usize| -> PResult<Expr> {
            let c = this.scalar(a[i], row)?;
            this.expect(&c, T::Bool, a[i].span, fname)?;
            Ok(c.expr)
        };
        let bad = |e: datafusion::error::DataFusionError| super::tabular::df_error(e, span);
        let (expr, ty, post): (Expr, T, Option<PostAggregate>) = match fname {
            "count" if a.is_empty() => (agg::count(lit(1i64)), T::Long, None),
            // `count(x)`: counts rows like `count()`, nulls included (the summarize reference's
            // documented output); the argument is still checked.
            "count" => {
                self.scalar(a[0], row)?;
                (agg::count(lit(1i64)), T::Long, None)
            }
            "count_distinct" => {
                let x = self.scalar(a[0], row)?;
                (agg::count_distinct(x.expr), T::Long, None)
            }
            "take_anyif" | "anyif" => {
                let x = self.scalar(a[0], row)?;
                let c = cond(self, 1)?;
                let e = agg::first_value(x.expr, vec![])
                    .filter(c)
                    .build()
                    .map_err(bad)?;
                (e, x.ty, None)
            }
            "stdevif" | "varianceif" | "stdevp" | "variancep" => {
                let x = self.scalar(a[0], row)?;
                let xe = cast(x.expr, DataType::Float64);
                let mut e = match fname {
                    "stdevif" => agg::stddev(xe),
                    "varianceif" => agg::var_sample(xe),
                    "stdevp" => agg::stddev_pop(xe),
                    _ => agg::var_pop(xe),
                };
                if fname.ends_with("if") {
                    e = e.filter(cond(self, 1)?).build().map_err(bad)?;
                }
                (e, T::Real, None)
            }
            "make_bag" | "make_bag_if" => {
                let x = self.scalar(a[0], row)?;
                let mut b = agg::array_agg(x.expr.clone()).filter(x.expr.clone().is_not_null());
                if fname == "make_bag_if" {
                    b = b.filter(cond(self, 1)?.and(x.expr.is_not_null()));
                }
                let e = b.build().map_err(bad)?;
                (e, T::Dynamic, Some(Box::new(dynamic::bag_merge_list_expr)))
            }
            "make_list_with_nulls" => {
                let x = self.scalar(a[0], row)?;
                let item = if x.ty == T::Dynamic {
                    x.expr
                } else {
                    dynamic::to_dynamic_expr(x.expr)
                };
                (
                    agg::array_agg(item),
                    T::Dynamic,
                    Some(Box::new(|e| {
                        udf::call(
                            "make_list_with_nulls_json",
                            DataType::Utf8,
                            crate::functions::aggs::list_with_nulls_to_json,
                            vec![e],
                        )
                    })),
                )
            }
            "countif" => {
                let c = cond(self, 0)?;
                (
                    agg::count(lit(1i64)).filter(c).build().map_err(bad)?,
                    T::Long,
                    None,
                )
            }
            "dcount" | "dcountif" => {
                let x = self.scalar(a[0], row)?;
                let (filter, acc_idx) = if fname == "dcountif" {
                    (Some(cond(self, 1)?), 2)
                } else {
                    (None, 1)
                };
                let accuracy = match a.get(acc_idx) {
                    Some(e) => match &e.kind {
                        ast::ExprKind::Literal(ast::Literal::Long(Some(v))) => *v,
                        ast::ExprKind::Literal(ast::Literal::Int(Some(v))) => *v as i64,
                        _ => {
                            return err(
                                "KQL1065",
                                "dcount accuracy must be a constant 0..4",
                                e.span,
                            );
                        }
                    },
                    None => 1,
                };
                let udaf = Arc::new(DCount::udaf(accuracy));
                let call = udaf.call(vec![x.expr]);
                let e = match filter {
                    Some(c) => call.filter(c).build().map_err(bad)?,
                    None => call,
                };
                (e, T::Long, None)
            }
            "sum" | "sumif" => {
                let x = self.scalar(a[0], row)?;
                let ty = match x.ty {
                    T::Int | T::Long => T::Long,
                    T::TimeSpan => T::TimeSpan,
                    _ => T::Real,
                };
                let xe = if ty == T::Long {
                    cast(x.expr, DataType::Int64)
                } else {
                    x.expr
                };
                let mut e = agg::sum(xe);
                if fname == "sumif" {
                    e = e.filter(cond(self, 1)?).build().map_err(bad)?;
                }
                (e, ty, None)
            }
            "avg" | "avgif" => {
                let x = self.scalar(a[0], row)?;
                let mut e = agg::avg(cast(x.expr, DataType::Float64));
                if fname == "avgif" {
                    e = e.filter(cond(self, 1)?).build().map_err(bad)?;
                }
                (e, T::Real, None)
            }
            "stdev" | "variance" => {
                let x = self.scalar(a[0], row)?;
                let xe = cast(x.expr, DataType::Float64);
                (
                    if fname == "stdev" {
                        agg::stddev(xe)
                    } else {
                        agg::var_sample(xe)
                    },
                    T::Real,
                    None,
                )
            }
            "min" | "max" | "minif" | "maxif" => {
                let x = self.scalar(a[0], row)?;
                let mut e = if fname.starts_with("min") {
                    agg::min(x.expr)
                } else {
                    agg::max(x.expr)
                };
                if fname.ends_with("if") {
                    e = e.filter(cond(self, 1)?).build().map_err(bad)?;
                }
                (e, x.ty, None)
            }
            "take_any" | "any" => {
                let x = self.scalar(a[0], row)?;
                (agg::first_value(x.expr, vec![]), x.ty, None)
            }
            "make_list" | "make_set" | "make_list_if" | "make_set_if" => {
                let x = self.scalar(a[0], row)?;
                let item = if x.ty == T::Dynamic {
                    x.expr
                } else {
                    dynamic::to_dynamic_expr(x.expr)
                };
                let mut b = agg::array_agg(item.clone()).filter(item.is_not_null());
                if fname.ends_with("_if") {
                    b = b.filter(
                        cond(self, 1)?.and(dynamic::to_dynamic_expr(lit(1i64)).is_not_null()),
                    );
                }
                let e = b.build().map_err(bad)?;
                let finish: fn(Expr) -> Expr = if fname.starts_with("make_set") {
                    dynamic::set_to_json_expr
                } else {
                    dynamic::list_to_json_expr
                };
                (e, T::Dynamic, Some(Box::new(finish)))
            }
            "arg_max" | "arg_min" => {
                return err(
                    "KQL1066",
                    format!(
                        "`{fname}` must be a top-level aggregate of `summarize` (e.g. `summarize arg_max(Timestamp, *) by DeviceId`)"
                    ),
                    span,
                );
            }
            other => match self.extra_aggregate(other, &a, row, span)? {
                Some(t) => t,
                None => {
                    return err(
                        "KQL1002",
                        format!("aggregate `{other}` is not implemented yet"),
                        span,
                    );
                }
            },
        };
        let Some(collector) = self.agg.as_mut() else {
            return err("KQL1064", "aggregate outside summarize", span);
        };
        let default = match fname {
            "sum" | "sumif" | "stdev" | "stdevif" | "stdevp" | "variance" | "varianceif"
            | "variancep"
                if collector.no_keys =>
            {
                Some(
                    ScalarValue::Int64(Some(0))
                        .cast_to(&crate::types::arrow_type(ty))
                        .unwrap_or(ScalarValue::Null),
                )
            }
            "avg" | "avgif" if collector.no_keys => Some(ScalarValue::Float64(Some(f64::NAN))),
            _ => None,
        };
        let post: Option<PostAggregate> = match (post, default) {
            (p, Some(d)) if !matches!(d, ScalarValue::Null) => Some(Box::new(move |e: Expr| {
                let e = match &p {
                    Some(p) => p(e),
                    None => e,
                };
                f::coalesce(vec![e, lit(d.clone())])
            })),
            (p, _) => p,
        };
        let hidden = format!("__agg{}", collector.exprs.len());
        collector.exprs.push((expr, hidden.clone()));
        let out = column(&hidden);
        Ok(Typed::new(post.map_or(out.clone(), |p| p(out)), ty))
    }
}

pub(crate) fn cast(e: Expr, to: DataType) -> Expr {
    Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(e), to))
}

/// The type of a `case`/`coalesce` whose branches differ only in numeric width.
fn merge_type(a: ScalarType, b: ScalarType) -> ScalarType {
    if is_numeric(a) && is_numeric(b) {
        numeric_result(a, b)
    } else {
        a
    }
}
