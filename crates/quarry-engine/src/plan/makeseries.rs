//! `make-series`: one row per group with each aggregate as a dynamic array over the axis
//! bins (absent bins hold the `default`, 0 when not given) and the axis column as the array of
//! bin starts (make-series operator reference).
//!
//! Plan: the bounds become columns (`from`/`to` as written; when omitted, the smallest axis
//! value and the largest plus one step, over the whole input); rows outside `[from, to)` are
//! dropped and each row gets its bin index; `summarize` the aggregates by the groups and the
//! bin; `summarize make_list(pack_array(bin, value))` per group; then the series kernels
//! (`functions::series`) lay the values out on the bins. `in range(start, stop, step)` has
//! an inclusive stop. An empty input gives no rows (`kind=nonempty` is not implemented).

use super::scalar::column;
use super::tabular::df_error;
use super::{ColumnInfo, PResult, Planner, Tabular, Typed, err};
use crate::functions::series::{self, AxisKind};
use crate::functions::udf;
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    Expr, LogicalPlan, LogicalPlanBuilder, Operator, WindowFunctionDefinition, binary_expr, lit,
};
use quarry_syntax::Span;
use quarry_syntax::ast::{self, ExprKind, PipeOpKind, ScalarType};

const START: &str = "__ms_start";
const END: &str = "__ms_end";
const BIN: &str = "__ms_bin";

fn build(
    b: Result<LogicalPlanBuilder, datafusion::error::DataFusionError>,
    span: Span,
) -> PResult<LogicalPlan> {
    b.and_then(|b| b.build()).map_err(|e| df_error(e, span))
}

fn name_expr(n: &str, span: Span) -> ast::Expr {
    ast::Expr {
        kind: ExprKind::Name(ast::Ident {
            name: n.into(),
            span,
        }),
        span,
    }
}

fn named(n: Option<&str>, expr: ast::Expr, span: Span) -> ast::NamedExpr {
    ast::NamedExpr {
        names: n
            .map(|n| {
                vec![ast::Ident {
                    name: n.into(),
                    span,
                }]
            })
            .unwrap_or_default(),
        expr,
        span,
    }
}

fn call(f: &str, args: Vec<ast::Expr>, span: Span) -> ast::Expr {
    ast::Expr {
        kind: ExprKind::Call {
            name: ast::Ident {
                name: f.into(),
                span,
            },
            args: args
                .into_iter()
                .map(|value| ast::Arg { name: None, value })
                .collect(),
        },
        span,
    }
}

fn window_agg(f: std::sync::Arc<datafusion::logical_expr::AggregateUDF>, arg: Expr) -> Expr {
    Expr::from(WindowFunction::new(
        WindowFunctionDefinition::AggregateUDF(f),
        vec![arg],
    ))
}

