//! Tabular expressions: sources (tables, `print`, `datatable`, `range`, `union`) and the pipe
//! operators, each lowered onto `LogicalPlanBuilder` calls.

use super::calls::AggCollector;
use super::scalar::column;
use super::{Binding, ColumnInfo, PResult, Planner, Tabular, Typed, err};
use crate::types::{arrow_type, kql_type_of};
use datafusion::catalog::default_table_source::provider_as_source;
use datafusion::common::{DFSchema, JoinType, ScalarValue, TableReference};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, lit};
use quarry_syntax::ast::{self, PipeOpKind, ScalarType, SortDirection};
use quarry_syntax::{Diagnostic, Span};
use std::sync::Arc;

/// Wraps a DataFusion planning error as a diagnostic at `span`.
pub(crate) fn df_error(e: DataFusionError, span: Span) -> Box<Diagnostic> {
    let msg = e.strip_backtrace();
    let msg = msg.lines().next().unwrap_or("").to_string();
    Box::new(Diagnostic::error(
        "KQL1900",
        format!("cannot plan this: {msg}"),
        span,
    ))
}

fn build(b: Result<LogicalPlanBuilder, DataFusionError>, span: Span) -> PResult<LogicalPlan> {
    b.and_then(|b| b.build()).map_err(|e| df_error(e, span))
}

/// Glob match with `*` wildcards (for `project-away Initiating*`).
fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some((c, rest)) => n
                .split_first()
                .is_some_and(|(d, nr)| c == d && go(rest, nr)),
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

/// See [`derived_name`].
pub(super) fn derived_name_pub(e: &ast::Expr) -> Option<String> {
    derived_name(e)
}

