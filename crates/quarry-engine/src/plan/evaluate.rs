//! `evaluate` plugins: `bag_unpack`.
//!
//! `bag_unpack(bag [, prefix] [, columnsConflict=...] [, ignoredProperties=...])` turns each
//! top-level property of a dynamic bag into a column. Which columns exist depends on the data,
//! and a plan needs its schema up front, so the keys are found first:
//!
//! * with a declared output schema (`evaluate bag_unpack(x) : (*, a: string)`) the declared
//!   columns are used and nothing is read;
//! * otherwise the plan of the input is executed once, at planning time, to collect each
//!   property name with the type of its values (a distinct set, so only the key sets travel);
//!   the query then runs with those columns. The input is therefore read twice. An empty input
//!   has no keys: no new columns, as in Kusto.
//!
//! Column types follow the values: all strings → string, all integers → long, numbers →
//! real, bools → bool, anything else (objects, arrays, mixed) → dynamic. New columns come in
//! property-name order, after the input columns (minus the bag column). Name clashes with input
//! columns follow `columnsConflict`: `error` (default), `replace_source`, `keep_source`.

use super::scalar::{column, string_lit};
use super::tabular::df_error;
use super::{ColumnInfo, PResult, Planner, Tabular, err};
use crate::functions::{convert, dynamic, udf};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;
use quarry_syntax::Span;
use quarry_syntax::ast::{self, ExprKind, ScalarType};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Kernel: a bag's top-level properties with the KQL type of each value, as a JSON object
/// `{"name": "long", ...}` (null for non-bags).
pub fn bag_key_types(args: &[ColumnarValue], rows: usize) -> datafusion::common::Result<ArrayRef> {
    let a = udf::string_array(args, 0, rows)?;
    let out: StringArray = (0..a.len())
        .map(|i| {
            if a.is_null(i) {
                return None;
            }
            let Value::Object(m) = dynamic::parse_dynamic(a.value(i)) else {
                return None;
            };
            let types: serde_json::Map<String, Value> = m
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(json_type(v).into())))
                .collect();
            Some(Value::Object(types).to_string())
        })
        .collect();
    Ok(Arc::new(out))
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "long",
        Value::Number(_) => "real",
        Value::String(_) => "string",
        _ => "dynamic",
    }
}

fn merge(a: &'static str, b: &'static str) -> &'static str {
    match (a, b) {
        (x, y) if x == y => x,
        ("null", x) | (x, "null") => x,
        ("long", "real") | ("real", "long") => "real",
        _ => "dynamic",
    }
}

fn static_type(s: &str) -> &'static str {
    match s {
        "null" => "null",
        "bool" => "bool",
        "long" => "long",
        "real" => "real",
        "string" => "string",
        _ => "dynamic",
    }
}

/// Executes `plan` to completion on a private runtime, on its own thread so that it works from
/// inside an async caller too.
fn run(plan: LogicalPlan) -> Result<Vec<datafusion::arrow::record_batch::RecordBatch>, String> {
    std::thread::scope(|s| {
        s.spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let ctx = SessionContext::new();
                let df = ctx
                    .execute_logical_plan(plan)
                    .await
                    .map_err(|e| e.to_string())?;
                df.collect().await.map_err(|e| e.to_string())
            })
        })
        .join()
        .map_err(|_| "the scan stopped unexpectedly".to_string())?
    })
}

/// Runs `plan` (one Utf8 column of key-type objects) to completion on a private runtime and
/// merges the key types. A separate thread keeps this usable from inside an async caller.
fn collect_key_types(plan: LogicalPlan) -> Result<BTreeMap<String, &'static str>, String> {
    let batches = run(plan)?;
    let mut keys: BTreeMap<String, &'static str> = BTreeMap::new();
    for b in &batches {
        let Some(col) = b.columns().first() else {
            continue;
        };
        let Some(col) = col.as_string_opt::<i32>() else {
            continue;
        };
        for i in 0..col.len() {
            if col.is_null(i) {
                continue;
            }
            if let Value::Object(m) = dynamic::parse_dynamic(col.value(i)) {
                for (k, v) in m {
                    let t = static_type(v.as_str().unwrap_or("dynamic"));
                    let e = keys.entry(k).or_insert("null");
                    *e = merge(e, t);
                }
            }
        }
    }
    Ok(keys)
}

