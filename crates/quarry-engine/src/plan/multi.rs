//! Operators that end a query with several result tables: `fork` (one result per branch) and
//! `facet` (the `with` subquery's result, then one `value, count_value` table per column).
//! Their results cannot be piped further, so they are planned at the statement level.

use super::scalar::column;
use super::tabular::df_error;
use super::{ColumnInfo, PResult, Planner, Tabular, err};
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{LogicalPlanBuilder, lit};
use quarry_syntax::ast::{self, ExprKind, PipeOpKind, ScalarType};

impl Planner<'_> {
    /// The result tables of a query ending in `fork` or `facet`; `None` for any other query.
    pub(super) fn plan_multi(&mut self, e: &ast::Expr) -> PResult<Option<Vec<Tabular>>> {
        let ExprKind::Pipe { input, op } = &e.kind else {
            return Ok(None);
        };
        match &op.kind {
            PipeOpKind::Fork(branches) => {
                let t = self.tabular(input)?;
                let mut out = Vec::with_capacity(branches.len());
                for b in branches {
                    let mut r = t.clone();
                    for o in &b.query.ops {
                        r = self.apply(r, o)?;
                    }
                    out.push(r);
                }
                Ok(Some(out))
            }
            PipeOpKind::Facet { columns, with } => {
                let t = self.tabular(input)?;
                let mut out = Vec::new();
                if let Some(q) = with {
                    let mut r = t.clone();
                    for o in &q.ops {
                        r = self.apply(r, o)?;
                    }
                    out.push(r);
                }
                for c in columns {
                    let Some(info) = t.columns.iter().find(|x| x.name == c.name) else {
                        return err(
                            "KQL1001",
                            format!("unknown column `{}` in `facet by`", c.name),
                            c.span,
                        );
                    };
                    let count_name = format!("count_{}", c.name);
                    let plan = LogicalPlanBuilder::from(t.plan.clone())
                        .aggregate(
                            vec![column(&c.name)],
                            vec![agg::count(lit(1i64)).alias(&count_name)],
                        )
                        .and_then(|b| b.build())
                        .map_err(|e| df_error(e, c.span))?;
                    out.push(Tabular {
                        plan,
                        columns: vec![
                            info.clone(),
                            ColumnInfo {
                                name: count_name,
                                ty: ScalarType::Long,
                            },
                        ],
                    });
                }
                Ok(Some(out))
            }
            _ => Ok(None),
        }
    }
}
