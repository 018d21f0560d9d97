//! `top-nested [N] of Expr by Aggregation [asc|desc], top-nested ...` (top-nested reference):
//! level i groups by the `of` values of levels 1..i, aggregates, and keeps the top N of each
//! level-(i-1) group by the aggregate (all when N is omitted; descending unless `asc`). The
//! result has, per level, the `of` column then the aggregate column (named
//! `aggregated_<of>` when not named). `with others` is not supported yet.

use super::scalar::column;
use super::tabular::df_error;
use super::{ColumnInfo, PResult, Planner, Tabular, err};
use datafusion::common::JoinType;
use datafusion::logical_expr::{Expr, ExprFunctionExt, LogicalPlanBuilder, lit};
use quarry_syntax::Span;
use quarry_syntax::ast;

impl Planner<'_> {
    pub(super) fn top_nested(
        &mut self,
        t: Tabular,
        levels: &[ast::TopNestedLevel],
        span: Span,
    ) -> PResult<Tabular> {
        if let Some(lv) = levels.iter().find(|l| l.others.is_some()) {
            return err(
                "KQL1005",
                "top-nested `with others` is not supported yet",
                lv.span,
            );
        }
        let mut of_names: Vec<String> = Vec::new();
        let mut agg_names: Vec<String> = Vec::new();
        for (i, lv) in levels.iter().enumerate() {
            let of = lv
                .of
                .names
                .first()
                .map(|n| n.name.clone())
                .or_else(|| super::tabular::derived_name_pub(&lv.of.expr))
                .unwrap_or_else(|| format!("Column{}", i + 1));
            let agg = lv
                .by
                .names
                .first()
                .map(|n| n.name.clone())
                .unwrap_or_else(|| format!("aggregated_{of}"));
            of_names.push(of);
            agg_names.push(agg);
        }
        let bad = |e| df_error(e, span);
        let mut result: Option<Tabular> = None;
        for (i, lv) in levels.iter().enumerate() {
            let by: Vec<ast::NamedExpr> = levels[..=i]
                .iter()
                .zip(&of_names)
                .map(|(l, name)| ast::NamedExpr {
                    names: vec![ast::Ident {
                        name: name.clone(),
                        span: l.span,
                    }],
                    expr: l.of.expr.clone(),
                    span: l.span,
                })
                .collect();
            let aggs = vec![ast::NamedExpr {
                names: vec![ast::Ident {
                    name: agg_names[i].clone(),
                    span: lv.span,
                }],
                expr: lv.by.expr.clone(),
                span: lv.span,
            }];
            let mut level = self.summarize(
                Tabular {
                    plan: t.plan.clone(),
                    columns: t.columns.clone(),
                },
                &aggs,
                &by,
                span,
            )?;
            if let Some(c) = &lv.count {
                let n = self.count_arg(c)?;
                let desc = lv.direction != Some(ast::SortDirection::Asc);
                let rn = datafusion::functions_window::expr_fn::row_number()
                    .partition_by(of_names[..i].iter().map(|k| column(k)).collect())
                    .order_by(vec![column(&agg_names[i]).sort(!desc, false)])
                    .build()
                    .map_err(bad)?;
                let before = level.plan.schema().fields().len();
                let plan = LogicalPlanBuilder::window_plan(level.plan, vec![rn]).map_err(bad)?;
                let rn_name = plan.schema().fields()[before].name().clone();
                let plan = LogicalPlanBuilder::from(plan)
                    .filter(column(&rn_name).lt_eq(lit(n as u64)))
                    .and_then(|b| {
                        b.project(
                            level
                                .columns
                                .iter()
                                .map(|c| column(&c.name))
                                .collect::<Vec<_>>(),
                        )
                    })
                    .and_then(|b| b.build())
                    .map_err(bad)?;
                level = Tabular {
                    plan,
                    columns: level.columns,
                };
            }
            result = Some(match result {
                None => level,
                Some(prev) => {
                    // Keys of the right side renamed, joined to the kept parent groups.
                    let mut right: Vec<Expr> = Vec::new();
                    for (j, k) in of_names[..i].iter().enumerate() {
                        right.push(column(k).alias(format!("__tn_k{j}")));
                    }
                    right.push(column(&of_names[i]));
                    right.push(column(&agg_names[i]));
                    let rplan = LogicalPlanBuilder::from(level.plan)
                        .project(right)
                        .and_then(|b| b.build())
                        .map_err(bad)?;
                    let lkeys: Vec<String> = of_names[..i].to_vec();
                    let rkeys: Vec<String> = (0..i).map(|j| format!("__tn_k{j}")).collect();
                    let mut cols = prev.columns.clone();
                    cols.push(
                        level
                            .columns
                            .iter()
                            .find(|c| c.name == of_names[i])
                            .cloned()
                            .unwrap_or(ColumnInfo {
                                name: of_names[i].clone(),
                                ty: ast::ScalarType::String,
                            }),
                    );
                    cols.push(
                        level
                            .columns
                            .iter()
                            .find(|c| c.name == agg_names[i])
                            .cloned()
                            .unwrap_or(ColumnInfo {
                                name: agg_names[i].clone(),
                                ty: ast::ScalarType::Long,
                            }),
                    );
                    let plan = LogicalPlanBuilder::from(prev.plan)
                        .join(
                            rplan,
                            JoinType::Inner,
                            (
                                lkeys
                                    .iter()
                                    .map(datafusion::common::Column::new_unqualified)
                                    .collect::<Vec<_>>(),
                                rkeys
                                    .iter()
                                    .map(datafusion::common::Column::new_unqualified)
                                    .collect::<Vec<_>>(),
                            ),
                            None,
                        )
                        .and_then(|b| {
                            b.project(cols.iter().map(|c| column(&c.name)).collect::<Vec<_>>())
                        })
                        .and_then(|b| b.build())
                        .map_err(bad)?;
                    Tabular {
                        plan,
                        columns: cols,
                    }
                }
            });
        }
        let Some(out) = result else {
            return err("KQL1005", "top-nested needs at least one level", span);
        };
        // Columns per level: of, aggregate.
        let order: Vec<ColumnInfo> = of_names
            .iter()
            .zip(&agg_names)
            .flat_map(|(o, a)| [o, a])
            .filter_map(|n| out.columns.iter().find(|c| c.name == *n).cloned())
            .collect();
        let plan = LogicalPlanBuilder::from(out.plan)
            .project(order.iter().map(|c| column(&c.name)).collect::<Vec<_>>())
            .and_then(|b| b.build())
            .map_err(bad)?;
        Ok(Tabular {
            plan,
            columns: order,
        })
    }
}