/// Runs `plan` (one Utf8 column) on a private runtime and returns its values, sorted.
fn collect_strings(plan: LogicalPlan) -> Result<Vec<String>, String> {
    let batches = run(plan)?;
    let mut out: Vec<String> = Vec::new();
    for b in &batches {
        if let Some(col) = b.columns().first().and_then(|c| c.as_string_opt::<i32>()) {
            for i in 0..col.len() {
                if !col.is_null(i) {
                    out.push(col.value(i).to_string());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn kql_type(t: &str) -> ScalarType {
    match t {
        "bool" => ScalarType::Bool,
        "long" => ScalarType::Long,
        "real" => ScalarType::Real,
        "string" => ScalarType::String,
        _ => ScalarType::Dynamic,
    }
}

impl Planner<'_> {
    pub(super) fn evaluate(
        &mut self,
        t: Tabular,
        spec: &ast::EvaluateSpec,
        span: Span,
    ) -> PResult<Tabular> {
        match spec.plugin.name.as_str() {
            "bag_unpack" => self.bag_unpack(t, spec, span),
            "pivot" => self.pivot(t, spec, span),
            other => err(
                "KQL1005",
                format!("the `{other}` plugin is not supported yet"),
                spec.plugin.span,
            ),
        }
    }

    fn bag_unpack(&mut self, t: Tabular, spec: &ast::EvaluateSpec, span: Span) -> PResult<Tabular> {
        let positional: Vec<&ast::Expr> = spec
            .args
            .iter()
            .filter(|a| a.name.is_none())
            .map(|a| &a.value)
            .collect();
        let Some(bag_arg) = positional.first() else {
            return err("KQL1020", "bag_unpack needs a dynamic column", span);
        };
        let bag = self.scalar(bag_arg, &t.columns)?;
        if bag.ty != ScalarType::Dynamic {
            return err(
                "KQL1033",
                format!("bag_unpack needs a dynamic value, got {}", bag.ty.name()),
                bag_arg.span,
            );
        }
        let prefix = match positional.get(1) {
            Some(p) => self.constant_string(p, "bag_unpack's column prefix")?,
            None => String::new(),
        };
        let mut conflict = "error".to_string();
        let mut ignored: Vec<String> = Vec::new();
        for a in &spec.args {
            let Some(n) = &a.name else { continue };
            match n.name.as_str() {
                "columnsConflict" => {
                    conflict = self.constant_string(&a.value, "columnsConflict")?;
                }
                "ignoredProperties" => {
                    let v = self.scalar(&a.value, &[])?;
                    if let Some(ast::DynamicLiteral::Array(items)) = v.constant {
                        for it in items {
                            if let ast::DynamicLiteral::String(s) = it {
                                ignored.push(s);
                            }
                        }
                    }
                }
                "OutputColumnPrefix" => {
                    return err(
                        "KQL1020",
                        "give the prefix as bag_unpack's second argument",
                        n.span,
                    );
                }
                _ => {}
            }
        }
        // The bag column itself is dropped when the argument is a plain column.
        let bag_col = match &bag_arg.kind {
            ExprKind::Name(id) => Some(id.name.clone()),
            _ => None,
        };
        // Keys and their types.
        let keys: Vec<(String, ScalarType)> = match &spec.output_schema {
            Some(schema) => schema
                .columns
                .iter()
                .map(|c| (c.name.name.clone(), c.ty.ty))
                .collect(),
            None => {
                let kt = udf::call(
                    "bag_key_types",
                    DataType::Utf8,
                    bag_key_types,
                    vec![bag.expr.clone()],
                )
                .alias("__bag_keys");
                let plan = LogicalPlanBuilder::from(t.plan.clone())
                    .project(vec![kt])
                    .and_then(|b| b.distinct())
                    .and_then(|b| b.build())
                    .map_err(|e| df_error(e, span))?;
                let found = collect_key_types(plan).map_err(|m| {
                    Box::new(quarry_syntax::Diagnostic::error(
                        "KQL2001",
                        format!("bag_unpack: reading the input to find the bag's keys failed: {m}"),
                        span,
                    ))
                })?;
                found
                    .into_iter()
                    .filter(|(k, _)| !ignored.contains(k))
                    .map(|(k, ty)| (format!("{prefix}{k}"), kql_type(ty)))
                    .collect()
            }
        };
        let new_names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        // With a declared schema, `*` stands for the input's columns (without the bag column).
        let keep_input = spec.output_schema.as_ref().is_none_or(|s| s.star);
        let declared = spec.output_schema.is_some();
        let mut out_cols: Vec<ColumnInfo> = Vec::new();
        let mut exprs: Vec<Expr> = Vec::new();
        for c in t.columns.iter().filter(|_| keep_input) {
            if Some(&c.name) == bag_col.as_ref() {
                continue;
            }
            if new_names.contains(&c.name.as_str()) {
                if declared {
                    continue;
                }
                match conflict.as_str() {
                    "replace_source" => continue,
                    "keep_source" => {}
                    _ => {
                        return err(
                            "KQL1087",
                            format!(
                                "bag_unpack: property `{}` clashes with an input column \
                                 (columnsConflict='error')",
                                c.name
                            ),
                            span,
                        );
                    }
                }
            }
            exprs.push(column(&c.name));
            out_cols.push(c.clone());
        }
        for (name, ty) in &keys {
            if out_cols.iter().any(|c| &c.name == name) {
                continue; // keep_source
            }
            let key = name.strip_prefix(prefix.as_str()).unwrap_or(name);
            let v = udf::call(
                "dynamic_get",
                DataType::Utf8,
                dynamic::get,
                vec![bag.expr.clone(), string_lit(key)],
            );
            let v = match ty {
                ScalarType::Dynamic => v,
                other => convert::cast_dynamic(v, *other),
            };
            exprs.push(v.alias(name));
            out_cols.push(ColumnInfo {
                name: name.clone(),
                ty: *ty,
            });
        }
        let plan = LogicalPlanBuilder::from(t.plan)
            .project(exprs)
            .and_then(|b| b.build())
            .map_err(|e| df_error(e, span))?;
        Ok(Tabular {
            plan,
            columns: out_cols,
        })
    }

    /// `pivot(Col [, agg(x)] [, g1, g2, ...])`: one output column per distinct value of
    /// `Col` (as text, found by executing the input plan first, like bag_unpack's keys; empty
    /// values are left out), holding `agg` over the rows with that value, grouped by `g...`
    /// (by default every column but `Col` and the aggregated one). The aggregate defaults to
    /// count(); `agg(x)` is computed as its `...if` form.
    fn pivot(&mut self, t: Tabular, spec: &ast::EvaluateSpec, span: Span) -> PResult<Tabular> {
        let args: Vec<&ast::Expr> = spec.args.iter().map(|a| &a.value).collect();
        let Some(pcol) = args.first() else {
            return err("KQL1020", "pivot needs a column", span);
        };
        let pv = self.scalar(pcol, &t.columns)?;
        let as_text = self.to_string_expr(pv.clone());
        // Distinct values.
        let plan = LogicalPlanBuilder::from(t.plan.clone())
            .project(vec![as_text.alias("__pivot")])
            .and_then(|b| b.distinct())
            .and_then(|b| b.build())
            .map_err(|e| df_error(e, span))?;
        let values = collect_strings(plan).map_err(|m| {
            Box::new(quarry_syntax::Diagnostic::error(
                "KQL2001",
                format!("pivot: reading the input to find the pivot values failed: {m}"),
                span,
            ))
        })?;
        let (agg_name, agg_args): (String, Vec<ast::Expr>) = match args.get(1).map(|e| &e.kind) {
            Some(ExprKind::Call { name, args }) => (
                name.name.clone(),
                args.iter().map(|a| a.value.clone()).collect(),
            ),
            None => ("count".into(), vec![]),
            Some(_) => return err("KQL1020", "pivot's second argument is an aggregate", span),
        };
        let if_name = match agg_name.as_str() {
            "count" => "countif",
            "sum" => "sumif",
            "avg" => "avgif",
            "min" => "minif",
            "max" => "maxif",
            "dcount" => "dcountif",
            "take_any" | "any" => "take_anyif",
            "make_set" => "make_set_if",
            "make_list" => "make_list_if",
            other => {
                return err(
                    "KQL1005",
                    format!("pivot with `{other}` is not supported yet"),
                    args[1].span,
                );
            }
        };
        let by: Vec<ast::NamedExpr> = if args.len() > 2 {
            args[2..]
                .iter()
                .map(|e| ast::NamedExpr {
                    names: vec![],
                    expr: (*e).clone(),
                    span: e.span,
                })
                .collect()
        } else {
            let mut used: Vec<String> = Vec::new();
            if let ExprKind::Name(id) = &pcol.kind {
                used.push(id.name.clone());
            }
            for a in &agg_args {
                if let ExprKind::Name(id) = &a.kind {
                    used.push(id.name.clone());
                }
            }
            t.columns
                .iter()
                .filter(|c| !used.contains(&c.name))
                .map(|c| ast::NamedExpr {
                    names: vec![],
                    expr: ast::Expr {
                        kind: ExprKind::Name(ast::Ident {
                            name: c.name.clone(),
                            span,
                        }),
                        span,
                    },
                    span,
                })
                .collect()
        };
        let call = |f: &str, args: Vec<ast::Expr>| ast::Expr {
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
        };
        let aggregates: Vec<ast::NamedExpr> = values
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| {
                let test = ast::Expr {
                    kind: ExprKind::Binary {
                        op: ast::BinaryOp::Eq,
                        left: Box::new(call("tostring", vec![(*pcol).clone()])),
                        right: Box::new(ast::Expr {
                            kind: ExprKind::Literal(ast::Literal::String(v.clone())),
                            span,
                        }),
                    },
                    span,
                };
                let mut a = agg_args.clone();
                a.push(test);
                ast::NamedExpr {
                    names: vec![ast::Ident {
                        name: v.clone(),
                        span,
                    }],
                    expr: call(if_name, a),
                    span,
                }
            })
            .collect();
        if aggregates.is_empty() {
            // No values: the groups alone.
            return self.apply(
                t,
                &ast::PipeOp {
                    kind: ast::PipeOpKind::Distinct {
                        columns: by.into_iter().map(|n| n.expr).collect(),
                        all: false,
                    },
                    span,
                },
            );
        }
        self.apply(
            t,
            &ast::PipeOp {
                kind: ast::PipeOpKind::Summarize {
                    params: vec![],
                    aggregates,
                    by,
                },
                span,
            },
        )
    }

    fn constant_string(&mut self, e: &ast::Expr, what: &str) -> PResult<String> {
        let v = self.scalar(e, &[])?;
        match &v.expr {
            Expr::Literal(datafusion::common::ScalarValue::Utf8(Some(s)), _) => Ok(s.clone()),
            _ => err(
                "KQL1003",
                format!("{what} must be a constant string"),
                e.span,
            ),
        }
    }
}
