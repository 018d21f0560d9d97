//! The less common query operators: `mv-expand`, `parse`/`parse-where`, `lookup`, `invoke`,
//! `render`, `search`, `sample`, `sample-distinct`, `top-hitters`.

use super::scalar::{column, string_lit};
use super::tabular::df_error;
use super::{Binding, ColumnInfo, PResult, Planner, Tabular, Typed, err};
use crate::functions::{convert, expand, udf};
use datafusion::common::{Column, ScalarValue, UnnestOptions};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, lit};
use quarry_syntax::Span;
use quarry_syntax::ast::{self, ExprKind, ParsePart, ScalarType};

/// The value of an operator parameter given as a bare word or a string (`kind=regex`).
/// See [`param_word`].
pub(super) fn param_word_pub<'a>(params: &'a [ast::OpParam], name: &str) -> Option<&'a str> {
    param_word(params, name)
}

pub(super) fn param_word<'a>(params: &'a [ast::OpParam], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|p| p.name.name == name)
        .and_then(|p| match &p.value.kind {
            ExprKind::Name(id) => Some(id.name.as_str()),
            ExprKind::Literal(ast::Literal::String(s)) => Some(s.as_str()),
            _ => None,
        })
}

fn build(
    b: Result<LogicalPlanBuilder, datafusion::error::DataFusionError>,
    span: Span,
) -> PResult<datafusion::logical_expr::LogicalPlan> {
    b.and_then(|b| b.build()).map_err(|e| df_error(e, span))
}

/// The regex fragment a typed `parse` column captures (Kusto's documented translation:
/// `*` → `.*?`, string → `.*?`, long → `\-\d+`, with optional signs and fractions).
fn capture_for(ty: ScalarType, last: bool) -> &'static str {
    match ty {
        ScalarType::Int | ScalarType::Long => r"[-+]?\d+",
        ScalarType::Real | ScalarType::Decimal => r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?",
        ScalarType::Bool => r"(?i:true|false)",
        ScalarType::Guid => {
            r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
        }
        _ if last => r".*",
        _ => r".*?",
    }
}

