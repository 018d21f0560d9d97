//! `mv-apply`: expand arrays per input row, run a subquery on each row's expanded rows, and
//! join the subquery's output back to the row.
//!
//! Plan: number the input rows (`__mvapply_row`), `mv-expand` the items (every input column
//! is duplicated onto the expanded rows, so the subquery can use them as Kusto allows), run the
//! subquery's operators with the row number carried along (operators that aggregate or limit
//! work per row: `summarize ... by` gets the row number as an extra key, `take N` keeps N rows
//! per input row), then put the input's other columns back by joining on the row number.
//! Input rows whose subquery returns no rows are dropped, as in Kusto.

use super::scalar::column;
use super::tabular::df_error;
use super::{ColumnInfo, PResult, Planner, Tabular, err};
use datafusion::common::JoinType;
use datafusion::logical_expr::{Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, lit};
use quarry_syntax::Span;
use quarry_syntax::ast::{self, ExprKind, PipeOpKind, ScalarType};

const ROW: &str = "__mvapply_row";
const ROW_R: &str = "__mvapply_row_r";

fn build(
    b: Result<LogicalPlanBuilder, datafusion::error::DataFusionError>,
    span: Span,
) -> PResult<LogicalPlan> {
    b.and_then(|b| b.build()).map_err(|e| df_error(e, span))
}

fn row_ref(span: Span) -> ast::Expr {
    ast::Expr {
        kind: ExprKind::Name(ast::Ident {
            name: ROW.into(),
            span,
        }),
        span,
    }
}

fn row_item(span: Span) -> ast::NamedExpr {
    ast::NamedExpr {
        names: vec![],
        expr: row_ref(span),
        span,
    }
}

