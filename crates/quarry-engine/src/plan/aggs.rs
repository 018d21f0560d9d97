//! Statistical aggregates computed from a group's collected values (kernels in
//! `functions::aggs`): `percentile`/`percentiles`/`percentilew`/`percentilesw` (and their
//! `_array` forms), `covariance`/`covariancep` (and `if` forms), `tdigest`, `tdigest_merge`, `hll`/`hll_if`/`hll_merge`, and the bitwise `binary_all_and`/`binary_all_or`/`binary_all_xor`.

use super::calls::{PostAggregate, cast};
use super::{ColumnInfo, PResult, Planner, err};
use crate::functions::aggs as k;
use crate::functions::udf;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::functions_nested::expr_fn::make_array;
use datafusion::logical_expr::{Expr, ExprFunctionExt, lit};
use quarry_syntax::Span;
use quarry_syntax::ast::{self, ScalarType};

pub(super) const EXTRA_AGGREGATES: &[&str] = &[
    "percentile",
    "percentilew",
    "percentiles_array",
    "percentilesw_array",
    "covariance",
    "covariancep",
    "covarianceif",
    "covariancepif",
    "binary_all_and",
    "binary_all_or",
    "binary_all_xor",
    "tdigest",
    "tdigest_merge",
    "buildschema",
    "hll",
    "hll_if",
    "hll_merge",
];

type AggParts = (Expr, ScalarType, Option<PostAggregate>);

fn is_numeric(t: ScalarType) -> bool {
    matches!(
        t,
        ScalarType::Int | ScalarType::Long | ScalarType::Real | ScalarType::Decimal
    )
}

/// `summarize percentiles(x, 50, 95)` is two aggregates, `percentile(x, 50)` and
/// `percentile(x, 95)`, named `percentile_x_50`, `percentile_x_95` (or by the tuple names of
/// `(p50, p95) = percentiles(...)`); `percentilesw(x, w, ...)` likewise.
pub(super) fn expand_percentiles(items: &[ast::NamedExpr]) -> Vec<ast::NamedExpr> {
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        let ast::ExprKind::Call { name, args } = &it.expr.kind else {
            out.push(it.clone());
            continue;
        };
        let (single, skip) = match name.name.as_str() {
            "percentiles" => ("percentile", 1),
            "percentilesw" => ("percentilew", 2),
            _ => {
                out.push(it.clone());
                continue;
            }
        };
        if args.len() <= skip {
            out.push(it.clone());
            continue;
        }
        let first = args
            .first()
            .and_then(|a| super::tabular::derived_name_pub(&a.value))
            .unwrap_or_default();
        for (n, p) in args[skip..].iter().enumerate() {
            let suffix = match &p.value.kind {
                ast::ExprKind::Literal(ast::Literal::Long(Some(v))) => v.to_string(),
                ast::ExprKind::Literal(ast::Literal::Int(Some(v))) => v.to_string(),
                ast::ExprKind::Literal(ast::Literal::Real(Some(v))) => {
                    v.to_string().replace('.', "_")
                }
                _ => String::new(),
            };
            let names = match it.names.get(n) {
                Some(id) => vec![id.clone()],
                None if !it.names.is_empty() => vec![],
                None => vec![ast::Ident {
                    name: format!("percentile_{first}_{suffix}"),
                    span: it.span,
                }],
            };
            let mut call_args: Vec<ast::Arg> = args[..skip].to_vec();
            call_args.push(p.clone());
            out.push(ast::NamedExpr {
                names,
                expr: ast::Expr {
                    kind: ast::ExprKind::Call {
                        name: ast::Ident {
                            name: single.to_string(),
                            span: name.span,
                        },
                        args: call_args,
                    },
                    span: it.expr.span,
                },
                span: it.span,
            });
        }
    }
    out
}