impl Planner<'_> {
    pub(super) fn mv_expand(
        &mut self,
        t: Tabular,
        spec: &ast::MvExpand,
        legacy: bool,
        span: Span,
    ) -> PResult<Tabular> {
        let bags_as_arrays = matches!(
            param_word(&spec.params, "bagexpansion").or(param_word(&spec.params, "kind")),
            Some("array")
        );
        let index_name = spec
            .params
            .iter()
            .find(|p| p.name.name == "with_itemindex")
            .and_then(|p| match &p.value.kind {
                ExprKind::Name(id) => Some(id.name.clone()),
                _ => None,
            });
        // `mvexpand` (legacy) keeps at most 128 rows per input row unless told otherwise.
        let limit = match &spec.limit {
            Some(e) => {
                let v = self.scalar(e, &[])?;
                match &v.expr {
                    Expr::Literal(ScalarValue::Int64(Some(n)), _) => Some(*n),
                    Expr::Literal(ScalarValue::Int32(Some(n)), _) => Some(*n as i64),
                    _ => return err("KQL1082", "mv-expand limit must be a constant", e.span),
                }
            }
            None if legacy => Some(128),
            None => None,
        };
        // 1. Input columns plus one list column per item.
        let mut exprs: Vec<Expr> = t.columns.iter().map(|c| column(&c.name)).collect();
        let mut targets: Vec<(String, Option<ScalarType>)> = Vec::new();
        let mut list_cols = Vec::new();
        for (i, item) in spec.items.iter().enumerate() {
            let v = self.scalar(&item.expr, &t.columns)?;
            let dynamic = if v.ty == ScalarType::Dynamic {
                v.expr
            } else if v.ty == ScalarType::String {
                // A string is expanded as the JSON it holds, if it holds any.
                udf::call(
                    "parse_json",
                    datafusion::arrow::datatypes::DataType::Utf8,
                    crate::functions::dynamic::parse_json,
                    vec![v.expr],
                )
            } else {
                crate::functions::dynamic::to_dynamic_expr(v.expr)
            };
            let name = match (&item.name, &item.expr.kind) {
                (Some(n), _) => n.name.clone(),
                (None, ExprKind::Name(id)) => id.name.clone(),
                // `mv-expand todynamic(Entities)` expands into `Entities` itself: Microsoft's own
                // Sentinel rules go on with `where Entities["Type"] == ...` (inferred: the
                // reference does not spell out the name of a converted column).
                (None, ExprKind::Call { name: f, args })
                    if matches!(f.name.as_str(), "todynamic" | "parse_json" | "toobject")
                        && args.len() == 1
                        && matches!(args[0].value.kind, ExprKind::Name(_)) =>
                {
                    match &args[0].value.kind {
                        ExprKind::Name(id) => id.name.clone(),
                        _ => format!("Column{}", i + 1),
                    }
                }
                (None, _) => super::tabular::derived_name_pub(&item.expr)
                    .unwrap_or_else(|| format!("Column{}", i + 1)),
            };
            let list = format!("__mv{i}");
            exprs.push(
                udf::call(
                    "mv_expand",
                    expand::list_type(),
                    expand::mv_expand_list,
                    vec![
                        dynamic.clone(),
                        lit(bags_as_arrays),
                        lit(limit.unwrap_or(i64::MAX)),
                    ],
                )
                .alias(&list),
            );
            if i == 0 && index_name.is_some() {
                exprs.push(
                    udf::call(
                        "mv_expand_index",
                        expand::index_list_type(),
                        expand::mv_expand_index,
                        vec![dynamic, lit(limit.unwrap_or(i64::MAX))],
                    )
                    .alias("__mvidx"),
                );
                list_cols.push(Column::new_unqualified("__mvidx"));
            }
            list_cols.push(Column::new_unqualified(&list));
            targets.push((name, item.to_type.as_ref().map(|t| t.ty)));
        }
        // 2. Unnest all lists in parallel (shorter lists pad with nulls, as Kusto does).
        let options = UnnestOptions::new().with_preserve_nulls(false);
        let b = LogicalPlanBuilder::from(t.plan)
            .project(exprs)
            .and_then(|b| b.unnest_columns_with_options(list_cols, options))
            .map_err(|e| df_error(e, span))?;
        // 3. Put expanded values in place (or at the end for new names).
        let mut out_exprs = Vec::new();
        let mut cols: Vec<ColumnInfo> = Vec::new();
        let expanded = |i: usize, ty: Option<ScalarType>| -> (Expr, ScalarType) {
            let e = column(&format!("__mv{i}"));
            match ty {
                None | Some(ScalarType::Dynamic) => (e, ScalarType::Dynamic),
                Some(t) => (convert::cast_dynamic(e, t), t),
            }
        };
        for c in &t.columns {
            match targets.iter().position(|(n, _)| *n == c.name) {
                Some(i) => {
                    let (e, ty) = expanded(i, targets[i].1);
                    out_exprs.push(e.alias(&c.name));
                    cols.push(ColumnInfo {
                        name: c.name.clone(),
                        ty,
                    });
                }
                None => {
                    out_exprs.push(column(&c.name));
                    cols.push(c.clone());
                }
            }
        }
        for (i, (name, ty)) in targets.iter().enumerate() {
            if cols.iter().any(|c| &c.name == name) {
                continue;
            }
            let (e, ty) = expanded(i, *ty);
            out_exprs.push(e.alias(name));
            cols.push(ColumnInfo {
                name: name.clone(),
                ty,
            });
        }
        if let Some(ix) = index_name {
            out_exprs.push(column("__mvidx").alias(&ix));
            cols.push(ColumnInfo {
                name: ix,
                ty: ScalarType::Long,
            });
        }
        let plan = build(b.project(out_exprs), span)?;
        Ok(Tabular {
            plan,
            columns: cols,
        })
    }

    /// `parse` / `parse-where`: the pattern becomes one regex with a named group per column;
    /// typed columns must match their type (kind=simple/regex: else the whole row's captures
    /// are null; kind=relaxed: only that column is null).
    pub(super) fn parse_op(
        &mut self,
        t: Tabular,
        spec: &ast::ParseSpec,
        filter: bool,
        span: Span,
    ) -> PResult<Tabular> {
        let kind = param_word(&spec.params, "kind").unwrap_or("simple");
        if !matches!(kind, "simple" | "regex" | "relaxed") {
            return err(
                "KQL1093",
                format!("unknown parse kind `{kind}` (use simple, regex or relaxed)"),
                span,
            );
        }
        let flags = param_word(&spec.params, "flags").unwrap_or("");
        let mut re = String::new();
        if !flags.is_empty() {
            re.push_str(&format!("(?{flags})"));
        }
        re.push('^');
        let mut columns: Vec<(String, ScalarType, Span)> = Vec::new();
        let n_parts = spec.parts.len();
        for (i, part) in spec.parts.iter().enumerate() {
            let last = i + 1 == n_parts;
            match part {
                // kind=regex: `*` and string columns are greedy `.*` (flags=U makes them lazy,
                // parse reference's `flags=Ui` example); simple/relaxed match lazily.
                ParsePart::Wildcard(_) => {
                    re.push_str(if last || kind == "regex" { ".*" } else { ".*?" })
                }
                ParsePart::Literal { value, .. } => {
                    if kind == "regex" {
                        re.push_str(&format!("(?:{value})"));
                    } else {
                        re.push_str(&regex::escape(value));
                    }
                }
                ParsePart::Column { name, ty } => {
                    let ty = ty.as_ref().map_or(ScalarType::String, |t| t.ty);
                    columns.push((name.name.clone(), ty, name.span));
                    let string_like = !matches!(
                        ty,
                        ScalarType::Int
                            | ScalarType::Long
                            | ScalarType::Real
                            | ScalarType::Decimal
                            | ScalarType::Bool
                            | ScalarType::Guid
                    );
                    let capture = if kind == "regex" && string_like {
                        ".*".to_string()
                    } else if kind == "relaxed" && !string_like {
                        // Relaxed: a value of the type if there is one, else any text (which
                        // then converts to null while the rest of the pattern still matches).
                        format!("(?:{}|.*?)", capture_for(ty, last))
                    } else {
                        capture_for(ty, last).to_string()
                    };
                    re.push_str(&format!("(?P<c{}>{})", columns.len(), capture));
                }
            }
        }
        if let Err(e) = crate::functions::re2::compile(&re) {
            return err(
                "KQL1035",
                format!(
                    "the parse pattern is not a valid regular expression: {}",
                    e.to_string().lines().last().unwrap_or("").trim()
                ),
                span,
            );
        }
        let source = self.string_operand(&spec.source, &t.columns)?;
        let caps = udf::call(
            "parse_captures",
            expand::captures_type(columns.len()),
            expand::parse_captures,
            vec![source.expr, string_lit(&re)],
        );
        // Materialise the match once, then derive the typed columns from it. Input columns a
        // capture replaces are dropped here already: a table's qualified field must not meet
        // the capture's unqualified one of the same name in any plan node.
        let kept: Vec<ColumnInfo> = t
            .columns
            .iter()
            .filter(|c| !columns.iter().any(|(n, _, _)| *n == c.name))
            .cloned()
            .collect();
        let mut exprs: Vec<Expr> = kept.iter().map(|c| column(&c.name)).collect();
        exprs.push(caps.alias("__parse"));
        let b = LogicalPlanBuilder::from(t.plan)
            .project(exprs)
            .map_err(|e| df_error(e, span))?;
        let get = |f: &str| datafusion::functions::expr_fn::get_field(column("__parse"), f);
        let typed: Vec<Expr> = columns
            .iter()
            .enumerate()
            .map(|(i, (_, ty, _))| {
                let text = get(&format!("c{}", i + 1));
                if *ty == ScalarType::String {
                    text
                } else {
                    convert::convert(text, ScalarType::String, *ty)
                }
            })
            .collect();
        // Strict kinds: the row matched only if every typed capture converted.
        let mut ok = get("m").is_true();
        if kind != "relaxed" {
            for (e, (_, ty, _)) in typed.iter().zip(&columns) {
                if *ty != ScalarType::String {
                    ok = ok.and(e.clone().is_not_null());
                }
            }
        }
        let b = b
            .project(
                kept.iter()
                    .map(|c| column(&c.name))
                    .chain(std::iter::once(column("__parse")))
                    .chain(std::iter::once(ok.alias("__ok")))
                    .collect::<Vec<_>>(),
            )
            .map_err(|e| df_error(e, span))?;
        let b = if filter {
            b.filter(column("__ok")).map_err(|e| df_error(e, span))?
        } else {
            b
        };
        let mut out = Vec::new();
        let mut cols = Vec::new();
        for c in &t.columns {
            if columns.iter().any(|(n, _, _)| *n == c.name) {
                continue;
            }
            out.push(column(&c.name));
            cols.push(c.clone());
        }
        for ((name, ty, _), e) in columns.iter().zip(typed) {
            let value = datafusion::logical_expr::when(column("__ok"), e)
                .otherwise(lit(ScalarValue::try_from(&crate::types::arrow_type(*ty))
                    .map_err(|e| df_error(e, span))?))
                .map_err(|e| df_error(e, span))?;
            // Kusto strings are never null: an unmatched string capture is "".
            let value = if *ty == ScalarType::String {
                datafusion::functions::expr_fn::coalesce(vec![value, string_lit("")])
            } else {
                value
            };
            out.push(value.alias(name));
            cols.push(ColumnInfo {
                name: name.clone(),
                ty: *ty,
            });
        }
        let plan = build(b.project(out), span)?;
        Ok(Tabular {
            plan,
            columns: cols,
        })
    }

    /// `lookup`: a left-outer (or inner) join whose right key columns are not repeated.
    pub(super) fn lookup_op(
        &mut self,
        left: Tabular,
        params: &[ast::OpParam],
        right: &ast::Expr,
        on: &[ast::JoinCondition],
        span: Span,
    ) -> PResult<Tabular> {
        let kind = param_word(params, "kind").unwrap_or("leftouter");
        let join_kind = match kind {
            "leftouter" => "leftouter",
            "inner" => "inner",
            other => {
                return err(
                    "KQL1090",
                    format!("unknown lookup kind `{other}` (use leftouter or inner)"),
                    span,
                );
            }
        };
        let kind_param = ast::OpParam {
            name: ast::Ident {
                name: "kind".into(),
                span,
            },
            value: ast::Expr {
                kind: ExprKind::Name(ast::Ident {
                    name: join_kind.into(),
                    span,
                }),
                span,
            },
        };
        let right_keys: Vec<String> = on
            .iter()
            .filter_map(|c| match c {
                ast::JoinCondition::Column(id) => Some(id.name.clone()),
                ast::JoinCondition::Equal { left: l, right: r } => {
                    let side = |e: &ast::Expr| match &e.kind {
                        ExprKind::Member { object, name } => match &object.kind {
                            ExprKind::Name(o) if o.name == "$right" => Some(name.name.clone()),
                            _ => None,
                        },
                        _ => None,
                    };
                    side(l).or_else(|| side(r))
                }
            })
            .collect();
        let joined = self.join(left.clone(), &[kind_param], right, on, span)?;
        // Drop the right side's copies of the key columns (named `Key1` etc. after the join).
        let n_left = left.columns.len();
        let keep: Vec<ColumnInfo> = joined
            .columns
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                *i < n_left
                    || !right_keys.iter().any(|k| {
                        c.name == *k
                            || (c.name.starts_with(k.as_str())
                                && c.name[k.len()..].parse::<u32>().is_ok())
                    })
            })
            .map(|(_, c)| c.clone())
            .collect();
        let plan = build(
            LogicalPlanBuilder::from(joined.plan)
                .project(keep.iter().map(|c| column(&c.name)).collect::<Vec<_>>()),
            span,
        )?;
        Ok(Tabular {
            plan,
            columns: keep,
        })
    }

    /// `T | invoke f(args)`: calls a tabular user function with `T` as its first argument.
    pub(super) fn invoke(&mut self, t: Tabular, call: &ast::Expr, span: Span) -> PResult<Tabular> {
        let ExprKind::Call { name, args } = &call.kind else {
            return err("KQL1094", "invoke needs a function call", call.span);
        };
        let Some(Binding::Function(f)) = self.lookup(&name.name) else {
            return err(
                "KQL1094",
                format!("`{}` is not a user-defined function", name.name),
                name.span,
            );
        };
        let f = f.clone();
        // Bind the input under a private name and pass it as the first argument.
        let hidden = format!("__invoke_input_{}", span.start);
        self.bind(&hidden, Binding::Table(t));
        let mut all_args = vec![ast::Arg {
            name: None,
            value: ast::Expr {
                kind: ExprKind::Name(ast::Ident {
                    name: hidden,
                    span: call.span,
                }),
                span: call.span,
            },
        }];
        all_args.extend(args.iter().cloned());
        match self.call_user_function(&f, name, &all_args, &[])? {
            super::Value::Table(t) => Ok(t),
            super::Value::Scalar(_) => err(
                "KQL1094",
                format!(
                    "`{}` returns a scalar; invoke needs a tabular function",
                    name.name
                ),
                name.span,
            ),
        }
    }

    /// `search` as a filter: a bare string term means "any string column has the term".
    pub(super) fn search_filter(
        &mut self,
        t: Tabular,
        spec: &ast::SearchSpec,
        span: Span,
    ) -> PResult<Tabular> {
        let case_sensitive = matches!(param_word(&spec.params, "kind"), Some("case_sensitive"));
        let pred = self.search_predicate(&spec.predicate, &t.columns, case_sensitive)?;
        let plan = build(LogicalPlanBuilder::from(t.plan).filter(pred.expr), span)?;
        Ok(Tabular {
            plan,
            columns: t.columns,
        })
    }

    /// `search [kind=...] [in (T1, T2)] predicate` as a source: the union of the tables (every
    /// table in scope when `in` is not written) with `$table` naming each row's table, filtered
    /// like the `search` operator.
    pub(super) fn search_source(&mut self, spec: &ast::SearchSpec, span: Span) -> PResult<Tabular> {
        let tables: Vec<ast::Expr> = if spec.tables.is_empty() {
            let mut names: Vec<String> = self.catalog.names().map(String::from).collect();
            names.sort();
            names
                .into_iter()
                .map(|name| ast::Expr {
                    kind: ExprKind::Name(ast::Ident { name, span }),
                    span,
                })
                .collect()
        } else {
            spec.tables.clone()
        };
        if tables.is_empty() {
            return err("KQL1086", "search: no table is in scope", span);
        }
        // Each table is filtered on its own columns before the union: the same rows, but
        // the predicate does not run over every other table's (null) columns too. A predicate
        // that names a column some table lacks is applied after the union instead.
        let inputs = self.union_collect(None, &tables)?;
        let mut filtered = Vec::with_capacity(inputs.len());
        for (name, t) in inputs.iter().cloned() {
            match self.search_filter(t, spec, span) {
                Ok(f) => filtered.push((name, f)),
                Err(_) => {
                    let t = self.union_inputs(inputs, Some("$table".into()), span)?;
                    return self.search_filter(t, spec, span);
                }
            }
        }
        self.union_inputs(filtered, Some("$table".into()), span)
    }

    fn search_predicate(
        &mut self,
        e: &ast::Expr,
        row: &[ColumnInfo],
        case_sensitive: bool,
    ) -> PResult<Typed> {
        match &e.kind {
            ExprKind::Literal(ast::Literal::String(term)) => {
                let kernel: udf::Kernel = if case_sensitive {
                    crate::functions::strings::has_cs
                } else {
                    crate::functions::strings::has
                };
                let mut tests: Vec<Expr> = Vec::new();
                for c in row {
                    let text = self.to_string_expr(Typed::new(column(&c.name), c.ty));
                    let test = udf::call(
                        "has",
                        datafusion::arrow::datatypes::DataType::Boolean,
                        kernel,
                        vec![text, string_lit(term)],
                    );
                    tests.push(test);
                }
                Ok(Typed::new(any_of(tests), ScalarType::Bool))
            }
            ExprKind::Binary {
                op: op @ (ast::BinaryOp::And | ast::BinaryOp::Or),
                left,
                right,
            } => {
                let l = self.search_predicate(left, row, case_sensitive)?;
                let r = self.search_predicate(right, row, case_sensitive)?;
                Ok(Typed::new(
                    if *op == ast::BinaryOp::And {
                        l.expr.and(r.expr)
                    } else {
                        l.expr.or(r.expr)
                    },
                    ScalarType::Bool,
                ))
            }
            ExprKind::Paren(inner) => self.search_predicate(inner, row, case_sensitive),
            // `search *`: every row.
            ExprKind::Star => Ok(Typed::new(lit(true), ScalarType::Bool)),
            ExprKind::Binary {
                op: ast::BinaryOp::Str(sop),
                left,
                right,
            } if matches!(left.kind, ExprKind::Star) => {
                // `* has "x"`: any column.
                let needle = self.string_operand(right, row)?;
                let mut tests: Vec<Expr> = Vec::new();
                for c in row {
                    let l = ast::Expr {
                        kind: ExprKind::Name(ast::Ident {
                            name: c.name.clone(),
                            span: left.span,
                        }),
                        span: left.span,
                    };
                    let test = self.scalar(
                        &ast::Expr {
                            kind: ExprKind::Binary {
                                op: ast::BinaryOp::Str(*sop),
                                left: Box::new(l),
                                right: right.clone(),
                            },
                            span: e.span,
                        },
                        row,
                    )?;
                    tests.push(test.expr);
                }
                let _ = needle;
                Ok(Typed::new(any_of(tests), ScalarType::Bool))
            }
            _ => {
                let t = self.scalar(e, row)?;
                if t.ty != ScalarType::Bool {
                    return err("KQL1080", "search needs a predicate", e.span);
                }
                Ok(t)
            }
        }
    }

    /// `render`: the data passes through; the chart kind is recorded for front ends.
    pub(super) fn render(&mut self, t: Tabular, r: &ast::Render) -> PResult<Tabular> {
        self.render = Some(r.chart.name.clone());
        Ok(t)
    }

    pub(super) fn sample_distinct(
        &mut self,
        t: Tabular,
        count: &ast::Expr,
        col: &ast::Expr,
        span: Span,
    ) -> PResult<Tabular> {
        let n = self.count_arg_pub(count)?;
        let v = self.scalar(col, &t.columns)?;
        let name = super::tabular::derived_name_pub(col).unwrap_or_else(|| "Column1".into());
        let plan = build(
            LogicalPlanBuilder::from(t.plan)
                .project(vec![v.expr.alias(&name)])
                .and_then(|b| b.distinct())
                .and_then(|b| b.limit(0, Some(n))),
            span,
        )?;
        Ok(Tabular {
            plan,
            columns: vec![ColumnInfo { name, ty: v.ty }],
        })
    }
}

/// `a or b or ...` as a balanced tree (a search over hundreds of columns must not nest
/// hundreds deep: planning and execution recurse over it); `false` for none.
fn any_of(mut tests: Vec<Expr>) -> Expr {
    while tests.len() > 1 {
        let mut next = Vec::with_capacity(tests.len().div_ceil(2));
        let mut it = tests.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => a.or(b),
                None => a,
            });
        }
        tests = next;
    }
    tests.pop().unwrap_or(lit(false))
}