impl Planner<'_> {
    pub(super) fn make_series(
        &mut self,
        t: Tabular,
        spec: &ast::MakeSeries,
        span: Span,
    ) -> PResult<Tabular> {
        let axis = self.scalar(&spec.axis, &t.columns)?;
        let step = self.scalar(&spec.step, &t.columns)?;
        let kind = match axis.ty {
            ScalarType::DateTime => AxisKind::DateTime,
            ScalarType::TimeSpan => AxisKind::TimeSpan,
            ScalarType::Int | ScalarType::Long => AxisKind::Long,
            ScalarType::Real | ScalarType::Decimal => AxisKind::Real,
            other => {
                return err(
                    "KQL1071",
                    format!(
                        "make-series needs a datetime, timespan or number axis, got {}",
                        other.name()
                    ),
                    spec.axis.span,
                );
            }
        };
        let step_ok = match kind {
            AxisKind::DateTime | AxisKind::TimeSpan => step.ty == ScalarType::TimeSpan,
            _ => matches!(
                step.ty,
                ScalarType::Int | ScalarType::Long | ScalarType::Real | ScalarType::Decimal
            ),
        };
        if !step_ok {
            return err(
                "KQL1071",
                format!(
                    "make-series: the step must be a {} for a {} axis, got {}",
                    if matches!(kind, AxisKind::DateTime | AxisKind::TimeSpan) {
                        "timespan"
                    } else {
                        "number"
                    },
                    axis.ty.name(),
                    step.ty.name()
                ),
                spec.step.span,
            );
        }
        // Bounds as columns.
        let bound = |me: &mut Self, e: &Option<ast::Expr>| -> PResult<Option<Typed>> {
            match e {
                Some(e) => {
                    let v = me.scalar(e, &t.columns)?;
                    Ok(Some(v))
                }
                None => Ok(None),
            }
        };
        let from = bound(self, &spec.from)?;
        let to = bound(self, &spec.to)?;
        let axis_arrow = crate::types::arrow_type(axis.ty);
        let coerce = |e: Expr| super::calls::cast(e, axis_arrow.clone());
        let start_expr = match &from {
            Some(f) => coerce(f.expr.clone()),
            None => window_agg(
                datafusion::functions_aggregate::min_max::min_udaf(),
                axis.expr.clone(),
            ),
        };
        let end_expr = match (&to, spec.range_syntax) {
            (Some(x), false) => coerce(x.expr.clone()),
            // `in range(start, stop, step)`: stop is the last bin.
            (Some(x), true) => {
                binary_expr(coerce(x.expr.clone()), Operator::Plus, step.expr.clone())
            }
            (None, _) => binary_expr(
                window_agg(
                    datafusion::functions_aggregate::min_max::max_udaf(),
                    axis.expr.clone(),
                ),
                Operator::Plus,
                step.expr.clone(),
            ),
        };
        let windowed = from.is_none() || to.is_none();
        let mut b = LogicalPlanBuilder::from(t.plan.clone());
        let mut exprs: Vec<Expr> = t.columns.iter().map(|c| column(&c.name)).collect();
        if windowed {
            let mut wins = Vec::new();
            let mut s = start_expr.clone();
            let mut e = end_expr.clone();
            if from.is_none() {
                wins.push(start_expr.clone().alias("__ms_wmin"));
                s = column("__ms_wmin");
            }
            if to.is_none() {
                let max = window_agg(
                    datafusion::functions_aggregate::min_max::max_udaf(),
                    axis.expr.clone(),
                );
                wins.push(max.alias("__ms_wmax"));
                // The end of the bin holding the largest value: start + (bins up to it) * step.
                let num = if kind == AxisKind::Real {
                    DataType::Float64
                } else {
                    DataType::Int64
                };
                let n = |x: Expr| super::calls::cast(x, num.clone());
                let mut q = binary_expr(
                    binary_expr(n(column("__ms_wmax")), Operator::Minus, n(s.clone())),
                    Operator::Divide,
                    n(step.expr.clone()),
                );
                if kind == AxisKind::Real {
                    q = datafusion::functions::expr_fn::floor(q);
                }
                let bins = binary_expr(
                    q,
                    Operator::Plus,
                    super::calls::cast(lit(1i64), num.clone()),
                );
                let end = binary_expr(
                    n(s.clone()),
                    Operator::Plus,
                    binary_expr(bins, Operator::Multiply, n(step.expr.clone())),
                );
                e = super::calls::cast(end, axis_arrow.clone());
            }
            b = b.window(wins).map_err(|x| df_error(x, span))?;
            exprs.push(s.alias(START));
            exprs.push(e.alias(END));
        } else {
            exprs.push(start_expr.alias(START));
            exprs.push(end_expr.alias(END));
        }
        b = b.project(exprs).map_err(|x| df_error(x, span))?;
        // Rows in range, with their bin index.
        let (num, num_ty) = match kind {
            AxisKind::DateTime | AxisKind::TimeSpan | AxisKind::Long => {
                (DataType::Int64, DataType::Int64)
            }
            AxisKind::Real => (DataType::Float64, DataType::Float64),
        };
        let as_num = |e: Expr| super::calls::cast(e, num.clone());
        let idx = match kind {
            AxisKind::Real => super::calls::cast(
                datafusion::functions::expr_fn::floor(binary_expr(
                    binary_expr(
                        as_num(axis.expr.clone()),
                        Operator::Minus,
                        as_num(column(START)),
                    ),
                    Operator::Divide,
                    as_num(step.expr.clone()),
                )),
                DataType::Int64,
            ),
            _ => binary_expr(
                binary_expr(
                    as_num(axis.expr.clone()),
                    Operator::Minus,
                    as_num(column(START)),
                ),
                Operator::Divide,
                as_num(step.expr.clone()),
            ),
        };
        let mut cols = t.columns.clone();
        cols.push(ColumnInfo {
            name: START.into(),
            ty: axis.ty,
        });
        cols.push(ColumnInfo {
            name: END.into(),
            ty: axis.ty,
        });
        let mut exprs: Vec<Expr> = cols.iter().map(|c| column(&c.name)).collect();
        exprs.push(idx.alias(BIN));
        cols.push(ColumnInfo {
            name: BIN.into(),
            ty: ScalarType::Long,
        });
        let in_range = axis
            .expr
            .clone()
            .gt_eq(column(START))
            .and(axis.expr.clone().lt(column(END)));
        let plan = build(b.filter(in_range).and_then(|b| b.project(exprs)), span)?;
        let binned = Tabular {
            plan,
            columns: cols,
        };
        // 1. The aggregates per group and bin.
        let mut by: Vec<ast::NamedExpr> = spec.by.clone();
        for n in [BIN, START, END] {
            by.push(named(None, name_expr(n, span), span));
        }
        let aggs: Vec<ast::NamedExpr> = spec.aggregates.iter().map(|a| a.agg.clone()).collect();
        let s1 = self.apply(
            binned,
            &ast::PipeOp {
                kind: PipeOpKind::Summarize {
                    params: vec![],
                    aggregates: aggs,
                    by,
                },
                span,
            },
        )?;
        let nby = spec.by.len();
        let by_cols: Vec<ColumnInfo> = s1.columns[..nby].to_vec();
        let agg_cols: Vec<ColumnInfo> = s1.columns[nby + 3..].to_vec();
        // 2. (bin, value) pairs per group.
        let mut by2: Vec<ast::NamedExpr> = by_cols
            .iter()
            .map(|c| named(None, name_expr(&c.name, span), span))
            .collect();
        for n in [START, END] {
            by2.push(named(None, name_expr(n, span), span));
        }
        let pairs: Vec<ast::NamedExpr> = agg_cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                named(
                    Some(&format!("__ms_p{i}")),
                    call(
                        "make_list",
                        vec![call(
                            "pack_array",
                            vec![name_expr(BIN, span), name_expr(&c.name, span)],
                            span,
                        )],
                        span,
                    ),
                    span,
                )
            })
            .collect();
        let s2 = self.apply(
            s1,
            &ast::PipeOp {
                kind: PipeOpKind::Summarize {
                    params: vec![],
                    aggregates: pairs,
                    by: by2,
                },
                span,
            },
        )?;
        // 3. Lay the values out on the bins.
        let bounds = || {
            vec![
                super::calls::cast(column(START), num_ty.clone()),
                super::calls::cast(column(END), num_ty.clone()),
                super::calls::cast(step.expr.clone(), num_ty.clone()),
                lit(kind as i64),
            ]
        };
        let mut exprs: Vec<Expr> = by_cols.iter().map(|c| column(&c.name)).collect();
        let mut out_cols = by_cols.clone();
        for (i, (c, a)) in agg_cols.iter().zip(&spec.aggregates).enumerate() {
            let default = match &a.default {
                Some(d) => {
                    let v = self.scalar(d, &[])?;
                    crate::functions::dynamic::to_dynamic_expr(v.expr)
                }
                None => lit("0"),
            };
            let mut args = bounds();
            args.push(column(&format!("__ms_p{i}")));
            args.push(default);
            exprs.push(
                udf::call("series_fill", DataType::Utf8, series::series_fill, args).alias(&c.name),
            );
            out_cols.push(ColumnInfo {
                name: c.name.clone(),
                ty: ScalarType::Dynamic,
            });
        }
        let axis_name =
            super::tabular::derived_name_pub(&spec.axis).unwrap_or_else(|| "Column1".into());
        if !out_cols.iter().any(|c| c.name == axis_name) {
            exprs.push(
                udf::call("series_axis", DataType::Utf8, series::series_axis, bounds())
                    .alias(&axis_name),
            );
            out_cols.push(ColumnInfo {
                name: axis_name,
                ty: ScalarType::Dynamic,
            });
        }
        let plan = build(LogicalPlanBuilder::from(s2.plan).project(exprs), span)?;
        Ok(Tabular {
            plan,
            columns: out_cols,
        })
    }
}