/// Functions that return several columns: `array_sort_asc(a1, a2, ...)` (and `_desc`) with
/// more than one array gives one column per array, named `<arg>_sorted` (array_sort_asc
/// reference: "output column names are generated from the arguments") or by the tuple names
/// of `(x, y) = array_sort_asc(a1, a2)`. Each column reads its element of the function's array
/// of arrays.
pub(super) fn expand_multi_value(items: &[ast::NamedExpr]) -> Vec<ast::NamedExpr> {
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        let ast::ExprKind::Call { name, args } = &it.expr.kind else {
            out.push(it.clone());
            continue;
        };
        if name.name == "series_stats" && it.names.len() != 1 {
            // Seven columns `series_stats_<arg>_min`, ... (series_stats reference).
            let arg = args
                .first()
                .and_then(|a| super::tabular::derived_name_pub(&a.value))
                .unwrap_or_default();
            let fields = [
                ("min", "todouble"),
                ("min_idx", "tolong"),
                ("max", "todouble"),
                ("max_idx", "tolong"),
                ("avg", "todouble"),
                ("stdev", "todouble"),
                ("variance", "todouble"),
            ];
            let sp = it.expr.span;
            let stats = ast::Expr {
                kind: ast::ExprKind::Call {
                    name: ast::Ident {
                        name: "series_stats_dynamic".into(),
                        span: name.span,
                    },
                    args: args.clone(),
                },
                span: sp,
            };
            for (i, (field, conv)) in fields.iter().enumerate() {
                let names = match it.names.get(i) {
                    Some(n) => vec![n.clone()],
                    None => vec![ast::Ident {
                        name: format!("series_stats_{arg}_{field}"),
                        span: it.span,
                    }],
                };
                let get = ast::Expr {
                    kind: ast::ExprKind::Index {
                        object: Box::new(stats.clone()),
                        index: Box::new(ast::Expr {
                            kind: ast::ExprKind::Literal(ast::Literal::String(field.to_string())),
                            span: sp,
                        }),
                    },
                    span: sp,
                };
                out.push(ast::NamedExpr {
                    names,
                    expr: ast::Expr {
                        kind: ast::ExprKind::Call {
                            name: ast::Ident {
                                name: conv.to_string(),
                                span: name.span,
                            },
                            args: vec![ast::Arg {
                                name: None,
                                value: get,
                            }],
                        },
                        span: sp,
                    },
                    span: it.span,
                });
            }
            continue;
        }
        if !matches!(name.name.as_str(), "array_sort_asc" | "array_sort_desc") {
            out.push(it.clone());
            continue;
        }
        // A trailing bool literal is `nulls_last`, not an array.
        let arrays = args
            .iter()
            .filter(|a| !matches!(a.value.kind, ast::ExprKind::Literal(ast::Literal::Bool(_))))
            .count();
        if arrays < 2 || it.names.len() == 1 {
            out.push(it.clone());
            continue;
        }
        for (i, a) in args.iter().take(arrays).enumerate() {
            let names = match it.names.get(i) {
                Some(n) => vec![n.clone()],
                None => match super::tabular::derived_name_pub(&a.value) {
                    Some(d) => vec![ast::Ident {
                        name: format!("{d}_sorted"),
                        span: it.span,
                    }],
                    None => vec![],
                },
            };
            out.push(ast::NamedExpr {
                names,
                expr: ast::Expr {
                    kind: ast::ExprKind::Index {
                        object: Box::new(it.expr.clone()),
                        index: Box::new(ast::Expr {
                            kind: ast::ExprKind::Literal(ast::Literal::Long(Some(i as i64))),
                            span: it.expr.span,
                        }),
                    },
                    span: it.expr.span,
                },
                span: it.span,
            });
        }
    }
    out
}

