//! `parse-kv expr as (key: type, ...) [with (...)]` (extraction in `functions::kv`) and
//! `project-by-names`-style helpers that only reshape columns.

use super::scalar::{column, string_lit};
use super::tabular::df_error;
use super::{ColumnInfo, PResult, Planner, Tabular, err};
use crate::functions::{convert, kv, udf};
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use quarry_syntax::Span;
use quarry_syntax::ast::{self, ScalarType};

fn name_expr(name: &str, span: Span) -> ast::Expr {
    ast::Expr {
        kind: ast::ExprKind::Name(ast::Ident {
            name: name.to_string(),
            span,
        }),
        span,
    }
}

fn literal_text(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ast::ExprKind::Literal(ast::Literal::String(s)) => Some(s.clone()),
        ast::ExprKind::Literal(ast::Literal::Bool(Some(b))) => Some(b.to_string()),
        ast::ExprKind::Name(id) => Some(id.name.clone()),
        _ => None,
    }
}

impl Planner<'_> {
    pub(super) fn parse_kv(
        &mut self,
        t: Tabular,
        spec: &ast::ParseKv,
        span: Span,
    ) -> PResult<Tabular> {
        let (mut pair, mut kvd, mut regex) = (None, None, None);
        let (mut quotes, mut escapes, mut greedy) = (Vec::new(), Vec::new(), false);
        for p in &spec.properties {
            let Some(v) = literal_text(&p.value) else {
                return err(
                    "KQL1094",
                    format!("parse-kv: `{}` must be a constant", p.name.name),
                    p.value.span,
                );
            };
            match p.name.name.as_str() {
                "pair_delimiter" => pair = Some(v),
                "kv_delimiter" => kvd = Some(v),
                "quote" => quotes.push(v),
                "escape" => escapes.push(v),
                "greedy" => greedy = v == "true",
                "regex" => {
                    match regex::Regex::new(&v) {
                        Ok(r) if r.captures_len() == 3 => {}
                        Ok(_) => {
                            return err(
                                "KQL1094",
                                "parse-kv: the regex must have exactly two capturing groups (key, value)",
                                p.value.span,
                            );
                        }
                        Err(e) => {
                            return err(
                                "KQL1035",
                                format!(
                                    "parse-kv: invalid regex: {}",
                                    e.to_string().lines().last().unwrap_or("").trim()
                                ),
                                p.value.span,
                            );
                        }
                    }
                    regex = Some(v);
                }
                other => {
                    return err(
                        "KQL1094",
                        format!("parse-kv: unknown property `{other}`"),
                        p.name.span,
                    );
                }
            }
        }
        if regex.is_none() && pair.is_some() != kvd.is_some() {
            return err(
                "KQL1094",
                "parse-kv: give both pair_delimiter and kv_delimiter, or neither",
                span,
            );
        }
        let keys: Vec<String> = spec.keys.iter().map(|k| k.name.name.clone()).collect();
        let config = kv::KvConfig::to_json(
            pair.as_deref(),
            kvd.as_deref(),
            &quotes,
            &escapes,
            greedy,
            regex.as_deref(),
            &keys,
        );
        let source = self.string_operand(&spec.source, &t.columns)?;
        let mut exprs: Vec<Expr> = Vec::new();
        let mut cols: Vec<ColumnInfo> = Vec::new();
        for c in &t.columns {
            if keys.contains(&c.name) {
                continue;
            }
            exprs.push(column(&c.name));
            cols.push(c.clone());
        }
        for k in &spec.keys {
            let text = udf::call(
                "parse_kv_value",
                DataType::Utf8,
                kv::parse_kv_value,
                vec![
                    source.expr.clone(),
                    string_lit(&config),
                    string_lit(&k.name.name),
                ],
            );
            let ty = k.ty.ty;
            let value = if ty == ScalarType::String {
                // Kusto strings are never null: a missing key is "".
                datafusion::functions::expr_fn::coalesce(vec![text, string_lit("")])
            } else {
                convert::convert(text, ScalarType::String, ty)
            };
            exprs.push(value.alias(&k.name.name));
            cols.push(ColumnInfo {
                name: k.name.name.clone(),
                ty,
            });
        }
        let plan = LogicalPlanBuilder::from(t.plan)
            .project(exprs)
            .and_then(|b| b.build())
            .map_err(|e| df_error(e, span))?;
        Ok(Tabular {
            plan,
            columns: cols,
        })
    }
}

