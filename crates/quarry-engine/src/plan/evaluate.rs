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

/// Runs `plan` (one Utf8 column of key-type objects) to completion on a private runtime and
/// merges the key types. A separate thread keeps this usable from inside an async caller.
fn collect_key_types(plan: LogicalPlan) -> Result<BTreeMap<String, &'static str>, String> {
    let batches = std::thread::scope(|s| {
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
        .map_err(|_| "the key scan stopped unexpectedly".to_string())?
    })?;
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