/// The column name Kusto gives an unnamed expression, if it derives one.
fn derived_name(e: &ast::Expr) -> Option<String> {
    use ast::ExprKind as K;
    match &e.kind {
        K::Name(id) => Some(id.name.clone()),
        K::Paren(inner) => derived_name(inner),
        K::Member { object, name } => Some(format!("{}_{}", derived_name(object)?, name.name)),
        K::Index { object, index } => match &index.kind {
            K::Literal(ast::Literal::String(s)) => Some(format!("{}_{}", derived_name(object)?, s)),
            _ => None,
        },
        K::Call { name, args } => {
            let first = args.first().and_then(|a| derived_name(&a.value));
            let f = name.name.as_str();
            match f {
                "bin" | "floor" | "bin_at" | "bin_auto" | "startofday" | "startofweek"
                | "startofmonth" | "startofyear" => first,
                // Conversions keep their argument's name (`by tostring(Props.Country)` is
                // `Props_Country`; Microsoft's ThreatIntelligence rules then use
                // `make_list(tld)` after `by tostring(tld)`), as Kusto names them.
                "tostring" | "toint" | "tolong" | "todouble" | "toreal" | "tobool"
                | "toboolean" | "todatetime" | "totimespan" | "toguid" | "todynamic"
                | "todecimal"
                    if args.len() == 1 =>
                {
                    first
                }
                // `count(y)` is named count_y (summarize reference), `count()` count_.
                "count" => Some(format!("count_{}", first.unwrap_or_default())),
                "covariance" | "covariancep" | "covarianceif" | "covariancepif" => {
                    let second = args.get(1).and_then(|a| derived_name(&a.value));
                    Some(format!(
                        "{f}_{}_{}",
                        first.unwrap_or_default(),
                        second.unwrap_or_default()
                    ))
                }
                "buildschema" => Some(format!(
                    "schema_{}",
                    args.first()
                        .and_then(|a| aggregate_arg_name(&a.value))
                        .unwrap_or_default()
                )),
                "percentiles_array" | "percentilesw_array" => {
                    Some(format!("percentile_{}", first.unwrap_or_default()))
                }
                // Named like an aggregate even outside summarize (percentile_tdigest reference).
                "percentile_tdigest" | "percentiles_array_tdigest" => {
                    Some(format!("{f}_{}", first.unwrap_or_default()))
                }
                "countif" => Some("countif_".into()),
                "make_list" | "make_list_if" | "makelist" => {
                    Some(format!("list_{}", first.unwrap_or_default()))
                }
                "make_set" | "make_set_if" | "makeset" => {
                    Some(format!("set_{}", first.unwrap_or_default()))
                }
                "take_any" | "any" => Some(format!("any_{}", first.unwrap_or_default())),
                "percentile" => {
                    let p = args.get(1).map(|a| match &a.value.kind {
                        K::Literal(ast::Literal::Long(Some(v))) => v.to_string(),
                        K::Literal(ast::Literal::Real(Some(v))) => v.to_string().replace('.', "_"),
                        _ => String::new(),
                    });
                    Some(format!(
                        "percentile_{}_{}",
                        first.unwrap_or_default(),
                        p.unwrap_or_default()
                    ))
                }
                _ if super::calls::is_aggregate(f) => {
                    Some(format!("{f}_{}", first.unwrap_or_default()))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The column an aggregate's argument is named after: conversions pass the name of their
/// argument through (`buildschema(todynamic(tostring(x)))` is `schema_x`, summarize reference).
fn aggregate_arg_name(e: &ast::Expr) -> Option<String> {
    if let ast::ExprKind::Call { name, args } = &e.kind
        && matches!(
            name.name.as_str(),
            "tostring"
                | "todynamic"
                | "toint"
                | "tolong"
                | "todouble"
                | "toreal"
                | "tobool"
                | "todatetime"
                | "totimespan"
                | "toguid"
                | "parse_json"
        )
        && let Some(a) = args.first()
    {
        return aggregate_arg_name(&a.value);
    }
    derived_name(e)
}

/// Names for a list of `NamedExpr`s: the explicit name, the derived one, or `Column<N>`.
fn names_for(items: &[ast::NamedExpr], taken: &[String], fallback_prefix: &str) -> Vec<String> {
    let mut n = 0;
    let mut out: Vec<String> = Vec::new();
    for it in items {
        let name = match it.names.first() {
            Some(id) => id.name.clone(),
            None => match derived_name(&it.expr) {
                // Kusto makes a derived name unique with a number: `count_`, `count_1`.
                Some(d) if taken.contains(&d) || out.contains(&d) => (1..)
                    .map(|k| format!("{d}{k}"))
                    .find(|c| !taken.contains(c) && !out.contains(c))
                    .unwrap_or(d),
                Some(d) => d,
                None => loop {
                    let candidate = if fallback_prefix == "print_" {
                        format!("print_{n}")
                    } else {
                        format!("{fallback_prefix}{}", n + 1)
                    };
                    n += 1;
                    if !taken.contains(&candidate) && !out.contains(&candidate) {
                        break candidate;
                    }
                },
            },
        };
        out.push(name);
    }
    out
}

/// The name `union withsource=...` gives an input: a table or let name, or the name given
/// by a trailing `as` (`(range x from 1 to 5 step 1 | as T1)`).
fn union_input_name(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ast::ExprKind::Name(id) => Some(id.name.clone()),
        ast::ExprKind::Paren(inner) => union_input_name(inner),
        ast::ExprKind::Pipe { op, .. } => match &op.kind {
            ast::PipeOpKind::As(id) => Some(id.name.clone()),
            _ => None,
        },
        ast::ExprKind::Call { name, .. } => Some(name.name.clone()),
        _ => None,
    }
}

/// See [`glob`].
pub(super) fn glob_pub(pattern: &str, name: &str) -> bool {
    glob(pattern, name)
}

/// See [`eval_constant`].
pub(super) fn eval_constant_pub(e: &Expr) -> Option<ScalarValue> {
    eval_constant(e)
}

/// Evaluates a constant expression at plan time (for `range` bounds, `take` counts...).
fn eval_constant(e: &Expr) -> Option<ScalarValue> {
    use datafusion::arrow::array::RecordBatch;
    use datafusion::physical_expr::create_physical_expr;
    if let Expr::Literal(v, _) = e {
        return Some(v.clone());
    }
    let schema = DFSchema::empty();
    let props = datafusion::execution::context::ExecutionProps::new();
    let ctx =
        datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext::default();
    let phys = create_physical_expr(e, &schema, &props, &ctx).ok()?;
    let batch = RecordBatch::try_new_with_options(
        Arc::new(datafusion::arrow::datatypes::Schema::empty()),
        vec![],
        &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(1)),
    )
    .ok()?;
    match phys.evaluate(&batch).ok()? {
        datafusion::logical_expr::ColumnarValue::Scalar(s) => Some(s),
        datafusion::logical_expr::ColumnarValue::Array(a) => {
            ScalarValue::try_from_array(&a, 0).ok()
        }
    }
}

impl Planner<'_> {
    pub(super) fn tabular(&mut self, e: &ast::Expr) -> PResult<Tabular> {
        use ast::ExprKind as K;
        match &e.kind {
            K::Pipe { input, op } => {
                let t = self.tabular(input)?;
                self.apply(t, op)
            }
            K::Paren(inner) => self.tabular(inner),
            K::Name(id) => self.table(id),
            K::Call { name, args } => {
                if let Some(Binding::Function(f)) = self.lookup(&name.name) {
                    let f = f.clone();
                    return match self.call_user_function(&f, name, args, &[])? {
                        super::Value::Table(t) => Ok(t),
                        super::Value::Scalar(_) => err(
                            "KQL1032",
                            format!("`{}` returns a scalar; a table is expected here", name.name),
                            e.span,
                        ),
                    };
                }
                match name.name.as_str() {
                    "materialize" | "view" if args.len() == 1 => self.tabular(&args[0].value),
                    // `table("Name")`: a table (or tabular let) by a constant name.
                    "table" if !args.is_empty() => {
                        let v = self.scalar(&args[0].value, &[])?;
                        let Expr::Literal(ScalarValue::Utf8(Some(t)), _) = &v.expr else {
                            return err(
                                "KQL1003",
                                "table() needs a constant table name",
                                args[0].value.span,
                            );
                        };
                        let ident = ast::Ident {
                            name: t.clone(),
                            span: args[0].value.span,
                        };
                        self.table(&ident)
                    }
                    _ => err(
                        "KQL1003",
                        format!("`{}(...)` is not a tabular function", name.name),
                        name.span,
                    ),
                }
            }
            K::Print(items) => {
                // A bare name of a function without parameters is a call (named print_N).
                let items: Vec<ast::NamedExpr> = items
                    .iter()
                    .map(|it| match &it.expr.kind {
                        K::Name(id)
                            if matches!(self.lookup(&id.name),
                                Some(Binding::Function(f)) if f.params.is_empty()) =>
                        {
                            let mut it = it.clone();
                            it.expr.kind = K::Call {
                                name: id.clone(),
                                args: vec![],
                            };
                            it
                        }
                        _ => it.clone(),
                    })
                    .collect();
                let expanded = super::aggs::expand_multi_value(&items);
                let items = expanded.as_slice();
                let names = names_for(items, &[], "print_");
                let mut exprs = Vec::new();
                let mut cols = Vec::new();
                for (it, name) in items.iter().zip(names) {
                    let t = self.scalar(&it.expr, &[])?;
                    exprs.push(t.expr.alias(&name));
                    cols.push(ColumnInfo { name, ty: t.ty });
                }
                let plan = build(LogicalPlanBuilder::empty(true).project(exprs), e.span)?;
                Ok(Tabular {
                    plan,
                    columns: cols,
                })
            }
            K::Datatable { columns, values } => self.datatable(columns, values, e.span),
            K::Range {
                column: c,
                from,
                to,
                step,
            } => self.range(c, from, to, step, e.span),
            K::Union(spec) => self.union(None, spec, e.span),
            K::ExternalData(spec) => self.externaldata(spec, e.span),
            K::Search(spec) => self.search_source(spec, e.span),
            _ => {
                let v = self.value(e)?;
                match v {
                    super::Value::Table(t) => Ok(t),
                    super::Value::Scalar(_) => err(
                        "KQL1032",
                        "a scalar expression is used where a table is expected",
                        e.span,
                    ),
                }
            }
        }
    }

    fn table(&mut self, id: &ast::Ident) -> PResult<Tabular> {
        match self.lookup(&id.name) {
            Some(Binding::Table(t)) => return Ok(t.clone()),
            Some(Binding::Function(f)) if f.params.is_empty() => {
                let f = f.clone();
                if let super::Value::Table(t) = self.call_user_function(&f, id, &[], &[])? {
                    return Ok(t);
                }
            }
            _ => {}
        }
        let Some(provider) = self.catalog.get(&id.name) else {
            let mut d =
                Diagnostic::error("KQL1004", format!("unknown table `{}`", id.name), id.span);
            let lets: Vec<String> = self.scopes.iter().flat_map(|s| s.keys().cloned()).collect();
            let names: Vec<&str> = self
                .catalog
                .names()
                .chain(lets.iter().map(String::as_str))
                .collect();
            let bound_look_alike = self
                .catalog
                .names()
                .find(|n| crate::suggest::closest(&id.name, [*n]).is_some());
            d.help = Some(
                match crate::suggest::closest(&id.name, names.iter().copied()) {
                    // A known table the user bound under a mistyped name: fix the binding,
                    // not the query.
                    Some(c)
                        if quarry_sources::schemas::known_schema(&id.name).is_some()
                            && bound_look_alike == Some(c) =>
                    {
                        format!(
                            "`{}` is a known table; the files are bound as `{c}`: \
                             use --table {}=PATH",
                            id.name, id.name
                        )
                    }
                    Some(c) => format!("did you mean `{c}`?"),
                    None if self.catalog.names().next().is_none() => {
                        format!("bind it to files with --table {}=PATH", id.name)
                    }
                    None => format!(
                        "bound tables: {}; bind more with --table {}=PATH",
                        self.catalog.names().collect::<Vec<_>>().join(", "),
                        id.name
                    ),
                },
            );
            return Err(Box::new(d));
        };
        let schema = provider.schema();
        let columns = schema
            .fields()
            .iter()
            .map(|f| ColumnInfo {
                name: f.name().clone(),
                ty: kql_type_of(f),
            })
            .collect();
        let plan = build(
            LogicalPlanBuilder::scan(
                TableReference::bare(id.name.as_str()),
                provider_as_source(provider.clone()),
                None,
            ),
            id.span,
        )?;
        Ok(Tabular { plan, columns })
    }

    fn datatable(
        &mut self,
        columns: &[ast::ColumnDecl],
        values: &[ast::Expr],
        span: Span,
    ) -> PResult<Tabular> {
        if columns.is_empty() {
            return err("KQL1070", "datatable needs at least one column", span);
        }
        if !values.len().is_multiple_of(columns.len()) {
            return err(
                "KQL1070",
                format!(
                    "datatable has {} columns but {} values, which is not a whole number of rows",
                    columns.len(),
                    values.len()
                ),
                span,
            );
        }
        let cols: Vec<ColumnInfo> = columns
            .iter()
            .map(|c| ColumnInfo {
                name: c.name.name.clone(),
                ty: c.ty.ty,
            })
            .collect();
        let mut rows = Vec::new();
        for chunk in values.chunks(columns.len()) {
            let mut row = Vec::new();
            for (v, c) in chunk.iter().zip(&cols) {
                let t = self.scalar(v, &[])?;
                let t = self.coerce_to(t, c.ty, v.span)?;
                row.push(super::calls::cast(t.expr, arrow_type(c.ty)));
            }
            rows.push(row);
        }
        let plan = if rows.is_empty() {
            let schema = datafusion::arrow::datatypes::Schema::new(
                cols.iter()
                    .map(|c| crate::types::field(&c.name, c.ty))
                    .collect::<Vec<_>>(),
            );
            let df = DFSchema::try_from(schema).map_err(|e| df_error(e, span))?;
            LogicalPlan::EmptyRelation(datafusion::logical_expr::EmptyRelation {
                produce_one_row: false,
                schema: Arc::new(df),
            })
        } else {
            let b = LogicalPlanBuilder::values(rows).map_err(|e| df_error(e, span))?;
            let exprs: Vec<Expr> = cols
                .iter()
                .enumerate()
                .map(|(i, c)| column(&format!("column{}", i + 1)).alias(&c.name))
                .collect();
            build(b.project(exprs), span)?
        };
        Ok(Tabular {
            plan,
            columns: cols,
        })
    }

    /// Converts a value to a column type where Kusto allows it implicitly (numbers).
    fn coerce_to(&mut self, t: Typed, ty: ScalarType, span: Span) -> PResult<Typed> {
        if t.ty == ty {
            return Ok(t);
        }
        let numeric = |x: ScalarType| {
            matches!(
                x,
                ScalarType::Int | ScalarType::Long | ScalarType::Real | ScalarType::Decimal
            )
        };
        let is_null = matches!(&t.expr, Expr::Literal(v, _) if v.is_null());
        if is_null || (numeric(t.ty) && numeric(ty)) {
            return Ok(Typed::new(t.expr, ty));
        }
        if ty == ScalarType::Dynamic {
            return Ok(Typed::new(
                crate::functions::dynamic::to_dynamic_expr(t.expr),
                ty,
            ));
        }
        if ty == ScalarType::Guid && t.ty == ScalarType::String {
            return Ok(Typed::new(t.expr, ty));
        }
        err(
            "KQL1071",
            format!("expected a {} value, got {}", ty.name(), t.ty.name()),
            span,
        )
    }

    fn range(
        &mut self,
        c: &ast::Ident,
        from: &ast::Expr,
        to: &ast::Expr,
        step: &ast::Expr,
        span: Span,
    ) -> PResult<Tabular> {
        let f = self.scalar(from, &[])?;
        let t = self.scalar(to, &[])?;
        let s = self.scalar(step, &[])?;
        let (Some(fv), Some(tv), Some(sv)) = (
            eval_constant(&f.expr),
            eval_constant(&t.expr),
            eval_constant(&s.expr),
        ) else {
            return self.range_computed(c, f, t, s, span);
        };
        const MAX_ROWS: i128 = 10_000_000;
        let as_i128 = |v: &ScalarValue| -> Option<i128> {
            match v {
                ScalarValue::Int32(Some(x)) => Some(*x as i128),
                ScalarValue::Int64(Some(x)) => Some(*x as i128),
                ScalarValue::TimestampNanosecond(Some(x), _) => Some(*x as i128),
                ScalarValue::DurationNanosecond(Some(x)) => Some(*x as i128),
                _ => None,
            }
        };
        let ty = f.ty;
        let values: Vec<ScalarValue> = match ty {
            ScalarType::Real => {
                let get = |v: &ScalarValue| match v {
                    ScalarValue::Float64(Some(x)) => Some(*x),
                    ScalarValue::Int64(Some(x)) => Some(*x as f64),
                    ScalarValue::Int32(Some(x)) => Some(*x as f64),
                    _ => None,
                };
                let (Some(a), Some(b), Some(st)) = (get(&fv), get(&tv), get(&sv)) else {
                    return err("KQL1072", "range: bad bounds", span);
                };
                if st == 0.0 || ((b - a) / st) > MAX_ROWS as f64 {
                    return err(
                        "KQL1072",
                        "range: step is zero or the range is too long",
                        span,
                    );
                }
                let mut out = Vec::new();
                let mut x = a;
                while (st > 0.0 && x <= b) || (st < 0.0 && x >= b) {
                    out.push(ScalarValue::Float64(Some(x)));
                    x += st;
                }
                out
            }
            _ => {
                let (Some(a), Some(b), Some(st)) = (as_i128(&fv), as_i128(&tv), as_i128(&sv))
                else {
                    return err(
                        "KQL1072",
                        "range: bounds must be numbers, datetimes or timespans with a matching step",
                        span,
                    );
                };
                if st == 0 || (b - a) / st > MAX_ROWS {
                    return err(
                        "KQL1072",
                        "range: step is zero or the range is too long",
                        span,
                    );
                }
                let mut out = Vec::new();
                let mut x = a;
                while (st > 0 && x <= b) || (st < 0 && x >= b) {
                    out.push(match ty {
                        ScalarType::DateTime => {
                            ScalarValue::TimestampNanosecond(Some(x as i64), Some("UTC".into()))
                        }
                        ScalarType::TimeSpan => ScalarValue::DurationNanosecond(Some(x as i64)),
                        ScalarType::Int => ScalarValue::Int32(Some(x as i32)),
                        _ => ScalarValue::Int64(Some(x as i64)),
                    });
                    x += st;
                }
                out
            }
        };
        let col = ColumnInfo {
            name: c.name.clone(),
            ty: if ty == ScalarType::Int {
                ScalarType::Long
            } else {
                ty
            },
        };
        let field = crate::types::field(&col.name, col.ty);
        let array = if values.is_empty() {
            datafusion::arrow::array::new_empty_array(field.data_type())
        } else {
            let arr = ScalarValue::iter_to_array(values).map_err(|e| df_error(e, span))?;
            datafusion::arrow::compute::cast(&arr, field.data_type())
                .map_err(|e| df_error(e.into(), span))?
        };
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(vec![field]));
        let batch = datafusion::arrow::array::RecordBatch::try_new(schema.clone(), vec![array])
            .map_err(|e| df_error(e.into(), span))?;
        let mem = datafusion::datasource::MemTable::try_new(schema, vec![vec![batch]])
            .map_err(|e| df_error(e, span))?;
        let plan = build(
            LogicalPlanBuilder::scan(
                TableReference::bare("range"),
                provider_as_source(Arc::new(mem)),
                None,
            ),
            span,
        )?;
        Ok(Tabular {
            plan,
            columns: vec![col],
        })
    }

    pub(super) fn apply(&mut self, t: Tabular, op: &ast::PipeOp) -> PResult<Tabular> {
        let span = op.span;
        match &op.kind {
            PipeOpKind::Where(pred) => {
                let p = self.scalar(pred, &t.columns)?;
                if p.ty != ScalarType::Bool {
                    return err(
                        "KQL1080",
                        format!("`where` needs a bool predicate, this is {}", p.ty.name()),
                        pred.span,
                    );
                }
                // `where prev(x) != x`: window calls are computed first, then dropped.
                let (input, mut exprs) =
                    super::serial::plan_windows(t.plan, vec![p.expr], self.partition_keys())
                        .map_err(|e| df_error(e, span))?;
                let pred = exprs.pop().unwrap_or_else(|| lit(true));
                let plan = build(
                    LogicalPlanBuilder::from(input).filter(pred).and_then(|b| {
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
            PipeOpKind::Extend(items) => self.extend(t, items, span),
            PipeOpKind::Project(items) => {
                let expanded = super::aggs::expand_multi_value(items);
                let items = expanded.as_slice();
                let taken: Vec<String> = Vec::new();
                let names = names_for(items, &taken, "Column");
                let mut exprs = Vec::new();
                let mut cols: Vec<ColumnInfo> = Vec::new();
                for (it, name) in items.iter().zip(names) {
                    let v = self.scalar(&it.expr, &t.columns)?;
                    if cols.iter().any(|c| c.name == name) {
                        return err(
                            "KQL1081",
                            format!("column `{name}` is projected twice"),
                            it.span,
                        );
                    }
                    // A column kept under its own name stays a plain reference: `T.c AS c`
                    // would give an unqualified `c` that DataFusion's optimizer can later set
                    // beside the table's qualified `T.c` in one node (an ambiguity error).
                    match &v.expr {
                        Expr::Column(c) if c.name == name => exprs.push(v.expr),
                        _ => exprs.push(v.expr.alias(&name)),
                    }
                    cols.push(ColumnInfo { name, ty: v.ty });
                }
                let (input, exprs) =
                    super::serial::plan_windows(t.plan, exprs, self.partition_keys())
                        .map_err(|e| df_error(e, span))?;
                let plan = build(LogicalPlanBuilder::from(input).project(exprs), span)?;
                Ok(Tabular {
                    plan,
                    columns: cols,
                })
            }
            PipeOpKind::ProjectAway(pats) | PipeOpKind::ProjectKeep(pats) => {
                let keep = matches!(op.kind, PipeOpKind::ProjectKeep(_));
                for p in pats {
                    if !t.columns.iter().any(|c| glob(&p.pattern, &c.name)) && !p.is_wildcard() {
                        return self.unknown_column(&p.pattern, p.span, &t.columns);
                    }
                }
                let cols: Vec<ColumnInfo> = t
                    .columns
                    .iter()
                    .filter(|c| pats.iter().any(|p| glob(&p.pattern, &c.name)) == keep)
                    .cloned()
                    .collect();
                self.select(t, cols, span)
            }
            PipeOpKind::ProjectRename(pairs) => {
                let mut cols = t.columns.clone();
                let mut exprs: Vec<Expr> = t.columns.iter().map(|c| column(&c.name)).collect();
                for (new, old) in pairs {
                    let Some(i) = t.columns.iter().position(|c| c.name == old.name) else {
                        return self.unknown_column(&old.name, old.span, &t.columns);
                    };
                    exprs[i] = column(&old.name).alias(&new.name);
                    cols[i].name = new.name.clone();
                }
                let plan = build(LogicalPlanBuilder::from(t.plan).project(exprs), span)?;
                Ok(Tabular {
                    plan,
                    columns: cols,
                })
            }
            PipeOpKind::ProjectReorder(pats) => {
                let mut first: Vec<ColumnInfo> = Vec::new();
                for (p, dir) in pats {
                    let mut matched: Vec<ColumnInfo> = t
                        .columns
                        .iter()
                        .filter(|c| glob(&p.pattern, &c.name) && !first.contains(c))
                        .cloned()
                        .collect();
                    if matched.is_empty() && !p.is_wildcard() {
                        return self.unknown_column(&p.pattern, p.span, &t.columns);
                    }
                    match dir {
                        Some(SortDirection::Asc) => matched.sort_by(|a, b| a.name.cmp(&b.name)),
                        Some(SortDirection::Desc) => matched.sort_by(|a, b| b.name.cmp(&a.name)),
                        None => {}
                    }
                    first.extend(matched);
                }
                let rest: Vec<ColumnInfo> = t
                    .columns
                    .iter()
                    .filter(|c| !first.contains(c))
                    .cloned()
                    .collect();
                first.extend(rest);
                self.select(t, first, span)
            }
            PipeOpKind::Summarize { aggregates, by, .. } => self.summarize(t, aggregates, by, span),
            PipeOpKind::Sort(keys) => {
                let sorts = self.sort_exprs(keys, &t.columns)?;
                let plan = build(LogicalPlanBuilder::from(t.plan).sort(sorts), span)?;
                Ok(Tabular {
                    plan,
                    columns: t.columns,
                })
            }
            PipeOpKind::Take(n) => {
                let n = self.count_arg(n)?;
                let plan = build(LogicalPlanBuilder::from(t.plan).limit(0, Some(n)), span)?;
                Ok(Tabular {
                    plan,
                    columns: t.columns,
                })
            }
            PipeOpKind::Top { count, key } => {
                let n = self.count_arg(count)?;
                let sorts = self.sort_exprs(std::slice::from_ref(key), &t.columns)?;
                let plan = build(
                    LogicalPlanBuilder::from(t.plan)
                        .sort(sorts)
                        .and_then(|b| b.limit(0, Some(n))),
                    span,
                )?;
                Ok(Tabular {
                    plan,
                    columns: t.columns,
                })
            }
            PipeOpKind::Distinct { columns, all } => {
                let t = if *all {
                    t
                } else {
                    let items: Vec<ast::NamedExpr> = columns
                        .iter()
                        .map(|c| ast::NamedExpr {
                            names: vec![],
                            expr: c.clone(),
                            span: c.span,
                        })
                        .collect();
                    self.apply(
                        t,
                        &ast::PipeOp {
                            kind: PipeOpKind::Project(items),
                            span,
                        },
                    )?
                };
                let plan = build(LogicalPlanBuilder::from(t.plan).distinct(), span)?;
                Ok(Tabular {
                    plan,
                    columns: t.columns,
                })
            }
            PipeOpKind::Count => {
                let plan = build(
                    LogicalPlanBuilder::from(t.plan).aggregate(
                        Vec::<Expr>::new(),
                        vec![
                            datafusion::functions_aggregate::expr_fn::count(lit(1i64))
                                .alias("Count"),
                        ],
                    ),
                    span,
                )?;
                Ok(Tabular {
                    plan,
                    columns: vec![ColumnInfo {
                        name: "Count".into(),
                        ty: ScalarType::Long,
                    }],
                })
            }
            PipeOpKind::Union(spec) => self.union(Some(t), spec, span),
            PipeOpKind::Join { params, right, on } => self.join(t, params, right, on, span),
            PipeOpKind::As(name) => {
                self.bind(&name.name, Binding::Table(t.clone()));
                Ok(t)
            }
            PipeOpKind::GetSchema => {
                let rows: Vec<Vec<Expr>> = t
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        vec![
                            lit(c.name.clone()),
                            lit(i as i32),
                            lit(system_type_name(c.ty)),
                            lit(c.ty.name()),
                        ]
                    })
                    .collect();
                let cols = vec![
                    ColumnInfo {
                        name: "ColumnName".into(),
                        ty: ScalarType::String,
                    },
                    ColumnInfo {
                        name: "ColumnOrdinal".into(),
                        ty: ScalarType::Int,
                    },
                    ColumnInfo {
                        name: "DataType".into(),
                        ty: ScalarType::String,
                    },
                    ColumnInfo {
                        name: "ColumnType".into(),
                        ty: ScalarType::String,
                    },
                ];
                let b = LogicalPlanBuilder::values(rows).map_err(|e| df_error(e, span))?;
                let exprs: Vec<Expr> = cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| column(&format!("column{}", i + 1)).alias(&c.name))
                    .collect();
                Ok(Tabular {
                    plan: build(b.project(exprs), span)?,
                    columns: cols,
                })
            }
            PipeOpKind::MvExpand(spec) => self.mv_expand(t, spec, false, span),
            PipeOpKind::MvApply(spec) => self.mv_apply(t, spec, span),
            PipeOpKind::MakeSeries(spec) => self.make_series(t, spec, span),
            PipeOpKind::Evaluate(spec) => self.evaluate(t, spec, span),
            PipeOpKind::Parse(spec) => self.parse_op(t, spec, false, span),
            PipeOpKind::ParseWhere(spec) => self.parse_op(t, spec, true, span),
            PipeOpKind::Render(r) => self.render(t, r),
            PipeOpKind::ParseKv(spec) => self.parse_kv(t, spec, span),
            PipeOpKind::Scan(spec) => self.scan_op(t, spec, span),
            PipeOpKind::Partition(p) => self.partition_op(t, p, span),
            PipeOpKind::TopNested(levels) => self.top_nested(t, levels, span),
            PipeOpKind::ProjectByNames(items) => self.project_by_names(t, items, span),
            PipeOpKind::Lookup { params, right, on } => self.lookup_op(t, params, right, on, span),
            PipeOpKind::Invoke(call) => self.invoke(t, call, span),
            PipeOpKind::Search(spec) => self.search_filter(t, spec, span),
            PipeOpKind::Sample(n) => {
                let n = self.count_arg(n)?;
                let plan = build(LogicalPlanBuilder::from(t.plan).limit(0, Some(n)), span)?;
                Ok(Tabular {
                    plan,
                    columns: t.columns,
                })
            }
            PipeOpKind::SampleDistinct {
                count, column: c, ..
            } => self.sample_distinct(t, count, c, span),
            PipeOpKind::Serialize(items) => {
                if items.is_empty() {
                    Ok(t)
                } else {
                    self.extend(t, items, span)
                }
            }
            #[allow(unreachable_patterns)]
            other => {
                let dbg = format!("{other:?}");
                let name: String = dbg.chars().take_while(|c| c.is_alphanumeric()).collect();
                err(
                    "KQL1005",
                    format!("the `{name}` query operator is not supported yet"),
                    span,
                )
            }
        }
    }

    fn unknown_column<T>(&self, name: &str, span: Span, cols: &[ColumnInfo]) -> PResult<T> {
        let mut d = Diagnostic::error("KQL1001", format!("unknown column `{name}`"), span);
        if let Some(c) = crate::suggest::closest(name, cols.iter().map(|c| c.name.as_str())) {
            d.help = Some(format!("did you mean `{c}`?"));
        }
        Err(Box::new(d))
    }

    /// Projects `cols` (a subset/reordering of `t`'s columns).
    fn select(&self, t: Tabular, cols: Vec<ColumnInfo>, span: Span) -> PResult<Tabular> {
        let exprs: Vec<Expr> = cols.iter().map(|c| column(&c.name)).collect();
        let plan = build(LogicalPlanBuilder::from(t.plan).project(exprs), span)?;
        Ok(Tabular {
            plan,
            columns: cols,
        })
    }

    pub(super) fn count_arg_pub(&mut self, e: &ast::Expr) -> PResult<usize> {
        self.count_arg(e)
    }

    pub(super) fn count_arg(&mut self, e: &ast::Expr) -> PResult<usize> {
        let v = self.scalar(e, &[])?;
        match eval_constant(&v.expr) {
            Some(ScalarValue::Int64(Some(n))) if n >= 0 => Ok(n as usize),
            Some(ScalarValue::Int32(Some(n))) if n >= 0 => Ok(n as usize),
            _ => err(
                "KQL1082",
                "the row count must be a non-negative constant integer",
                e.span,
            ),
        }
    }

    pub(super) fn sort_exprs(
        &mut self,
        keys: &[ast::SortKey],
        row: &[ColumnInfo],
    ) -> PResult<Vec<datafusion::logical_expr::SortExpr>> {
        let mut out = Vec::new();
        for k in keys {
            let v = self.scalar(&k.expr, row)?;
            // Kusto sorts descending by default; nulls go last when descending, first when ascending.
            let asc = matches!(k.direction, Some(SortDirection::Asc));
            let nulls_first = k.nulls_first.unwrap_or(asc);
            out.push(v.expr.sort(asc, nulls_first));
        }
        Ok(out)
    }

    fn extend(&mut self, t: Tabular, items: &[ast::NamedExpr], span: Span) -> PResult<Tabular> {
        let saved = self.extend_input.replace(t.columns.clone());
        let out = self.extend_items(t, items, span);
        self.extend_input = saved;
        out
    }

    fn extend_items(
        &mut self,
        t: Tabular,
        items: &[ast::NamedExpr],
        span: Span,
    ) -> PResult<Tabular> {
        let mut cur = t;
        let expanded = super::aggs::expand_multi_value(items);
        let items = expanded.as_slice();
        let taken: Vec<String> = cur.columns.iter().map(|c| c.name.clone()).collect();
        let names = names_for(items, &taken, "Column");
        for (it, name) in items.iter().zip(names) {
            if it.names.len() > 1 {
                return err(
                    "KQL1083",
                    "tuple assignment `(a, b) = ...` is not supported yet",
                    it.span,
                );
            }
            let v = self.scalar(&it.expr, &cur.columns)?;
            let mut exprs: Vec<Expr> = Vec::new();
            let mut cols = Vec::new();
            let mut replaced = false;
            for c in &cur.columns {
                if c.name == name {
                    exprs.push(v.expr.clone().alias(&name));
                    cols.push(ColumnInfo {
                        name: name.clone(),
                        ty: v.ty,
                    });
                    replaced = true;
                } else {
                    exprs.push(column(&c.name));
                    cols.push(c.clone());
                }
            }
            if !replaced {
                exprs.push(v.expr.alias(&name));
                cols.push(ColumnInfo { name, ty: v.ty });
            }
            let (input, exprs) =
                super::serial::plan_windows(cur.plan, exprs, self.partition_keys())
                    .map_err(|e| df_error(e, span))?;
            let plan = build(LogicalPlanBuilder::from(input).project(exprs), span)?;
            cur = Tabular {
                plan,
                columns: cols,
            };
        }
        Ok(cur)
    }

    pub(super) fn summarize(
        &mut self,
        t: Tabular,
        aggregates: &[ast::NamedExpr],
        by: &[ast::NamedExpr],
        span: Span,
    ) -> PResult<Tabular> {
        // Group keys.
        let by_names = names_for(by, &[], "Column");
        let mut group_exprs = Vec::new();
        let mut out_cols = Vec::new();
        for (it, name) in by.iter().zip(&by_names) {
            let v = self.scalar(&it.expr, &t.columns)?;
            if out_cols.iter().any(|c: &ColumnInfo| &c.name == name) {
                return err(
                    "KQL1084",
                    format!("`{name}` appears twice in `by`"),
                    it.span,
                );
            }
            group_exprs.push(v.expr.alias(name));
            out_cols.push(ColumnInfo {
                name: name.clone(),
                ty: v.ty,
            });
        }
        // Aggregates, each compiled with a collector that hoists aggregate calls.
        let expanded = super::aggs::expand_percentiles(aggregates);
        let aggregates = expanded.as_slice();
        let agg_names = names_for(aggregates, &by_names, "Column");
        let saved = self.agg.replace(AggCollector {
            no_keys: by.is_empty(),
            ..AggCollector::default()
        });
        let mut post = Vec::new();
        let mut result = Ok(());
        for (it, name) in aggregates.iter().zip(&agg_names) {
            if let ast::ExprKind::Call { name: f, args } = &it.expr.kind
                && matches!(f.name.as_str(), "arg_max" | "arg_min" | "argmax" | "argmin")
            {
                let given = it.names.first().map(|n| n.name.as_str());
                match self.arg_max(f, args, &t.columns, &by_names, given, it.span) {
                    Ok(cols) => post.extend(cols),
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
                continue;
            }
            let before = self.agg.as_ref().map_or(0, |c| c.exprs.len());
            match self.scalar(&it.expr, &t.columns) {
                Ok(v) => {
                    let after = self.agg.as_ref().map_or(0, |c| c.exprs.len());
                    if after == before {
                        result = err(
                            "KQL1085",
                            "each `summarize` expression must contain an aggregate function such as count() or dcount(x)",
                            it.span,
                        );
                        break;
                    }
                    post.push((v, name.clone(), it.span));
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let collector = std::mem::replace(&mut self.agg, saved).unwrap_or_default();
        result?;
        let aggr_exprs: Vec<Expr> = collector
            .exprs
            .into_iter()
            .map(|(e, n)| e.alias(n))
            .collect();
        let mut b = LogicalPlanBuilder::from(t.plan)
            .aggregate(group_exprs, aggr_exprs)
            .map_err(|e| df_error(e, span))?;
        let mut final_exprs: Vec<Expr> = out_cols.iter().map(|c| column(&c.name)).collect();
        for (v, name, item_span) in post {
            if out_cols.iter().any(|c| c.name == name) {
                return err(
                    "KQL1084",
                    format!("column `{name}` is produced twice by this summarize"),
                    item_span,
                );
            }
            final_exprs.push(v.expr.alias(&name));
            out_cols.push(ColumnInfo { name, ty: v.ty });
        }
        b = b.project(final_exprs).map_err(|e| df_error(e, span))?;
        Ok(Tabular {
            plan: build(Ok(b), span)?,
            columns: out_cols,
        })
    }

    /// `arg_max(ExprToMaximize, * | ExprToReturn, ...)` (and `arg_min`): the row of each
    /// group with the largest (smallest) value. Lowered to one `first_value` over a struct of
    /// the returned values ordered by the key, so all columns come from the same row, then
    /// unpacked. Output: the key column, then the returned columns (`*` = every input column
    /// except the group keys and the key column).
    fn arg_max(
        &mut self,
        f: &ast::Ident,
        args: &[ast::Arg],
        row: &[ColumnInfo],
        by_names: &[String],
        given: Option<&str>,
        span: Span,
    ) -> PResult<Vec<(Typed, String, Span)>> {
        let is_max = matches!(f.name.as_str(), "arg_max" | "argmax");
        if args.len() < 2 {
            return err(
                "KQL1020",
                format!(
                    "`{}` takes the expression to {} and the columns to return (or *)",
                    f.name,
                    if is_max { "maximize" } else { "minimize" }
                ),
                span,
            );
        }
        let key = self.scalar(&args[0].value, row)?;
        // `Latest = arg_max(TimeGenerated, *)`: the name given names the key column (and `*`
        // then still returns TimeGenerated itself).
        let key_name = given
            .map(String::from)
            .or_else(|| derived_name(&args[0].value))
            .unwrap_or_else(|| if is_max { "max_".into() } else { "min_".into() });
        let mut returned: Vec<(String, Typed)> = Vec::new();
        for a in &args[1..] {
            if matches!(a.value.kind, ast::ExprKind::Star) {
                for c in row {
                    if c.name != key_name
                        && !by_names.contains(&c.name)
                        && !returned.iter().any(|(n, _)| *n == c.name)
                    {
                        returned.push((c.name.clone(), Typed::new(column(&c.name), c.ty)));
                    }
                }
            } else {
                let v = self.scalar(&a.value, row)?;
                let name = a
                    .name
                    .as_ref()
                    .map(|n| n.name.clone())
                    .or_else(|| derived_name(&a.value))
                    .unwrap_or_else(|| format!("Column{}", returned.len() + 1));
                returned.push((name, v));
            }
        }
        let mut fields = vec![lit("k"), key.expr.clone()];
        for (i, (_, v)) in returned.iter().enumerate() {
            fields.push(lit(format!("c{i}")));
            fields.push(v.expr.clone());
        }
        let packed = datafusion::functions::expr_fn::named_struct(fields);
        let agg = datafusion::functions_aggregate::expr_fn::first_value(
            packed,
            vec![key.expr.sort(!is_max, false)],
        );
        let Some(collector) = self.agg.as_mut() else {
            return err("KQL1064", "arg_max outside summarize", span);
        };
        let hidden = format!("__agg{}", collector.exprs.len());
        collector.exprs.push((agg, hidden.clone()));
        let get = |field: &str| datafusion::functions::expr_fn::get_field(column(&hidden), field);
        // A name already taken by a group key gets a numeric suffix, as Kusto does
        // (`summarize arg_max(Timestamp, *) by bin(Timestamp, 1d)` → Timestamp, Timestamp1).
        let unique = |name: String, out: &[(Typed, String, Span)]| {
            let taken =
                |n: &str| by_names.iter().any(|b| b == n) || out.iter().any(|(_, o, _)| o == n);
            if !taken(&name) {
                return name;
            }
            (1..)
                .map(|i| format!("{name}{i}"))
                .find(|n| !taken(n))
                .unwrap_or(name)
        };
        let mut out: Vec<(Typed, String, Span)> = Vec::new();
        let key_name = unique(key_name, &out);
        out.push((Typed::new(get("k"), key.ty), key_name, span));
        for (i, (name, v)) in returned.into_iter().enumerate() {
            if out.iter().any(|(_, n, _)| *n == name) {
                continue;
            }
            let name = unique(name, &out);
            out.push((Typed::new(get(&format!("c{i}")), v.ty), name, span));
        }
        Ok(out)
    }

    fn union(
        &mut self,
        first: Option<Tabular>,
        spec: &ast::UnionSpec,
        span: Span,
    ) -> PResult<Tabular> {
        let mut withsource: Option<String> = None;
        for p in &spec.params {
            if p.name.name == "withsource"
                && let ast::ExprKind::Name(id) = &p.value.kind
            {
                withsource = Some(id.name.clone());
            }
        }
        self.union_of(first, &spec.tables, withsource, span)
    }

    /// The rows of `first` (when given) and of every table expression in `tables` (bare names
    /// may hold `*` wildcards over the catalog), with a `withsource` column naming each row's
    /// table when asked.
    pub(super) fn union_of(
        &mut self,
        first: Option<Tabular>,
        tables: &[ast::Expr],
        withsource: Option<String>,
        span: Span,
    ) -> PResult<Tabular> {
        let inputs = self.union_collect(first, tables)?;
        self.union_inputs(inputs, withsource, span)
    }

    /// The inputs of a union, each with the name `withsource` shows for it.
    pub(super) fn union_collect(
        &mut self,
        first: Option<Tabular>,
        tables: &[ast::Expr],
    ) -> PResult<Vec<(String, Tabular)>> {
        let mut inputs: Vec<(String, Tabular)> = Vec::new();
        if let Some(f) = first {
            inputs.push(("".into(), f));
        }
        for te in tables {
            if let ast::ExprKind::Name(id) = &te.kind
                && id.name.contains('*')
            {
                let matches: Vec<String> = self
                    .catalog
                    .names()
                    .filter(|n| glob(&id.name, n))
                    .map(String::from)
                    .collect();
                for m in matches {
                    let ident = ast::Ident {
                        name: m.clone(),
                        span: id.span,
                    };
                    inputs.push((m, self.table(&ident)?));
                }
                continue;
            }
            let name = union_input_name(te).unwrap_or_else(|| format!("union_arg{}", inputs.len()));
            inputs.push((name, self.tabular(te)?));
        }
        Ok(inputs)
    }

    /// The union of planned inputs (see [`Planner::union_of`]).
    pub(super) fn union_inputs(
        &mut self,
        inputs: Vec<(String, Tabular)>,
        withsource: Option<String>,
        span: Span,
    ) -> PResult<Tabular> {
        if inputs.is_empty() {
            return err("KQL1086", "union has no inputs", span);
        }
        // Output columns: by name, in order of first appearance (Kusto's `kind=outer`). A name
        // that has different types in different inputs becomes one column per type, named
        // `name_type` (made unique with a number: union reference, `x_long1`, `x_int`).
        let all_names: Vec<String> = inputs
            .iter()
            .flat_map(|(_, t)| t.columns.iter().map(|c| c.name.clone()))
            .collect();
        let conflicting = |name: &str| {
            let mut tys = inputs
                .iter()
                .flat_map(|(_, t)| t.columns.iter())
                .filter(|c| c.name == name)
                .map(|c| c.ty);
            let first = tys.next();
            tys.any(|t| Some(t) != first)
        };
        // (output column, source name)
        let mut cols: Vec<ColumnInfo> = Vec::new();
        let mut sources: Vec<String> = Vec::new();
        for (_, t) in &inputs {
            for c in &t.columns {
                if cols
                    .iter()
                    .zip(&sources)
                    .any(|(x, src)| *src == c.name && x.ty == c.ty)
                {
                    continue;
                }
                let name = if conflicting(&c.name) {
                    let base = format!("{}_{}", c.name, c.ty.name());
                    let taken = |n: &str| {
                        cols.iter().any(|x| x.name == n) || (all_names.iter().any(|x| x == n))
                    };
                    if taken(&base) {
                        (1..)
                            .map(|k| format!("{base}{k}"))
                            .find(|n| !taken(n))
                            .unwrap_or(base)
                    } else {
                        base
                    }
                } else {
                    c.name.clone()
                };
                cols.push(ColumnInfo { name, ty: c.ty });
                sources.push(c.name.clone());
            }
        }
        let mut plan: Option<LogicalPlanBuilder> = None;
        for (name, t) in inputs {
            let mut exprs: Vec<Expr> = Vec::new();
            if let Some(ws) = &withsource {
                exprs.push(lit(name.clone()).alias(ws));
            }
            for (c, src) in cols.iter().zip(&sources) {
                if t.columns.iter().any(|x| x.name == *src && x.ty == c.ty) {
                    exprs.push(super::calls::cast(column(src), arrow_type(c.ty)).alias(&c.name));
                } else {
                    exprs.push(
                        lit(ScalarValue::try_from(&arrow_type(c.ty))
                            .map_err(|e| df_error(e, span))?)
                        .alias(&c.name),
                    );
                }
            }
            let projected = build(LogicalPlanBuilder::from(t.plan).project(exprs), span)?;
            plan = Some(match plan {
                None => LogicalPlanBuilder::from(projected),
                Some(b) => b.union(projected).map_err(|e| df_error(e, span))?,
            });
        }
        if let Some(ws) = withsource {
            cols.insert(
                0,
                ColumnInfo {
                    name: ws,
                    ty: ScalarType::String,
                },
            );
        }
        let Some(plan) = plan else {
            return err("KQL1086", "union has no inputs", span);
        };
        Ok(Tabular {
            plan: build(Ok(plan), span)?,
            columns: cols,
        })
    }

    pub(super) fn join(
        &mut self,
        left: Tabular,
        params: &[ast::OpParam],
        right: &ast::Expr,
        on: &[ast::JoinCondition],
        span: Span,
    ) -> PResult<Tabular> {
        let mut kind = "innerunique".to_string();
        for p in params {
            if p.name.name == "kind" {
                kind = match &p.value.kind {
                    ast::ExprKind::Name(id) => id.name.clone(),
                    _ => return err("KQL1090", "join kind must be a name", p.value.span),
                };
            }
        }
        let jt = match kind.as_str() {
            "innerunique" | "inner" => JoinType::Inner,
            "leftouter" => JoinType::Left,
            "rightouter" => JoinType::Right,
            "fullouter" | "outer" => JoinType::Full,
            "leftsemi" => JoinType::LeftSemi,
            "leftanti" | "anti" | "leftantisemi" => JoinType::LeftAnti,
            "rightsemi" => JoinType::RightSemi,
            "rightanti" | "rightantisemi" => JoinType::RightAnti,
            other => {
                return err(
                    "KQL1090",
                    format!("unknown join kind `{other}`"),
                    span,
                )
                .map_err(|d| Box::new(d.with_help("kinds: innerunique, inner, leftouter, rightouter, fullouter, leftsemi, leftanti, rightsemi, rightanti")));
            }
        };
        let right = self.tabular(right)?;
        // Key pairs (left name, right name).
        let mut keys: Vec<(String, String)> = Vec::new();
        for c in on {
            match c {
                ast::JoinCondition::Column(id) => {
                    if !left.columns.iter().any(|c| c.name == id.name) {
                        return self.unknown_column(&id.name, id.span, &left.columns);
                    }
                    if !right.columns.iter().any(|c| c.name == id.name) {
                        return self.unknown_column(&id.name, id.span, &right.columns);
                    }
                    keys.push((id.name.clone(), id.name.clone()));
                }
                ast::JoinCondition::Equal { left: l, right: r } => {
                    let side = |e: &ast::Expr| -> Option<(String, String)> {
                        if let ast::ExprKind::Member { object, name } = &e.kind
                            && let ast::ExprKind::Name(o) = &object.kind
                        {
                            return Some((o.name.clone(), name.name.clone()));
                        }
                        None
                    };
                    let (Some(a), Some(b)) = (side(l), side(r)) else {
                        return err(
                            "KQL1091",
                            "join conditions must look like `$left.Column == $right.Column`",
                            l.span.to(r.span),
                        );
                    };
                    let (lk, rk) = match (a.0.as_str(), b.0.as_str()) {
                        ("$left", "$right") => (a.1, b.1),
                        ("$right", "$left") => (b.1, a.1),
                        _ => {
                            return err(
                                "KQL1091",
                                "join conditions must compare `$left.X` with `$right.Y`",
                                l.span.to(r.span),
                            );
                        }
                    };
                    if !left.columns.iter().any(|c| c.name == lk) {
                        return self.unknown_column(&lk, l.span, &left.columns);
                    }
                    if !right.columns.iter().any(|c| c.name == rk) {
                        return self.unknown_column(&rk, r.span, &right.columns);
                    }
                    keys.push((lk, rk));
                }
            }
        }
        if keys.is_empty() {
            return err("KQL1092", "join needs an `on` clause", span);
        }
        // innerunique: keep one (arbitrary) left row per key, as Kusto does.
        let mut left_plan = left.plan.clone();
        if kind == "innerunique" {
            let rn = datafusion::functions_window::expr_fn::row_number()
                .partition_by(keys.iter().map(|(l, _)| column(l)).collect())
                .build()
                .map_err(|e| df_error(e, span))?
                .alias("__rn");
            let mut keep: Vec<Expr> = left.columns.iter().map(|c| column(&c.name)).collect();
            keep.push(column("__rn"));
            left_plan = build(
                LogicalPlanBuilder::from(left_plan)
                    .window(vec![rn])
                    .and_then(|b| b.filter(column("__rn").eq(lit(1u64))))
                    .and_then(|b| {
                        b.project(
                            left.columns
                                .iter()
                                .map(|c| column(&c.name))
                                .collect::<Vec<_>>(),
                        )
                    }),
                span,
            )?;
            let _ = keep;
        }
        // Give right columns private names so both sides can be referred to unambiguously.
        let rname = |n: &str| format!("__r_{n}");
        let right_plan = build(
            LogicalPlanBuilder::from(right.plan.clone()).project(
                right
                    .columns
                    .iter()
                    .map(|c| column(&c.name).alias(rname(&c.name)))
                    .collect::<Vec<_>>(),
            ),
            span,
        )?;
        let lkeys: Vec<datafusion::common::Column> = keys
            .iter()
            .map(|(l, _)| datafusion::common::Column::new_unqualified(l))
            .collect();
        let rkeys: Vec<datafusion::common::Column> = keys
            .iter()
            .map(|(_, r)| datafusion::common::Column::new_unqualified(rname(r)))
            .collect();
        let joined = LogicalPlanBuilder::from(left_plan)
            .join(right_plan, jt, (lkeys, rkeys), None)
            .map_err(|e| df_error(e, span))?;
        // Output columns: left, then right with name clashes suffixed 1, 2, ...
        let mut exprs = Vec::new();
        let mut cols: Vec<ColumnInfo> = Vec::new();
        let left_side = !matches!(jt, JoinType::RightSemi | JoinType::RightAnti);
        let right_side = !matches!(jt, JoinType::LeftSemi | JoinType::LeftAnti);
        if left_side {
            for c in &left.columns {
                exprs.push(column(&c.name));
                cols.push(c.clone());
            }
        }
        if right_side {
            for c in &right.columns {
                let mut name = c.name.clone();
                let mut n = 1;
                while cols.iter().any(|x| x.name == name) {
                    name = format!("{}{}", c.name, n);
                    n += 1;
                }
                exprs.push(column(&rname(&c.name)).alias(&name));
                cols.push(ColumnInfo { name, ty: c.ty });
            }
        }
        let plan = build(joined.project(exprs), span)?;
        Ok(Tabular {
            plan,
            columns: cols,
        })
    }
}

/// The .NET type name `getschema` reports.
fn system_type_name(t: ScalarType) -> &'static str {
    match t {
        ScalarType::Bool => "System.Boolean",
        ScalarType::Int => "System.Int32",
        ScalarType::Long => "System.Int64",
        ScalarType::Real => "System.Double",
        ScalarType::Decimal => "System.Data.SqlTypes.SqlDecimal",
        ScalarType::String => "System.String",
        ScalarType::DateTime => "System.DateTime",
        ScalarType::TimeSpan => "System.TimeSpan",
        ScalarType::Guid => "System.Guid",
        ScalarType::Dynamic => "System.Object",
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_wildcards() {
        assert!(glob("Initiating*", "InitiatingProcessId"));
        assert!(glob("*Name", "AccountName"));
        assert!(!glob("Account", "AccountName"));
        assert!(glob("A*c*e", "AccountName"));
    }
}
