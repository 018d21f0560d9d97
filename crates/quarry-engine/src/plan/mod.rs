//! Semantics and planning: resolves names and types of a parsed KQL script and lowers each
//! query statement onto a DataFusion `LogicalPlan`, built with `LogicalPlanBuilder` (never SQL
//! text, so identifiers keep their case and every error keeps its span).
//!
//! The planner keeps its own column list (`name`, KQL type) beside each plan: KQL types such
//! as `dynamic` and `guid` share Arrow's Utf8, and result naming (`count_`, `dcount_X`,
//! `Column1`) follows Kusto rather than DataFusion.

mod aggs;
mod calls;
mod evaluate;
mod external;
mod kv;
mod makeseries;
mod multi;
mod mvapply;
mod operators;
mod partition;
mod scalar;
mod scan;
mod serial;
mod tabular;
mod topnested;

use crate::catalog::Catalog;
use datafusion::logical_expr::{Expr, LogicalPlan};
use quarry_syntax::ast::{self, DynamicLiteral, ScalarType};
use quarry_syntax::{Diagnostic, Span};
use std::collections::HashMap;
use std::rc::Rc;

/// A column of a tabular value: its KQL name and type.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub ty: ScalarType,
}

/// A tabular value: a logical plan whose output columns are exactly `columns`, in order.
#[derive(Debug, Clone)]
pub struct Tabular {
    pub plan: LogicalPlan,
    pub columns: Vec<ColumnInfo>,
}

/// A compiled scalar expression with its KQL type. `constant` keeps the literal value of
/// `dynamic(...)` constants so `in (...)`/`has_any(...)` can expand arrays at plan time.
#[derive(Debug, Clone)]
pub struct Typed {
    pub expr: Expr,
    pub ty: ScalarType,
    pub constant: Option<DynamicLiteral>,
}

impl Typed {
    pub fn new(expr: Expr, ty: ScalarType) -> Typed {
        Typed {
            expr,
            ty,
            constant: None,
        }
    }
}

#[derive(Debug, Clone)]
enum Binding {
    Scalar(Typed),
    Table(Tabular),
    Function(Rc<ast::FunctionDef>),
}

/// Values a compiled expression can have.
enum Value {
    Scalar(Typed),
    Table(Tabular),
}

pub type PResult<T> = Result<T, Box<Diagnostic>>;

/// An "unknown name" or "unknown table" error about a `let` that already failed: it would only repeat that
/// failure, so it is not reported again.
fn is_follow_on(d: &Diagnostic, failed_lets: &[String]) -> bool {
    // KQL1001: unknown column or name; KQL1004: unknown table (a failed tabular `let`).
    matches!(d.code.as_str(), "KQL1001" | "KQL1004")
        && failed_lets.iter().any(|n| d.message.contains(n.as_str()))
}

pub(crate) fn err<T>(code: &str, message: impl Into<String>, span: Span) -> PResult<T> {
    Err(Box::new(Diagnostic::error(code, message, span)))
}

/// Options that fix what a query means: the time `now()` returns, and `let` overrides.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// `now()` in ns since the epoch (UTC).
    pub now_ns: i64,
    /// Top-level `let` overrides from `--param NAME=VALUE`: name → KQL expression text.
    pub params: Vec<(String, String)>,
    /// Directories `externaldata` may read files under (`--allow-externaldata DIR`); none by
    /// default, so a query cannot read arbitrary local files unless the user says so.
    pub externaldata_roots: Vec<std::path::PathBuf>,
}

/// One planned query statement.
#[derive(Debug, Clone)]
pub struct PlannedQuery {
    pub plan: LogicalPlan,
    pub columns: Vec<ColumnInfo>,
    pub span: Span,
    /// `render` chart kind, if the query asked for one (the data is returned as is).
    pub render: Option<String>,
}