impl Planner<'_> {
    pub(super) fn mv_apply(
        &mut self,
        t: Tabular,
        spec: &ast::MvApply,
        span: Span,
    ) -> PResult<Tabular> {
        // 1. Number the input rows.
        let rn = datafusion::functions_window::expr_fn::row_number().alias("__mvapply_rn");
        let mut exprs: Vec<Expr> = t.columns.iter().map(|c| column(&c.name)).collect();
        exprs.push(
            super::calls::cast(
                column("__mvapply_rn"),
                datafusion::arrow::datatypes::DataType::Int64,
            )
            .alias(ROW),
        );
        let plan = build(
            LogicalPlanBuilder::from(t.plan)
                .window(vec![rn])
                .and_then(|b| b.project(exprs)),
            span,
        )?;
        let mut columns = t.columns.clone();
        columns.push(ColumnInfo {
            name: ROW.into(),
            ty: ScalarType::Long,
        });
        let outer = Tabular { plan, columns };
        // 2. Expand.
        let expand = ast::MvExpand {
            params: spec.params.clone(),
            items: spec.items.clone(),
            limit: spec.limit.clone(),
        };
        let mut cur = self.mv_expand(outer.clone(), &expand, false, span)?;
        // 3. The subquery, per input row.
        for op in &spec.subquery.ops {
            cur = self.apply_per_row(cur, op)?;
        }
        // 4. Put the input's other columns back.
        let sub_names: Vec<&str> = cur
            .columns
            .iter()
            .filter(|c| c.name != ROW)
            .map(|c| c.name.as_str())
            .collect();
        if outer
            .columns
            .iter()
            .all(|c| c.name == ROW || sub_names.contains(&c.name.as_str()))
        {
            let cols: Vec<ColumnInfo> = cur
                .columns
                .iter()
                .filter(|c| c.name != ROW)
                .cloned()
                .collect();
            let exprs: Vec<Expr> = cols.iter().map(|c| column(&c.name)).collect();
            let plan = build(LogicalPlanBuilder::from(cur.plan).project(exprs), span)?;
            return Ok(Tabular {
                plan,
                columns: cols,
            });
        }
        let left_cols: Vec<ColumnInfo> = outer
            .columns
            .iter()
            .filter(|c| !sub_names.contains(&c.name.as_str()))
            .cloned()
            .collect();
        let left = build(
            LogicalPlanBuilder::from(outer.plan).project(
                left_cols
                    .iter()
                    .map(|c| column(&c.name))
                    .collect::<Vec<_>>(),
            ),
            span,
        )?;
        let right_exprs: Vec<Expr> = cur
            .columns
            .iter()
            .map(|c| {
                if c.name == ROW {
                    column(ROW).alias(ROW_R)
                } else {
                    column(&c.name)
                }
            })
            .collect();
        let right = build(
            LogicalPlanBuilder::from(cur.plan).project(right_exprs),
            span,
        )?;
        let joined = LogicalPlanBuilder::from(left)
            .join(
                right,
                JoinType::Inner,
                (
                    vec![datafusion::common::Column::new_unqualified(ROW)],
                    vec![datafusion::common::Column::new_unqualified(ROW_R)],
                ),
                None,
            )
            .map_err(|e| df_error(e, span))?;
        let mut cols: Vec<ColumnInfo> = left_cols.into_iter().filter(|c| c.name != ROW).collect();
        cols.extend(cur.columns.iter().filter(|c| c.name != ROW).cloned());
        let plan = build(
            joined.project(cols.iter().map(|c| column(&c.name)).collect::<Vec<_>>()),
            span,
        )?;
        Ok(Tabular {
            plan,
            columns: cols,
        })
    }

    /// One subquery operator of `mv-apply`, on the rows of all input rows at once, keeping the
    /// row number and working per input row where it matters.
    fn apply_per_row(&mut self, t: Tabular, op: &ast::PipeOp) -> PResult<Tabular> {
        let span = op.span;
        let rewritten = match &op.kind {
            PipeOpKind::Project(items) => {
                let mut items = items.clone();
                items.push(row_item(span));
                Some(PipeOpKind::Project(items))
            }
            PipeOpKind::Summarize {
                params,
                aggregates,
                by,
            } => {
                let mut by = by.clone();
                by.push(row_item(span));
                Some(PipeOpKind::Summarize {
                    params: params.clone(),
                    aggregates: aggregates.clone(),
                    by,
                })
            }
            PipeOpKind::Distinct {
                columns,
                all: false,
            } => {
                let mut columns = columns.clone();
                columns.push(row_ref(span));
                Some(PipeOpKind::Distinct {
                    columns,
                    all: false,
                })
            }
            PipeOpKind::ProjectKeep(pats) => {
                let mut pats = pats.clone();
                pats.push(ast::ColumnPattern {
                    pattern: ROW.into(),
                    span,
                });
                Some(PipeOpKind::ProjectKeep(pats))
            }
            PipeOpKind::Take(n) => return self.take_per_row(t, n, span),
            _ => None,
        };
        let out = match rewritten {
            Some(kind) => self.apply(
                t,
                &ast::PipeOp {
                    kind,
                    span: op.span,
                },
            )?,
            None => self.apply(t, op)?,
        };
        if !out.columns.iter().any(|c| c.name == ROW) {
            return err(
                "KQL1005",
                "this operator is not supported inside mv-apply yet",
                span,
            );
        }
        // A `summarize` puts its keys first: keep the row number last, out of the way.
        Ok(out)
    }

    /// `take N` inside mv-apply: at most N rows per input row.
    fn take_per_row(&mut self, t: Tabular, n: &ast::Expr, span: Span) -> PResult<Tabular> {
        let n = self.count_arg_pub(n)?;
        let rn = datafusion::functions_window::expr_fn::row_number()
            .partition_by(vec![column(ROW)])
            .build()
            .map_err(|e| df_error(e, span))?
            .alias("__mvapply_take");
        let plan = build(
            LogicalPlanBuilder::from(t.plan)
                .window(vec![rn])
                .and_then(|b| b.filter(column("__mvapply_take").lt_eq(lit(n as u64))))
                .and_then(|b| {
                    b.project(
                        t.columns
                            .iter()
                            .map(|c| column(&c.name))
                            .collect::<Vec<_>>(),
                    )
                }),
            span,
        )?;
        Ok(Tabular {
            plan,
            columns: t.columns,
        })
    }
}