impl Planner<'_> {
    /// `[a, b]` (as reals) for each row where both are non-null (and `cond` holds).
    fn pair_list(&self, a: Expr, b: Expr, cond: Option<Expr>) -> PResult<Expr> {
        let mut filter = a.clone().is_not_null().and(b.clone().is_not_null());
        if let Some(c) = cond {
            filter = filter.and(c);
        }
        agg::array_agg(make_array(vec![
            cast(a, DataType::Float64),
            cast(b, DataType::Float64),
        ]))
        .filter(filter)
        .build()
        .map_err(|e| super::tabular::df_error(e, Span::new(0, 0)))
    }

    fn numeric_arg(
        &mut self,
        e: &ast::Expr,
        row: &[ColumnInfo],
        fname: &str,
    ) -> PResult<super::Typed> {
        let x = self.scalar(e, row)?;
        if !is_numeric(x.ty) && !matches!(x.ty, ScalarType::DateTime | ScalarType::TimeSpan) {
            return err(
                "KQL1060",
                format!("`{fname}` needs a number, got {}", x.ty.name()),
                e.span,
            );
        }
        Ok(x)
    }

    fn arity_check(
        &self,
        fname: &str,
        a: &[&ast::Expr],
        lo: usize,
        hi: usize,
        span: Span,
    ) -> PResult<()> {
        if a.len() < lo || a.len() > hi {
            return err(
                "KQL1020",
                format!(
                    "`{fname}` takes {lo} to {hi} argument(s), {} given",
                    a.len()
                ),
                span,
            );
        }
        Ok(())
    }

    pub(super) fn extra_aggregate(
        &mut self,
        fname: &str,
        a: &[&ast::Expr],
        row: &[ColumnInfo],
        span: Span,
    ) -> PResult<Option<AggParts>> {
        use ScalarType as T;
        let bad = |e: datafusion::error::DataFusionError| super::tabular::df_error(e, span);
        Ok(Some(match fname {
            "percentile" => {
                self.arity_check(fname, a, 2, 2, span)?;
                let x = self.numeric_arg(a[0], row, fname)?;
                let p = self.scalar(a[1], row)?;
                let xe = if x.ty == T::Int {
                    cast(x.expr, DataType::Int64)
                } else {
                    x.expr
                };
                let ty = if x.ty == T::Int { T::Long } else { x.ty };
                let e = agg::array_agg(xe.clone())
                    .filter(xe.is_not_null())
                    .build()
                    .map_err(bad)?;
                let pe = p.expr;
                let ret = crate::types::arrow_type(ty);
                let post: PostAggregate = Box::new(move |col| {
                    udf::call(
                        "percentile_list",
                        ret.clone(),
                        k::percentile_list,
                        vec![col, pe.clone()],
                    )
                });
                (e, ty, Some(post))
            }
            "percentilew" => {
                self.arity_check(fname, a, 3, 3, span)?;
                let x = self.numeric_arg(a[0], row, fname)?;
                let w = self.numeric_arg(a[1], row, fname)?;
                let p = self.scalar(a[2], row)?;
                let e = self.pair_list(x.expr, w.expr, None)?;
                let ty = x.ty;
                let pe = p.expr;
                let post: PostAggregate = Box::new(move |col| {
                    let v = udf::call(
                        "percentilew_list",
                        DataType::Float64,
                        k::percentilew_list,
                        vec![col, pe.clone()],
                    );
                    cast(v, crate::types::arrow_type(ty))
                });
                (e, ty, Some(post))
            }
            "percentiles_array" | "percentilesw_array" => {
                let skip = if fname == "percentiles_array" { 1 } else { 2 };
                self.arity_check(fname, a, skip + 1, usize::MAX, span)?;
                let x = self.numeric_arg(a[0], row, fname)?;
                let w = if skip == 2 {
                    self.numeric_arg(a[1], row, fname)?.expr
                } else {
                    lit(1.0f64)
                };
                // The percentiles: constants, or one constant dynamic array.
                let mut percents: Vec<serde_json::Value> = Vec::new();
                for p in &a[skip..] {
                    let v = self.scalar(p, row)?;
                    match super::tabular::eval_constant_pub(&v.expr) {
                        Some(ScalarValue::Utf8(Some(t))) if v.ty == T::Dynamic => {
                            if let serde_json::Value::Array(items) =
                                crate::functions::dynamic::parse_dynamic(&t)
                            {
                                percents.extend(items);
                            }
                        }
                        Some(s) => match s.cast_to(&DataType::Float64) {
                            Ok(ScalarValue::Float64(Some(f))) => percents.push(f.into()),
                            _ => return err("KQL1065", "a percentile must be a number", p.span),
                        },
                        None => {
                            return err("KQL1065", "percentiles must be constants", p.span);
                        }
                    }
                }
                let e = self.pair_list(x.expr, w, None)?;
                let list = lit(ScalarValue::Utf8(Some(
                    crate::functions::dynamic::json_text(&serde_json::Value::Array(percents)),
                )));
                let post: PostAggregate = Box::new(move |col| {
                    udf::call(
                        "percentiles_array_list",
                        DataType::Utf8,
                        k::percentiles_array_list,
                        vec![col, list.clone()],
                    )
                });
                (e, T::Dynamic, Some(post))
            }
            "covariance" | "covariancep" | "covarianceif" | "covariancepif" => {
                let with_if = fname.ends_with("if");
                let n = if with_if { 3 } else { 2 };
                self.arity_check(fname, a, n, n, span)?;
                let x = self.numeric_arg(a[0], row, fname)?;
                let y = self.numeric_arg(a[1], row, fname)?;
                let cond = if with_if {
                    let c = self.scalar(a[2], row)?;
                    if c.ty != T::Bool {
                        return err(
                            "KQL1060",
                            format!("`{fname}`: the predicate must be a bool"),
                            a[2].span,
                        );
                    }
                    Some(c.expr)
                } else {
                    None
                };
                let e = self.pair_list(x.expr, y.expr, cond)?;
                let sample = !fname.starts_with("covariancep");
                let post: PostAggregate = Box::new(move |col| {
                    udf::call(
                        "covariance_list",
                        DataType::Float64,
                        k::covariance_list,
                        vec![col, lit(sample)],
                    )
                });
                (e, T::Real, Some(post))
            }
            "binary_all_and" | "binary_all_or" | "binary_all_xor" => {
                self.arity_check(fname, a, 1, 1, span)?;
                let x = self.scalar(a[0], row)?;
                if !matches!(x.ty, T::Int | T::Long) {
                    return err(
                        "KQL1060",
                        format!("`{fname}` needs a long, got {}", x.ty.name()),
                        a[0].span,
                    );
                }
                let xe = cast(x.expr, DataType::Int64);
                let e = match fname {
                    "binary_all_and" => agg::bit_and(xe),
                    "binary_all_or" => agg::bit_or(xe),
                    _ => agg::bit_xor(xe),
                };
                (e, T::Long, None)
            }
            "tdigest" => {
                self.arity_check(fname, a, 1, 2, span)?;
                let x = self.numeric_arg(a[0], row, fname)?;
                let w = match a.get(1) {
                    Some(w) => self.numeric_arg(w, row, fname)?.expr,
                    None => lit(1.0f64),
                };
                let e = self.pair_list(x.expr, w, None)?;
                let post: PostAggregate = Box::new(|col| {
                    udf::call("tdigest_list", DataType::Utf8, k::tdigest_list, vec![col])
                });
                (e, T::Dynamic, Some(post))
            }
            "hll" | "hll_if" | "hll_merge" => {
                let (lo, hi) = match fname {
                    "hll" => (1, 2),
                    "hll_if" => (2, 3),
                    _ => (1, 1),
                };
                self.arity_check(fname, a, lo, hi, span)?;
                let x = self.scalar(a[0], row)?;
                let item = if x.ty == T::Dynamic {
                    x.expr
                } else {
                    crate::functions::dynamic::to_dynamic_expr(x.expr)
                };
                let mut filter = item.clone().is_not_null();
                if fname == "hll_if" {
                    let c = self.scalar(a[1], row)?;
                    if c.ty != T::Bool {
                        return err(
                            "KQL1060",
                            "`hll_if`: the predicate must be a bool",
                            a[1].span,
                        );
                    }
                    filter = filter.and(c.expr);
                }
                let e = agg::array_agg(item).filter(filter).build().map_err(bad)?;
                let merge = fname == "hll_merge";
                let post: PostAggregate = Box::new(move |col| {
                    udf::call(
                        "hll_list",
                        DataType::Utf8,
                        k::hll_list,
                        vec![col, lit(merge)],
                    )
                });
                (e, T::Dynamic, Some(post))
            }
            "buildschema" => {
                self.arity_check(fname, a, 1, 1, span)?;
                let x = self.scalar(a[0], row)?;
                let item = if x.ty == T::Dynamic {
                    x.expr
                } else {
                    crate::functions::dynamic::to_dynamic_expr(x.expr)
                };
                let e = agg::array_agg(item.clone())
                    .filter(item.is_not_null())
                    .build()
                    .map_err(bad)?;
                let post: PostAggregate = Box::new(|col| {
                    udf::call(
                        "buildschema_list",
                        DataType::Utf8,
                        k::buildschema_list,
                        vec![col],
                    )
                });
                (e, T::Dynamic, Some(post))
            }
            "tdigest_merge" => {
                self.arity_check(fname, a, 1, 1, span)?;
                let x = self.scalar(a[0], row)?;
                let e = agg::array_agg(x.expr.clone())
                    .filter(x.expr.is_not_null())
                    .build()
                    .map_err(bad)?;
                let post: PostAggregate = Box::new(|col| {
                    udf::call(
                        "tdigest_merge_list",
                        DataType::Utf8,
                        k::tdigest_merge_list,
                        vec![col],
                    )
                });
                (e, T::Dynamic, Some(post))
            }
            _ => return Ok(None),
        }))
    }
}