pub(crate) struct Planner<'a> {
    catalog: &'a Catalog,
    scopes: Vec<HashMap<String, Binding>>,
    now_ns: i64,
    /// Expression nesting depth, to refuse pathological inputs before the stack does.
    depth: usize,
    /// Set while compiling the aggregates of one `summarize`.
    agg: Option<calls::AggCollector>,
    /// The chart kind of the last `render` seen in the current statement.
    render: Option<String>,
    /// The input columns of the `extend` being compiled: `pack_all()` packs those, not the
    /// columns the same `extend` defines before it.
    extend_input: Option<Vec<ColumnInfo>>,
    /// Canonical directories `externaldata` may read under (from [`PlanOptions`]).
    externaldata_roots: Vec<std::path::PathBuf>,
    /// The key of the enclosing `partition by k (...)`, while its subquery is compiled.
    partition_key: Option<String>,
}

impl<'a> Planner<'a> {
    pub(crate) fn new(catalog: &'a Catalog, now_ns: i64) -> Self {
        Planner {
            catalog,
            scopes: vec![HashMap::new()],
            now_ns,
            depth: 0,
            agg: None,
            render: None,
            extend_input: None,
            externaldata_roots: Vec::new(),
            partition_key: None,
        }
    }

    /// Plans every query statement of a script; errors carry spans into `source`.
    pub(crate) fn plan_script(
        &mut self,
        script: &ast::Script,
        options: &PlanOptions,
    ) -> Result<Vec<PlannedQuery>, Vec<Diagnostic>> {
        let mut out = Vec::new();
        let mut diags = Vec::new();
        let mut used_params = vec![false; options.params.len()];
        self.externaldata_roots = options
            .externaldata_roots
            .iter()
            .filter_map(|d| std::fs::canonicalize(d).ok())
            .collect();
        let mut failed_lets: Vec<String> = Vec::new();
        for (i, stmt) in script.statements.iter().enumerate() {
            if script.block_starts.contains(&i) {
                // A new query block (blank-line separated, see `Script::block_starts`) is a
                // query of its own: the `let`s of earlier blocks are out of scope.
                self.scopes = vec![HashMap::new()];
            }
            match stmt {
                ast::Statement::Let(l) => {
                    let overridden = options
                        .params
                        .iter()
                        .position(|(name, _)| *name == l.name.name);
                    let result = match overridden {
                        Some(i) => {
                            used_params[i] = true;
                            self.bind_param(l, &options.params[i].1)
                        }
                        None => self.bind_let(l),
                    };
                    if let Err(d) = result {
                        if !is_follow_on(&d, &failed_lets) {
                            diags.push(*d);
                        }
                        failed_lets.push(format!("`{}`", l.name.name));
                    }
                }
                // `set query_bin_auto_size = 1h;` / `set query_bin_auto_at = ...;` feed
                // `bin_auto()`; other options tune the service, not results.
                ast::Statement::Set {
                    name,
                    value: Some(v),
                    ..
                } if name.name.starts_with("query_bin_auto_") => match self.scalar(v, &[]) {
                    Ok(t) => {
                        if let Some(scope) = self.scopes.last_mut() {
                            scope.insert(format!("__set_{}", name.name), Binding::Scalar(t));
                        }
                    }
                    Err(d) => diags.push(*d),
                },
                ast::Statement::Set { .. } => {}
                ast::Statement::Query(e) => {
                    // `fork` / `facet` end a query with several result tables.
                    let planned = match self.plan_multi(e) {
                        Ok(Some(tables)) => Ok(tables),
                        Ok(None) => self.plan_query(e).map(|t| vec![t]),
                        Err(d) => Err(d),
                    };
                    match planned {
                        Ok(tables) => {
                            let render = self.render.take();
                            out.extend(tables.into_iter().map(|t| PlannedQuery {
                                plan: t.plan,
                                columns: t.columns,
                                span: e.span,
                                render: render.clone(),
                            }))
                        }
                        // A use of a `let` that already failed would only repeat that error
                        // as "unknown name": report the cause once.
                        Err(d) if is_follow_on(&d, &failed_lets) => {}
                        Err(d) => diags.push(*d),
                    }
                }
            }
        }
        for (i, used) in used_params.iter().enumerate() {
            if !used {
                let mut lets: Vec<&str> = script
                    .statements
                    .iter()
                    .filter_map(|s| match s {
                        ast::Statement::Let(l) => Some(l.name.name.as_str()),
                        _ => None,
                    })
                    .collect();
                lets.sort();
                let name = &options.params[i].0;
                let mut d = Diagnostic::error(
                    "KQL1010",
                    format!("--param {name}: the query has no top-level `let {name}`"),
                    Span::default(),
                );
                d.help = Some(match crate::suggest::closest(name, lets.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None if lets.is_empty() => "the query declares no `let` names".into(),
                    None => format!("the query's `let` names are: {}", lets.join(", ")),
                });
                diags.push(d);
            }
        }
        if diags.is_empty() {
            Ok(out)
        } else {
            Err(diags)
        }
    }

