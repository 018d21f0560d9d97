//! Planning of the functions over the serialized row set (`prev`, `next`, `row_number`,
//! `row_cumsum`, `row_rank_min`, `row_rank_dense`, `row_window_session`): each is a window
//! function over the whole input (see `functions::serial`). `extend`/`project` put the window
//! calls of their expressions into `Window` nodes, innermost first (a window call may take
//! another one's result as an argument: `row_rank_min(v, c != prev(c))`).

use super::calls::cast;
use super::{ColumnInfo, PResult, Planner, Typed, err};
use crate::functions::serial;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use quarry_syntax::Span;
use quarry_syntax::ast::{self, ScalarType};
use std::sync::Arc;

pub(super) const SERIAL_FUNCTIONS: &[&str] = &[
    "prev",
    "next",
    "row_number",
    "row_cumsum",
    "row_rank_min",
    "row_rank_dense",
    "row_window_session",
];

fn contains_window(e: &Expr) -> bool {
    let mut found = false;
    let _ = e.apply(|n| {
        if matches!(n, Expr::WindowFunction(_)) {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// Adds `Window` nodes computing the window calls of `exprs` (innermost first) and rewrites
/// `exprs` to read their results. Expressions without window calls are returned unchanged.
pub(super) fn plan_windows(
    mut plan: LogicalPlan,
    exprs: Vec<Expr>,
    partition: Vec<Expr>,
) -> datafusion::error::Result<(LogicalPlan, Vec<Expr>)> {
    let mut exprs = exprs;
    while exprs.iter().any(contains_window) {
        // Window calls whose arguments hold no window call.
        let mut innermost: Vec<Expr> = Vec::new();
        for e in &exprs {
            e.apply(|node| {
                if let Expr::WindowFunction(w) = node
                    && !w.params.args.iter().any(contains_window)
                    && !innermost.contains(node)
                {
                    innermost.push(node.clone());
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
        }
        // The order of the rows: the sort keys of the `sort` below, when they still hold, so
        // that the optimiser keeps the rows in that order for the window.
        let order = inherited_order(&plan);
        // Window nodes name their outputs after the expression.
        let named: Vec<(Expr, Expr, String)> = innermost
            .into_iter()
            .map(|w| {
                let ordered = match &w {
                    Expr::WindowFunction(f) => {
                        let mut f = f.clone();
                        if let Some(keys) = &order
                            && f.params.order_by.is_empty()
                        {
                            f.params.order_by = keys.clone();
                        }
                        // Inside `partition by k (...)`: each partition separately.
                        if f.params.partition_by.is_empty() {
                            f.params.partition_by = partition.clone();
                        }
                        Expr::WindowFunction(f)
                    }
                    _ => w.clone(),
                };
                let name = ordered.schema_name().to_string();
                (w, ordered, name)
            })
            .collect();
        let before = plan.schema().fields().len();
        plan = LogicalPlanBuilder::window_plan(plan, named.iter().map(|(_, o, _)| o.clone()))?;
        // The Window node names its outputs after the normalised (qualified) expressions.
        let added: Vec<String> = plan.schema().fields()[before.min(plan.schema().fields().len())..]
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let named: Vec<(Expr, Expr, String)> = if added.len() == named.len() {
            named
                .into_iter()
                .zip(added)
                .map(|((w, o, _), name)| (w, o, name))
                .collect()
        } else {
            named
        };
        exprs = exprs
            .into_iter()
            .map(|e| {
                e.transform_up(|node| {
                    if let Some((_, _, name)) = named.iter().find(|(w, _, _)| *w == node) {
                        return Ok(Transformed::yes(super::scalar::column(name)));
                    }
                    Ok(Transformed::no(node))
                })
                .map(|t| t.data)
            })
            .collect::<datafusion::error::Result<Vec<_>>>()?;
    }
    Ok((plan, exprs))
}

/// The sort keys that order `plan`'s rows: those of the nearest `Sort` below, through nodes
/// that keep row order and the key columns (projections passing them through unchanged).
fn inherited_order(plan: &LogicalPlan) -> Option<Vec<datafusion::logical_expr::SortExpr>> {
    match plan {
        LogicalPlan::Sort(s) => Some(s.expr.clone()),
        LogicalPlan::Filter(f) => inherited_order(&f.input),
        LogicalPlan::Window(w) => inherited_order(&w.input),
        LogicalPlan::Limit(l) => inherited_order(&l.input),
        LogicalPlan::SubqueryAlias(a) => inherited_order(&a.input),
        LogicalPlan::Projection(p) => {
            let keys = inherited_order(&p.input)?;
            for k in &keys {
                for c in k.expr.column_refs() {
                    let kept = p.expr.iter().any(|e| match e {
                        Expr::Column(x) => x.name == c.name,
                        Expr::Alias(a) => {
                            a.name == c.name
                                && matches!(&*a.expr, Expr::Column(x) if x.name == c.name)
                        }
                        _ => false,
                    });
                    if !kept {
                        return None;
                    }
                }
            }
            Some(keys)
        }
        _ => None,
    }
}

impl Planner<'_> {
    pub(super) fn serial_function(
        &mut self,
        fname: &str,
        args: &[ast::Arg],
        row: &[ColumnInfo],
        span: Span,
    ) -> PResult<Option<Typed>> {
        use ScalarType as T;
        if !SERIAL_FUNCTIONS.contains(&fname) {
            return Ok(None);
        }
        let (lo, hi) = match fname {
            "prev" | "next" => (1, 3),
            "row_number" => (0, 2),
            "row_cumsum" | "row_rank_min" | "row_rank_dense" => (1, 2),
            _ => (3, 4),
        };
        if args.len() < lo || args.len() > hi {
            return err(
                "KQL1020",
                format!(
                    "`{fname}` takes {lo} to {hi} argument(s), {} given",
                    args.len()
                ),
                span,
            );
        }
        let mut typed = Vec::with_capacity(args.len());
        for a in args {
            typed.push(self.scalar(&a.value, row)?);
        }
        let mut exprs: Vec<Expr> = typed.iter().map(|t| t.expr.clone()).collect();
        if fname == "row_number" && exprs.is_empty() {
            exprs.push(datafusion::logical_expr::lit(1i64));
        }
        let restart_ok = |i: usize| typed.get(i).is_none_or(|t| t.ty == T::Bool);
        let (ret, kernel): (T, serial::SerialFn) = match fname {
            "prev" | "next" => {
                let forward = fname == "next";
                let ty = typed[0].ty;
                (ty, Arc::new(move |v: &[_], n| serial::shift(v, n, forward)))
            }
            "row_number" => {
                if !restart_ok(1) {
                    return err("KQL1060", "`row_number`: restart must be a bool", span);
                }
                (T::Long, Arc::new(serial::row_number))
            }
            "row_cumsum" => {
                if !restart_ok(1) {
                    return err("KQL1060", "`row_cumsum`: restart must be a bool", span);
                }
                let ty = match typed[0].ty {
                    T::Int | T::Long => T::Long,
                    T::Real | T::Decimal => T::Real,
                    other => {
                        return err(
                            "KQL1060",
                            format!("`row_cumsum` needs a number, got {}", other.name()),
                            span,
                        );
                    }
                };
                exprs[0] = cast(exprs[0].clone(), crate::types::arrow_type(ty));
                return Ok(Some(Typed::new(
                    serial::call(
                        fname,
                        crate::types::arrow_type(ty),
                        Arc::new(serial::row_cumsum),
                        exprs,
                    ),
                    ty,
                )));
            }
            "row_rank_min" | "row_rank_dense" => {
                if !restart_ok(1) {
                    return err(
                        "KQL1060",
                        format!("`{fname}`: restart must be a bool"),
                        span,
                    );
                }
                let dense = fname == "row_rank_dense";
                (
                    T::Long,
                    Arc::new(move |v: &[_], n| serial::row_rank(v, n, dense)),
                )
            }
            _ => {
                if typed[0].ty != T::DateTime {
                    return err("KQL1060", "`row_window_session` needs a datetime", span);
                }
                if !restart_ok(3) {
                    return err(
                        "KQL1060",
                        "`row_window_session`: restart must be a bool",
                        span,
                    );
                }
                (T::DateTime, Arc::new(serial::row_window_session))
            }
        };
        let arrow = crate::types::arrow_type(ret);
        Ok(Some(Typed::new(
            serial::call(fname, arrow, kernel, exprs),
            ret,
        )))
    }
}