impl Planner<'_> {
    /// Functions that read the row's schema or a tabular argument at plan time:
    /// `pack_all([ignore_null_empty])` and `column_names_of(T)`. `None`: not one of them.
    pub(super) fn row_function(
        &mut self,
        fname: &str,
        args: &[ast::Arg],
        row: &[ColumnInfo],
        span: Span,
    ) -> PResult<Option<super::Typed>> {
        if let Some(t) = self.serial_function(fname, args, row, span)? {
            return Ok(Some(t));
        }
        match fname {
            "bin_auto" => {
                if args.len() != 1 {
                    return err("KQL1020", "`bin_auto` takes one argument", span);
                }
                if self.lookup("__set_query_bin_auto_size").is_none() {
                    return err(
                        "KQL1020",
                        "`bin_auto` needs `set query_bin_auto_size = ...;` before the query",
                        span,
                    );
                }
                let x = self.scalar(&args[0].value, row)?;
                let at_name = "__set_query_bin_auto_at";
                let at = if self.lookup(at_name).is_some() {
                    name_expr(at_name, span)
                } else if x.ty == ScalarType::DateTime {
                    ast::Expr {
                        kind: ast::ExprKind::Literal(ast::Literal::DateTime(Some(
                            "1970-01-01".into(),
                        ))),
                        span,
                    }
                } else {
                    ast::Expr {
                        kind: ast::ExprKind::Literal(ast::Literal::Long(Some(0))),
                        span,
                    }
                };
                // bin_at(x, size, at)
                let call = ast::Expr {
                    kind: ast::ExprKind::Call {
                        name: ast::Ident {
                            name: "bin_at".into(),
                            span,
                        },
                        args: vec![
                            args[0].clone(),
                            ast::Arg {
                                name: None,
                                value: name_expr("__set_query_bin_auto_size", span),
                            },
                            ast::Arg {
                                name: None,
                                value: at,
                            },
                        ],
                    },
                    span,
                };
                let _ = x;
                Ok(Some(self.scalar(&call, row)?))
            }
            "pack_all" => {
                if args.len() > 1 {
                    return err("KQL1020", "`pack_all` takes 0 to 1 argument(s)", span);
                }
                let ignore = match args.first() {
                    Some(a) => {
                        let v = self.scalar(&a.value, row)?;
                        if v.ty != ScalarType::Bool {
                            return err(
                                "KQL1060",
                                "`pack_all`: ignore_null_empty must be a bool",
                                a.value.span,
                            );
                        }
                        v.expr
                    }
                    None => datafusion::logical_expr::lit(false),
                };
                // Inside `extend`, the operator's input columns (when `row` extends them).
                let packed: &[ColumnInfo] = match &self.extend_input {
                    Some(input) if row.starts_with(input) => input,
                    _ => row,
                };
                let packed = packed.to_vec();
                let mut call_args = Vec::with_capacity(packed.len() * 2 + 1);
                call_args.push(ignore);
                for c in &packed {
                    call_args.push(string_lit(&c.name));
                    let v = column(&c.name);
                    call_args.push(if c.ty == ScalarType::Dynamic {
                        v
                    } else {
                        crate::functions::dynamic::to_dynamic_expr(v)
                    });
                }
                Ok(Some(super::Typed::new(
                    udf::call(
                        "pack_all",
                        DataType::Utf8,
                        crate::functions::misc::pack_all,
                        call_args,
                    ),
                    ScalarType::Dynamic,
                )))
            }
            "column_names_of" => {
                if args.len() != 1 {
                    return err(
                        "KQL1020",
                        "`column_names_of` takes one tabular argument",
                        span,
                    );
                }
                let t = self.tabular(&args[0].value)?;
                let names: Vec<serde_json::Value> = t
                    .columns
                    .iter()
                    .map(|c| serde_json::Value::String(c.name.clone()))
                    .collect();
                Ok(Some(super::Typed::new(
                    string_lit(&crate::functions::dynamic::json_text(
                        &serde_json::Value::Array(names),
                    )),
                    ScalarType::Dynamic,
                )))
            }
            _ => Ok(None),
        }
    }
}