    fn bind(&mut self, name: &str, b: Binding) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), b);
        }
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn bind_let(&mut self, l: &ast::LetStatement) -> PResult<()> {
        let binding = match &l.value {
            ast::LetValue::Function(f) | ast::LetValue::View(f) => {
                Binding::Function(Rc::new(f.clone()))
            }
            ast::LetValue::Expr(e) => match self.value(e)? {
                Value::Scalar(t) => Binding::Scalar(t),
                Value::Table(t) => Binding::Table(t),
            },
        };
        self.bind(&l.name.name, binding);
        Ok(())
    }

    /// `--param NAME=VALUE`: the value replaces the `let`'s expression. It must have the same
    /// KQL type as the declared value; a bare word for a string `let` is taken as the string.
    fn bind_param(&mut self, l: &ast::LetStatement, text: &str) -> PResult<()> {
        let ast::LetValue::Expr(original) = &l.value else {
            return err(
                "KQL1011",
                format!(
                    "--param {}: `{}` is a function; only scalar `let`s can be set",
                    l.name.name, l.name.name
                ),
                l.name.span,
            );
        };
        let declared = match self.value(original)? {
            Value::Scalar(t) => t,
            Value::Table(_) => {
                return err(
                    "KQL1011",
                    format!(
                        "--param {}: `{}` is a table; only scalar `let`s can be set",
                        l.name.name, l.name.name
                    ),
                    l.name.span,
                );
            }
        };
        let parsed = quarry_syntax::parse_expr(text);
        let value = match parsed {
            Ok(e) => match self.value(&e) {
                Ok(Value::Scalar(t)) => Some(t),
                _ => None,
            },
            Err(_) => None,
        };
        let value = match value {
            Some(v) if v.ty == declared.ty => v,
            Some(v)
                if declared.ty == ScalarType::Dynamic
                    && v.constant.is_none()
                    && v.ty != ScalarType::Dynamic =>
            {
                return err(
                    "KQL1012",
                    format!(
                        "--param {}: expected a dynamic value such as '[\"a\",\"b\"]', got a {}",
                        l.name.name,
                        v.ty.name()
                    ),
                    l.name.span,
                );
            }
            _ if declared.ty == ScalarType::String => {
                Typed::new(scalar::string_lit(text), ScalarType::String)
            }
            _ if declared.ty == ScalarType::Dynamic => {
                // Accept plain JSON: '["svc_","sa_"]'.
                match scalar::dynamic_from_json(text) {
                    Some(d) => scalar::dynamic_constant(d),
                    None => {
                        return err(
                            "KQL1012",
                            format!(
                                "--param {}: `{text}` is not a JSON value or dynamic(...) literal",
                                l.name.name
                            ),
                            l.name.span,
                        );
                    }
                }
            }
            Some(v) => {
                return err(
                    "KQL1012",
                    format!(
                        "--param {}: expected a {} value, got a {} (`{text}`)",
                        l.name.name,
                        declared.ty.name(),
                        v.ty.name()
                    ),
                    l.name.span,
                );
            }
            None => {
                return err(
                    "KQL1012",
                    format!(
                        "--param {}: `{text}` is not a valid {} value",
                        l.name.name,
                        declared.ty.name()
                    ),
                    l.name.span,
                );
            }
        };
        self.bind(&l.name.name, Binding::Scalar(value));
        Ok(())
    }

    fn plan_query(&mut self, e: &ast::Expr) -> PResult<Tabular> {
        match self.value(e)? {
            Value::Table(t) => Ok(t),
            // A bare scalar expression (`asin(0.5)`) is shorthand for `print`.
            Value::Scalar(_) => self.tabular(&ast::Expr {
                kind: ast::ExprKind::Print(vec![ast::NamedExpr {
                    names: vec![],
                    expr: e.clone(),
                    span: e.span,
                }]),
                span: e.span,
            }),
        }
    }

    /// Compiles an expression that may be tabular or scalar (a `let` value, a query).
    fn value(&mut self, e: &ast::Expr) -> PResult<Value> {
        use ast::ExprKind as K;
        match &e.kind {
            K::Pipe { .. }
            | K::Print(_)
            | K::Range { .. }
            | K::Datatable { .. }
            | K::Union(_)
            | K::Search(_)
            | K::ExternalData(_) => Ok(Value::Table(self.tabular(e)?)),
            K::Paren(inner) => self.value(inner),
            K::Name(id) => match self.lookup(&id.name) {
                Some(Binding::Table(t)) => Ok(Value::Table(t.clone())),
                Some(Binding::Scalar(s)) => Ok(Value::Scalar(s.clone())),
                Some(Binding::Function(_)) | None => {
                    if self.lookup(&id.name).is_none() && self.catalog.contains(&id.name) {
                        Ok(Value::Table(self.tabular(e)?))
                    } else {
                        Ok(Value::Scalar(self.scalar(e, &[])?))
                    }
                }
            },
            K::Call { name, args } => {
                if let Some(Binding::Function(f)) = self.lookup(&name.name) {
                    let f = f.clone();
                    return self.call_user_function(&f, name, args, &[]);
                }
                match name.name.as_str() {
                    "materialize" | "view" if args.len() == 1 => self.value(&args[0].value),
                    _ => Ok(Value::Scalar(self.scalar(e, &[])?)),
                }
            }
            _ => Ok(Value::Scalar(self.scalar(e, &[])?)),
        }
    }

    /// Calls a user-defined function: binds arguments (or defaults) to parameters in a new
    /// scope, then compiles the body's `let`s and result.
    fn call_user_function(
        &mut self,
        f: &ast::FunctionDef,
        name: &ast::Ident,
        args: &[ast::Arg],
        row: &[ColumnInfo],
    ) -> PResult<Value> {
        if args.len() > f.params.len() {
            return err(
                "KQL1020",
                format!(
                    "`{}` takes {} argument(s), {} given",
                    name.name,
                    f.params.len(),
                    args.len()
                ),
                name.span,
            );
        }
        let mut scope = HashMap::new();
        for (i, p) in f.params.iter().enumerate() {
            let arg = args
                .iter()
                .find(|a| a.name.as_ref().is_some_and(|n| n.name == p.name.name))
                .or_else(|| args.get(i).filter(|a| a.name.is_none()));
            let expr = match (arg, &p.default) {
                (Some(a), _) => &a.value,
                (None, Some(d)) => d,
                (None, None) => {
                    return err(
                        "KQL1020",
                        format!("`{}`: missing argument `{}`", name.name, p.name.name),
                        name.span,
                    );
                }
            };
            let b = match &p.ty {
                ast::ParamType::Tabular(_) => Binding::Table(self.tabular(expr)?),
                ast::ParamType::Scalar(_) => Binding::Scalar(self.scalar(expr, row)?),
            };
            scope.insert(p.name.name.clone(), b);
        }
        if self.scopes.len() > 64 {
            return err(
                "KQL1021",
                format!("`{}`: function calls nest too deeply", name.name),
                name.span,
            );
        }
        self.scopes.push(scope);
        let result = (|| {
            for l in &f.body_lets {
                self.bind_let(l)?;
            }
            if row.is_empty() {
                self.value(&f.body)
            } else {
                Ok(Value::Scalar(self.scalar(&f.body, row)?))
            }
        })();
        self.scopes.pop();
        result
    }
}
