//! `partition [hint...] by k (subquery)`: the subquery applied to the rows of each value of
//! `k`, results unioned (partition operator reference). Planned as one pass with `k` as an
//! implicit key: window functions (`prev`, `row_number`, `scan`, ...) are partitioned by `k`,
//! `summarize` groups by `k` too, and `top`/`take` keep N rows per value of `k`. Operators
//! that work row by row (`where`, `extend`, `project`, `sort`, `parse`, ...) are unchanged.

use super::scalar::column;
use super::tabular::df_error;
use super::{PResult, Planner, Tabular, err};
use datafusion::logical_expr::{Expr, ExprFunctionExt, LogicalPlanBuilder, lit};
use quarry_syntax::Span;
use quarry_syntax::ast::{self, PipeOpKind};

impl Planner<'_> {
    /// The enclosing partition key, as window `PARTITION BY` expressions.
    pub(super) fn partition_keys(&self) -> Vec<Expr> {
        self.partition_key.iter().map(|k| column(k)).collect()
    }

    pub(super) fn partition_op(
        &mut self,
        t: Tabular,
        p: &ast::Partition,
        span: Span,
    ) -> PResult<Tabular> {
        let key = p.by.name.clone();
        if !t.columns.iter().any(|c| c.name == key) {
            return err(
                "KQL1001",
                format!("unknown column `{key}` in partition by"),
                p.by.span,
            );
        }
        let ast::PartitionBody::Subquery(sq) = &p.body else {
            return err(
                "KQL1005",
                "`partition by k { query }` is not supported yet; use `partition by k (operators)`",
                span,
            );
        };
        let saved = self.partition_key.replace(key.clone());
        let out = self.partition_ops(t, &key, &sq.ops);
        self.partition_key = saved;
        out
    }

    fn partition_ops(&mut self, t: Tabular, key: &str, ops: &[ast::PipeOp]) -> PResult<Tabular> {
        let mut cur = t;
        for op in ops {
            let span = op.span;
            cur = match &op.kind {
                PipeOpKind::Top { count, key: sort } => {
                    let n = self.count_arg(count)?;
                    let sorts = self.sort_exprs(std::slice::from_ref(sort), &cur.columns)?;
                    self.per_key_limit(cur, key, sorts, n, span)?
                }
                PipeOpKind::Take(count) => {
                    let n = self.count_arg(count)?;
                    self.per_key_limit(cur, key, vec![], n, span)?
                }
                PipeOpKind::Summarize { aggregates, by, .. } => {
                    let mut by2 = by.clone();
                    let has_key = by.iter().any(|b| {
                        b.names.is_empty()
                            && matches!(&b.expr.kind, ast::ExprKind::Name(id) if id.name == key)
                    });
                    if !has_key {
                        by2.insert(
                            0,
                            ast::NamedExpr {
                                names: vec![],
                                expr: ast::Expr {
                                    kind: ast::ExprKind::Name(ast::Ident {
                                        name: key.to_string(),
                                        span,
                                    }),
                                    span,
                                },
                                span,
                            },
                        );
                    }
                    self.summarize(cur, aggregates, &by2, span)?
                }
                PipeOpKind::Where(_)
                | PipeOpKind::Extend(_)
                | PipeOpKind::Project(_)
                | PipeOpKind::ProjectAway(_)
                | PipeOpKind::ProjectKeep(_)
                | PipeOpKind::ProjectRename(_)
                | PipeOpKind::ProjectReorder(_)
                | PipeOpKind::Sort(_)
                | PipeOpKind::Serialize(_)
                | PipeOpKind::Parse(_)
                | PipeOpKind::ParseWhere(_)
                | PipeOpKind::ParseKv(_)
                | PipeOpKind::MvExpand(_)
                | PipeOpKind::Scan(_)
                | PipeOpKind::Render(_) => self.apply(cur, op)?,
                _ => {
                    return err(
                        "KQL1005",
                        "this operator is not supported inside `partition` yet (supported: where, extend, project*, sort, top, take, summarize, parse*, mv-expand, scan)",
                        span,
                    );
                }
            };
        }
        Ok(cur)
    }

    /// The first `n` rows of each value of `key` (in `sorts` order).
    fn per_key_limit(
        &mut self,
        t: Tabular,
        key: &str,
        sorts: Vec<datafusion::logical_expr::SortExpr>,
        n: usize,
        span: Span,
    ) -> PResult<Tabular> {
        let bad = |e| df_error(e, span);
        let rn = datafusion::functions_window::expr_fn::row_number()
            .partition_by(vec![column(key)])
            .order_by(sorts.clone())
            .build()
            .map_err(bad)?;
        let before = t.plan.schema().fields().len();
        let plan = LogicalPlanBuilder::window_plan(t.plan, vec![rn]).map_err(bad)?;
        let rn_name = plan.schema().fields()[before].name().clone();
        let mut b = LogicalPlanBuilder::from(plan)
            .filter(column(&rn_name).lt_eq(lit(n as u64)))
            .map_err(bad)?;
        if !sorts.is_empty() {
            let mut keyed = vec![column(key).sort(true, false)];
            keyed.extend(sorts);
            b = b.sort(keyed).map_err(bad)?;
        }
        let plan = b
            .project(
                t.columns
                    .iter()
                    .map(|c| column(&c.name))
                    .collect::<Vec<_>>(),
            )
            .and_then(|b| b.build())
            .map_err(bad)?;
        Ok(Tabular {
            plan,
            columns: t.columns,
        })
    }
}