impl Planner<'_> {
    /// `project-by-names`: the columns named by constant strings (names or `*` patterns) or
    /// constant dynamic arrays of them, in argument order; names that match no column are
    /// ignored (project-by-names reference), and a column is projected once.
    pub(super) fn project_by_names(
        &mut self,
        t: Tabular,
        items: &[ast::Expr],
        span: Span,
    ) -> PResult<Tabular> {
        let mut names: Vec<String> = Vec::new();
        for e in items {
            let v = self.scalar(e, &t.columns)?;
            let value = super::tabular::eval_constant_pub(&v.expr);
            let texts: Vec<String> = match value {
                Some(datafusion::common::ScalarValue::Utf8(Some(s)))
                    if v.ty == ScalarType::Dynamic =>
                {
                    match crate::functions::dynamic::parse_dynamic(&s) {
                        serde_json::Value::Array(a) => a
                            .iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect(),
                        serde_json::Value::String(x) => vec![x],
                        _ => vec![],
                    }
                }
                Some(datafusion::common::ScalarValue::Utf8(Some(s))) => vec![s],
                _ => {
                    return err(
                        "KQL1095",
                        "project-by-names takes constant column names, patterns or arrays of them",
                        e.span,
                    );
                }
            };
            names.extend(texts);
        }
        let mut cols: Vec<ColumnInfo> = Vec::new();
        for n in &names {
            for c in &t.columns {
                let hit = if n.contains('*') {
                    super::tabular::glob_pub(n, &c.name)
                } else {
                    *n == c.name
                };
                if hit && !cols.iter().any(|x| x.name == c.name) {
                    cols.push(c.clone());
                }
            }
        }
        let exprs: Vec<Expr> = cols.iter().map(|c| column(&c.name)).collect();
        let plan = LogicalPlanBuilder::from(t.plan)
            .project(exprs)
            .and_then(|b| b.build())
            .map_err(|e| df_error(e, span))?;
        Ok(Tabular {
            plan,
            columns: cols,
        })
    }
}

impl Planner<'_> {
    /// `range` whose bounds are computed at run time (`toscalar(...)`): integer bounds only,
    /// expanded from `generate_series` on one row.
    pub(super) fn range_computed(
        &mut self,
        c: &ast::Ident,
        from: super::Typed,
        to: super::Typed,
        step: super::Typed,
        span: Span,
    ) -> PResult<Tabular> {
        let ints = [&from, &to, &step]
            .iter()
            .all(|t| matches!(t.ty, ScalarType::Int | ScalarType::Long));
        if !ints {
            return err(
                "KQL1072",
                "range bounds and step must be constants (or long values computed by toscalar)",
                span,
            );
        }
        let long = |t: super::Typed| super::calls::cast(t.expr, DataType::Int64);
        let series =
            datafusion::functions_nested::expr_fn::gen_series(long(from), long(to), long(step));
        let bad = |e| df_error(e, span);
        let plan = LogicalPlanBuilder::empty(true)
            .project(vec![series.alias(&c.name)])
            .and_then(|b| b.unnest_column(c.name.as_str()))
            .and_then(|b| b.project(vec![column(&c.name)]))
            .and_then(|b| b.build())
            .map_err(bad)?;
        Ok(Tabular {
            plan,
            columns: vec![ColumnInfo {
                name: c.name.clone(),
                ty: ScalarType::Long,
            }],
        })
    }
}
