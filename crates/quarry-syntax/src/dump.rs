//! A compact S-expression dump of the AST, for snapshot tests and debugging.
//!
//! One statement per line; a pipeline prints its source and then one `| (operator ...)` per
//! line, indented under the `(pipe`. Examples:
//!
//! ```text
//! (let Threshold 10)
//! (pipe (name T)
//!   | (where (> (name x) (name Threshold)))
//!   | (take 5))
//! ```
//!
//! Spans are not printed. Literals: `5` (long), `1.5` (real, always with a `.` or exponent),
//! `"s"` (string, Rust-escaped), `true`, `(int 5)`, `(timespan <ticks>)`, `(datetime "<raw>")`,
//! `(guid "<raw>")`, `(decimal 1.5)`, `(dynamic <json-like>)`, and `(long null)` etc. for nulls.

use crate::ast::*;
use std::fmt::Write as _;

/// Dumps a whole script, one statement per line.
pub fn dump_script(script: &Script) -> String {
    let mut out = String::new();
    for d in &script.declarations {
        out.push_str("(declare-query-parameters ");
        params_list(&mut out, &d.params, 0);
        out.push_str(")\n");
    }
    for (i, s) in script.statements.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        statement(&mut out, s, 0);
    }
    out
}

/// Dumps one expression.
pub fn dump_expr(e: &Expr) -> String {
    let mut out = String::new();
    expr(&mut out, e, 0);
    out
}

fn statement(out: &mut String, s: &Statement, ind: usize) {
    match s {
        Statement::Let(l) => let_stmt(out, l, ind),
        Statement::Query(e) => expr(out, e, ind),
        Statement::Set { name, value, .. } => {
            let _ = write!(out, "(set {}", name.name);
            if let Some(v) = value {
                out.push(' ');
                expr(out, v, ind);
            }
            out.push(')');
        }
    }
}

fn let_stmt(out: &mut String, l: &LetStatement, ind: usize) {
    let _ = write!(out, "(let {} ", ident(&l.name.name));
    match &l.value {
        LetValue::Expr(e) => expr(out, e, ind),
        LetValue::Function(f) => function(out, "fn", f, ind),
        LetValue::View(f) => function(out, "view", f, ind),
    }
    out.push(')');
}

fn function(out: &mut String, tag: &str, f: &FunctionDef, ind: usize) {
    let _ = write!(out, "({tag} ");
    params_list(out, &f.params, ind);
    for l in &f.body_lets {
        newline(out, ind + 2);
        let_stmt(out, l, ind + 2);
    }
    newline(out, ind + 2);
    expr(out, &f.body, ind + 2);
    out.push(')');
}

/// `((name type [default]) ...)`.
fn params_list(out: &mut String, ps: &[Param], ind: usize) {
    out.push('(');
    for (i, p) in ps.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "({} ", ident(&p.name.name));
        match &p.ty {
            ParamType::Scalar(t) => out.push_str(t.ty.name()),
            ParamType::Tabular(None) => out.push_str("(*)"),
            ParamType::Tabular(Some(cols)) => column_decls(out, cols),
        }
        if let Some(d) = &p.default {
            out.push(' ');
            expr(out, d, ind);
        }
        out.push(')');
    }
    out.push(')');
}

fn column_decls(out: &mut String, cols: &[ColumnDecl]) {
    out.push('(');
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "({} {})", ident(&c.name.name), c.ty.ty.name());
    }
    out.push(')');
}

fn newline(out: &mut String, ind: usize) {
    out.push('\n');
    for _ in 0..ind {
        out.push(' ');
    }
}

/// Names print bare when they are plain identifiers, quoted otherwise.
fn ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| {
            c.is_alphanumeric() || c == '_' || c == '$' || c == '*' || c == '.' || c == '-'
        });
    if plain {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

fn list(out: &mut String, items: &[Expr], ind: usize) {
    out.push('(');
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        expr(out, e, ind);
    }
    out.push(')');
}

fn named_list(out: &mut String, items: &[NamedExpr], ind: usize) {
    for n in items {
        out.push(' ');
        named(out, n, ind);
    }
}

fn named(out: &mut String, n: &NamedExpr, ind: usize) {
    match n.names.as_slice() {
        [] => expr(out, &n.expr, ind),
        [one] => {
            let _ = write!(out, "(= {} ", ident(&one.name));
            expr(out, &n.expr, ind);
            out.push(')');
        }
        many => {
            let names: Vec<String> = many.iter().map(|i| ident(&i.name)).collect();
            let _ = write!(out, "(= ({}) ", names.join(" "));
            expr(out, &n.expr, ind);
            out.push(')');
        }
    }
}

fn params(out: &mut String, params: &[OpParam], ind: usize) {
    if params.is_empty() {
        return;
    }
    out.push_str(" (params");
    for p in params {
        let _ = write!(out, " ({} ", p.name.name);
        expr(out, &p.value, ind);
        out.push(')');
    }
    out.push(')');
}

fn binary_op(op: BinaryOp) -> String {
    match op {
        BinaryOp::Add => "+".into(),
        BinaryOp::Sub => "-".into(),
        BinaryOp::Mul => "*".into(),
        BinaryOp::Div => "/".into(),
        BinaryOp::Mod => "%".into(),
        BinaryOp::Eq => "==".into(),
        BinaryOp::NotEq => "!=".into(),
        BinaryOp::Lt => "<".into(),
        BinaryOp::Le => "<=".into(),
        BinaryOp::Gt => ">".into(),
        BinaryOp::Ge => ">=".into(),
        BinaryOp::EqTilde => "=~".into(),
        BinaryOp::NotEqTilde => "!~".into(),
        BinaryOp::And => "and".into(),
        BinaryOp::Or => "or".into(),
        BinaryOp::MatchesRegex => "matches-regex".into(),
        BinaryOp::Str(s) => s.spelling(),
    }
}

fn expr(out: &mut String, e: &Expr, ind: usize) {
    match &e.kind {
        ExprKind::Literal(l) => literal(out, l),
        ExprKind::Name(i) => {
            let _ = write!(out, "(name {})", ident(&i.name));
        }
        ExprKind::Star => out.push('*'),
        ExprKind::Unary { op, operand } => {
            out.push_str(match op {
                UnaryOp::Neg => "(neg ",
                UnaryOp::Plus => "(plus ",
            });
            expr(out, operand, ind);
            out.push(')');
        }
        ExprKind::Binary { op, left, right } => {
            let _ = write!(out, "({} ", binary_op(*op));
            expr(out, left, ind);
            out.push(' ');
            expr(out, right, ind);
            out.push(')');
        }
        ExprKind::In {
            operand,
            list: items,
            negated,
            case_insensitive,
        } => {
            let _ = write!(
                out,
                "({}in{} ",
                if *negated { "!" } else { "" },
                if *case_insensitive { "~" } else { "" }
            );
            expr(out, operand, ind);
            out.push(' ');
            list(out, items, ind);
            out.push(')');
        }
        ExprKind::HasAnyAll {
            operand,
            list: items,
            all,
        } => {
            let _ = write!(out, "({} ", if *all { "has_all" } else { "has_any" });
            expr(out, operand, ind);
            out.push(' ');
            list(out, items, ind);
            out.push(')');
        }
        ExprKind::Between {
            operand,
            low,
            high,
            negated,
        } => {
            let _ = write!(out, "({}between ", if *negated { "!" } else { "" });
            expr(out, operand, ind);
            out.push(' ');
            expr(out, low, ind);
            out.push(' ');
            expr(out, high, ind);
            out.push(')');
        }
        ExprKind::Call { name, args } => {
            let _ = write!(out, "(call {}", ident(&name.name));
            for a in args {
                out.push(' ');
                match &a.name {
                    Some(n) => {
                        let _ = write!(out, "(arg {} ", ident(&n.name));
                        expr(out, &a.value, ind);
                        out.push(')');
                    }
                    None => expr(out, &a.value, ind),
                }
            }
            out.push(')');
        }
        ExprKind::Member { object, name } => {
            out.push_str("(. ");
            expr(out, object, ind);
            let _ = write!(out, " {})", ident(&name.name));
        }
        ExprKind::Index { object, index } => {
            out.push_str("([] ");
            expr(out, object, ind);
            out.push(' ');
            expr(out, index, ind);
            out.push(')');
        }
        ExprKind::TypeOf(t) => {
            let _ = write!(out, "(typeof {})", t.ty.name());
        }
        ExprKind::Paren(inner) => {
            out.push_str("(paren ");
            expr(out, inner, ind);
            out.push(')');
        }
        ExprKind::Pipe { .. } => {
            // Flatten the left-deep chain: source first, then the operators in order.
            let mut ops = Vec::new();
            let mut cur = e;
            while let ExprKind::Pipe { input, op } = &cur.kind {
                ops.push(op.as_ref());
                cur = input;
            }
            out.push_str("(pipe ");
            expr(out, cur, ind + 2);
            for op in ops.iter().rev() {
                newline(out, ind + 2);
                out.push_str("| ");
                pipe_op(out, op, ind + 4);
            }
            out.push(')');
        }
        ExprKind::Print(items) => {
            out.push_str("(print");
            named_list(out, items, ind);
            out.push(')');
        }
        ExprKind::Range {
            column,
            from,
            to,
            step,
        } => {
            let _ = write!(out, "(range {} ", ident(&column.name));
            expr(out, from, ind);
            out.push(' ');
            expr(out, to, ind);
            out.push(' ');
            expr(out, step, ind);
            out.push(')');
        }
        ExprKind::Datatable { columns, values } => {
            out.push_str("(datatable ");
            column_decls(out, columns);
            out.push(' ');
            list(out, values, ind);
            out.push(')');
        }
        ExprKind::Union(spec) => union(out, spec, ind),
        ExprKind::ExternalData(x) => {
            out.push_str("(externaldata ");
            column_decls(out, &x.columns);
            out.push(' ');
            list(out, &x.uris, ind);
            if !x.properties.is_empty() {
                out.push_str(" (with");
                props(out, &x.properties, ind);
                out.push(')');
            }
            out.push(')');
        }
        ExprKind::Evaluate(x) => evaluate(out, x, ind),
        ExprKind::Search(x) => search(out, x, ind),
        ExprKind::Find(x) => {
            out.push_str("(find");
            params(out, &x.params, ind);
            if !x.tables.is_empty() {
                out.push_str(" (in");
                for t in &x.tables {
                    out.push(' ');
                    expr(out, t, ind);
                }
                out.push(')');
            }
            out.push_str(" (where ");
            expr(out, &x.predicate, ind);
            out.push(')');
            match &x.project {
                None => {}
                Some(FindProject::Smart) => out.push_str(" (project-smart)"),
                Some(FindProject::Columns(cols)) => {
                    out.push_str(" (project");
                    for c in cols {
                        out.push(' ');
                        match &c.ty {
                            Some(t) => {
                                out.push_str("(: ");
                                expr(out, &c.expr, ind);
                                let _ = write!(out, " {})", t.ty.name());
                            }
                            None => expr(out, &c.expr, ind),
                        }
                    }
                    out.push(')');
                }
            }
            out.push(')');
        }
    }
}

/// ` (name value)...` for property lists.
fn props(out: &mut String, ps: &[OpParam], ind: usize) {
    for p in ps {
        let _ = write!(out, " ({} ", p.name.name);
        expr(out, &p.value, ind);
        out.push(')');
    }
}

fn evaluate(out: &mut String, x: &EvaluateSpec, ind: usize) {
    out.push_str("(evaluate");
    params(out, &x.params, ind);
    let _ = write!(out, " (call {}", ident(&x.plugin.name));
    args(out, &x.args, ind);
    out.push(')');
    if let Some(schema) = &x.output_schema {
        out.push_str(" (schema ");
        if schema.star {
            out.push_str("* ");
        }
        column_decls(out, &schema.columns);
        out.push(')');
    }
    out.push(')');
}

fn args(out: &mut String, args: &[Arg], ind: usize) {
    for a in args {
        out.push(' ');
        match &a.name {
            Some(n) => {
                let _ = write!(out, "(arg {} ", ident(&n.name));
                expr(out, &a.value, ind);
                out.push(')');
            }
            None => expr(out, &a.value, ind),
        }
    }
}

fn search(out: &mut String, x: &SearchSpec, ind: usize) {
    out.push_str("(search");
    params(out, &x.params, ind);
    if !x.tables.is_empty() {
        out.push_str(" (in");
        for t in &x.tables {
            out.push(' ');
            expr(out, t, ind);
        }
        out.push(')');
    }
    out.push(' ');
    expr(out, &x.predicate, ind);
    out.push(')');
}

/// A subquery: `(subquery` then one `| (op)` per line, indented.
fn subquery(out: &mut String, q: &Subquery, ind: usize) {
    out.push_str("(subquery");
    for op in &q.ops {
        newline(out, ind + 2);
        out.push_str("| ");
        pipe_op(out, op, ind + 4);
    }
    out.push(')');
}

fn mv_items(out: &mut String, items: &[MvExpandItem], ind: usize) {
    for it in items {
        out.push(' ');
        if let Some(t) = &it.to_type {
            let _ = write!(out, "(to {} ", t.ty.name());
        }
        match &it.name {
            Some(n) => {
                let _ = write!(out, "(= {} ", ident(&n.name));
                expr(out, &it.expr, ind);
                out.push(')');
            }
            None => expr(out, &it.expr, ind),
        }
        if it.to_type.is_some() {
            out.push(')');
        }
    }
}

fn limit(out: &mut String, l: &Option<Expr>, ind: usize) {
    if let Some(l) = l {
        out.push_str(" (limit ");
        expr(out, l, ind);
        out.push(')');
    }
}

fn join_on(out: &mut String, on: &[JoinCondition], ind: usize) {
    out.push_str(" (on");
    for c in on {
        out.push(' ');
        match c {
            JoinCondition::Column(i) => out.push_str(&ident(&i.name)),
            JoinCondition::Equal { left, right } => {
                out.push_str("(== ");
                expr(out, left, ind);
                out.push(' ');
                expr(out, right, ind);
                out.push(')');
            }
        }
    }
    out.push(')');
}

fn direction(out: &mut String, d: Option<SortDirection>) {
    match d {
        Some(SortDirection::Asc) => out.push_str(" asc"),
        Some(SortDirection::Desc) => out.push_str(" desc"),
        None => {}
    }
}

fn union(out: &mut String, spec: &UnionSpec, ind: usize) {
    out.push_str("(union");
    params(out, &spec.params, ind);
    for t in &spec.tables {
        out.push(' ');
        expr(out, t, ind);
    }
    out.push(')');
}

fn pattern(p: &ColumnPattern) -> String {
    ident(&p.pattern)
}

fn sort_key(out: &mut String, k: &SortKey, ind: usize) {
    out.push_str("(key ");
    expr(out, &k.expr, ind);
    match k.direction {
        Some(SortDirection::Asc) => out.push_str(" asc"),
        Some(SortDirection::Desc) => out.push_str(" desc"),
        None => {}
    }
    match k.nulls_first {
        Some(true) => out.push_str(" nulls-first"),
        Some(false) => out.push_str(" nulls-last"),
        None => {}
    }
    out.push(')');
}

fn pipe_op(out: &mut String, op: &PipeOp, ind: usize) {
    match &op.kind {
        PipeOpKind::Where(e) => {
            out.push_str("(where ");
            expr(out, e, ind);
            out.push(')');
        }
        PipeOpKind::Extend(items) => {
            out.push_str("(extend");
            named_list(out, items, ind);
            out.push(')');
        }
        PipeOpKind::Project(items) => {
            out.push_str("(project");
            named_list(out, items, ind);
            out.push(')');
        }
        PipeOpKind::ProjectAway(pats) | PipeOpKind::ProjectKeep(pats) => {
            let tag = if matches!(op.kind, PipeOpKind::ProjectAway(_)) {
                "project-away"
            } else {
                "project-keep"
            };
            let pats: Vec<String> = pats.iter().map(pattern).collect();
            let _ = write!(out, "({tag} {})", pats.join(" "));
        }
        PipeOpKind::ProjectRename(pairs) => {
            out.push_str("(project-rename");
            for (new, old) in pairs {
                let _ = write!(out, " ({} {})", ident(&new.name), ident(&old.name));
            }
            out.push(')');
        }
        PipeOpKind::ProjectReorder(cols) => {
            out.push_str("(project-reorder");
            for (p, dir) in cols {
                match dir {
                    None => {
                        let _ = write!(out, " {}", pattern(p));
                    }
                    Some(SortDirection::Asc) => {
                        let _ = write!(out, " ({} asc)", pattern(p));
                    }
                    Some(SortDirection::Desc) => {
                        let _ = write!(out, " ({} desc)", pattern(p));
                    }
                }
            }
            out.push(')');
        }
        PipeOpKind::Summarize {
            params: ps,
            aggregates,
            by,
        } => {
            out.push_str("(summarize");
            params(out, ps, ind);
            out.push_str(" (aggs");
            named_list(out, aggregates, ind);
            out.push(')');
            if !by.is_empty() {
                out.push_str(" (by");
                named_list(out, by, ind);
                out.push(')');
            }
            out.push(')');
        }
        PipeOpKind::Sort(keys) => {
            out.push_str("(sort");
            for k in keys {
                out.push(' ');
                sort_key(out, k, ind);
            }
            out.push(')');
        }
        PipeOpKind::Take(e) => {
            out.push_str("(take ");
            expr(out, e, ind);
            out.push(')');
        }
        PipeOpKind::Top { count, key } => {
            out.push_str("(top ");
            expr(out, count, ind);
            out.push(' ');
            sort_key(out, key, ind);
            out.push(')');
        }
        PipeOpKind::Distinct { columns, all } => {
            if *all {
                out.push_str("(distinct *)");
            } else {
                out.push_str("(distinct");
                for c in columns {
                    out.push(' ');
                    expr(out, c, ind);
                }
                out.push(')');
            }
        }
        PipeOpKind::Count => out.push_str("(count)"),
        PipeOpKind::Union(spec) => union(out, spec, ind),
        PipeOpKind::Join {
            params: ps,
            right,
            on,
        } => {
            out.push_str("(join");
            params(out, ps, ind);
            out.push(' ');
            expr(out, right, ind);
            join_on(out, on, ind);
            out.push(')');
        }
        PipeOpKind::As(name) => {
            let _ = write!(out, "(as {})", ident(&name.name));
        }
        PipeOpKind::GetSchema => out.push_str("(getschema)"),
        PipeOpKind::Serialize(items) => {
            out.push_str("(serialize");
            named_list(out, items, ind);
            out.push(')');
        }
        _ => more_pipe_ops(out, op, ind),
    }
}

/// Operators added after v1.
fn more_pipe_ops(out: &mut String, op: &PipeOp, ind: usize) {
    match &op.kind {
        PipeOpKind::MvExpand(x) => {
            out.push_str("(mv-expand");
            params(out, &x.params, ind);
            mv_items(out, &x.items, ind);
            limit(out, &x.limit, ind);
            out.push(')');
        }
        PipeOpKind::MvApply(x) => {
            out.push_str("(mv-apply");
            params(out, &x.params, ind);
            mv_items(out, &x.items, ind);
            limit(out, &x.limit, ind);
            out.push(' ');
            subquery(out, &x.subquery, ind);
            out.push(')');
        }
        PipeOpKind::Render(x) => {
            let _ = write!(out, "(render {}", ident(&x.chart.name));
            if !x.properties.is_empty() {
                out.push_str(" (with");
                for p in &x.properties {
                    let _ = write!(out, " ({}", p.name.name);
                    for v in &p.values {
                        out.push(' ');
                        expr(out, v, ind);
                    }
                    out.push(')');
                }
                out.push(')');
            }
            out.push(')');
        }
        PipeOpKind::Parse(x) | PipeOpKind::ParseWhere(x) => {
            let tag = if matches!(op.kind, PipeOpKind::Parse(_)) {
                "parse"
            } else {
                "parse-where"
            };
            let _ = write!(out, "({tag}");
            params(out, &x.params, ind);
            out.push(' ');
            expr(out, &x.source, ind);
            out.push_str(" (with");
            for p in &x.parts {
                out.push(' ');
                match p {
                    ParsePart::Wildcard(_) => out.push('*'),
                    ParsePart::Literal { value, .. } => {
                        let _ = write!(out, "{value:?}");
                    }
                    ParsePart::Column { name, ty: None } => {
                        let _ = write!(out, "(col {})", ident(&name.name));
                    }
                    ParsePart::Column { name, ty: Some(t) } => {
                        let _ = write!(out, "(col {} {})", ident(&name.name), t.ty.name());
                    }
                }
            }
            out.push_str("))");
        }
        PipeOpKind::ParseKv(x) => {
            out.push_str("(parse-kv ");
            expr(out, &x.source, ind);
            out.push_str(" (as ");
            column_decls(out, &x.keys);
            out.push(')');
            if !x.properties.is_empty() {
                out.push_str(" (with");
                props(out, &x.properties, ind);
                out.push(')');
            }
            out.push(')');
        }
        PipeOpKind::MakeSeries(x) => {
            out.push_str("(make-series");
            params(out, &x.params, ind);
            out.push_str(" (aggs");
            for a in &x.aggregates {
                out.push(' ');
                match &a.default {
                    Some(d) => {
                        out.push_str("(default ");
                        named(out, &a.agg, ind);
                        out.push(' ');
                        expr(out, d, ind);
                        out.push(')');
                    }
                    None => named(out, &a.agg, ind),
                }
            }
            out.push_str(") (on ");
            expr(out, &x.axis, ind);
            if x.range_syntax {
                out.push_str(" (in-range");
                for e in [&x.from, &x.to].into_iter().flatten() {
                    out.push(' ');
                    expr(out, e, ind);
                }
                out.push(' ');
                expr(out, &x.step, ind);
                out.push(')');
            } else {
                for (tag, e) in [("from", &x.from), ("to", &x.to)] {
                    if let Some(e) = e {
                        let _ = write!(out, " ({tag} ");
                        expr(out, e, ind);
                        out.push(')');
                    }
                }
                out.push_str(" (step ");
                expr(out, &x.step, ind);
                out.push(')');
            }
            out.push(')');
            if !x.by.is_empty() {
                out.push_str(" (by");
                named_list(out, &x.by, ind);
                out.push(')');
            }
            out.push(')');
        }
        PipeOpKind::Evaluate(x) => evaluate(out, x, ind),
        PipeOpKind::Invoke(call) => {
            out.push_str("(invoke ");
            expr(out, call, ind);
            out.push(')');
        }
        PipeOpKind::Lookup {
            params: ps,
            right,
            on,
        } => {
            out.push_str("(lookup");
            params(out, ps, ind);
            out.push(' ');
            expr(out, right, ind);
            join_on(out, on, ind);
            out.push(')');
        }
        PipeOpKind::Search(x) => search(out, x, ind),
        PipeOpKind::TopNested(levels) => {
            out.push_str("(top-nested");
            for l in levels {
                out.push_str(" (level ");
                match &l.count {
                    Some(c) => expr(out, c, ind),
                    None => out.push_str("all"),
                }
                out.push_str(" (of ");
                named(out, &l.of, ind);
                out.push(')');
                if let Some(o) = &l.others {
                    out.push_str(" (others ");
                    expr(out, o, ind);
                    out.push(')');
                }
                out.push_str(" (by ");
                named(out, &l.by, ind);
                direction(out, l.direction);
                out.push_str("))");
            }
            out.push(')');
        }
        PipeOpKind::Sample(n) => {
            out.push_str("(sample ");
            expr(out, n, ind);
            out.push(')');
        }
        PipeOpKind::SampleDistinct {
            params: ps,
            count,
            column,
        } => {
            out.push_str("(sample-distinct");
            params(out, ps, ind);
            out.push(' ');
            expr(out, count, ind);
            out.push(' ');
            expr(out, column, ind);
            out.push(')');
        }
        PipeOpKind::Facet { columns, with } => {
            let cols: Vec<String> = columns.iter().map(|c| ident(&c.name)).collect();
            let _ = write!(out, "(facet (by {})", cols.join(" "));
            if let Some(q) = with {
                out.push(' ');
                subquery(out, q, ind);
            }
            out.push(')');
        }
        PipeOpKind::Partition(x) => {
            out.push_str("(partition");
            params(out, &x.params, ind);
            let _ = write!(out, " (by {}) ", ident(&x.by.name));
            match &x.body {
                PartitionBody::Subquery(q) => subquery(out, q, ind),
                PartitionBody::Query(e) => {
                    out.push_str("(query ");
                    expr(out, e, ind);
                    out.push(')');
                }
            }
            out.push(')');
        }
        PipeOpKind::Fork(branches) => {
            out.push_str("(fork");
            for b in branches {
                newline(out, ind + 2);
                out.push_str("(branch ");
                if let Some(n) = &b.name {
                    let _ = write!(out, "{} ", ident(&n.name));
                }
                subquery(out, &b.query, ind + 2);
                out.push(')');
            }
            out.push(')');
        }
        PipeOpKind::Scan(x) => {
            out.push_str("(scan");
            params(out, &x.params, ind);
            if !x.declare.is_empty() {
                out.push_str(" (declare ");
                params_list(out, &x.declare, ind);
                out.push(')');
            }
            for s in &x.steps {
                newline(out, ind + 2);
                let _ = write!(out, "(step {}", ident(&s.name.name));
                if let Some(o) = &s.output {
                    let _ = write!(out, " (output {})", ident(&o.name));
                }
                out.push(' ');
                expr(out, &s.condition, ind + 2);
                if !s.assignments.is_empty() {
                    out.push_str(" (=>");
                    for (c, e) in &s.assignments {
                        let _ = write!(out, " (= {} ", ident(&c.name));
                        expr(out, e, ind + 2);
                        out.push(')');
                    }
                    out.push(')');
                }
                out.push(')');
            }
            out.push(')');
        }
        PipeOpKind::Reduce {
            params: ps,
            by,
            with,
        } => {
            out.push_str("(reduce");
            params(out, ps, ind);
            out.push_str(" (by ");
            expr(out, by, ind);
            out.push(')');
            if !with.is_empty() {
                out.push_str(" (with");
                props(out, with, ind);
                out.push(')');
            }
            out.push(')');
        }
        PipeOpKind::TopHitters { count, of, by } => {
            out.push_str("(top-hitters ");
            expr(out, count, ind);
            out.push_str(" (of ");
            expr(out, of, ind);
            out.push(')');
            if let Some(b) = by {
                out.push_str(" (by ");
                expr(out, b, ind);
                out.push(')');
            }
            out.push(')');
        }
        PipeOpKind::ProjectByNames(items) => {
            out.push_str("(project-by-names");
            for e in items {
                out.push(' ');
                expr(out, e, ind);
            }
            out.push(')');
        }
        // The v1 operators are printed by `pipe_op`.
        _ => out.push_str("(?)"),
    }
}

fn real(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{v:?}")
    }
}

fn literal(out: &mut String, l: &Literal) {
    match l {
        Literal::Bool(Some(b)) => {
            let _ = write!(out, "{b}");
        }
        Literal::Bool(None) => out.push_str("(bool null)"),
        Literal::Int(Some(v)) => {
            let _ = write!(out, "(int {v})");
        }
        Literal::Int(None) => out.push_str("(int null)"),
        Literal::Long(Some(v)) => {
            let _ = write!(out, "{v}");
        }
        Literal::Long(None) => out.push_str("(long null)"),
        Literal::Real(Some(v)) => out.push_str(&real(*v)),
        Literal::Real(None) => out.push_str("(real null)"),
        Literal::Decimal(Some(t)) => {
            let _ = write!(out, "(decimal {t})");
        }
        Literal::Decimal(None) => out.push_str("(decimal null)"),
        Literal::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        Literal::DateTime(Some(t)) => {
            let _ = write!(out, "(datetime {t:?})");
        }
        Literal::DateTime(None) => out.push_str("(datetime null)"),
        Literal::TimeSpan(Some(t)) => {
            let _ = write!(out, "(timespan {t})");
        }
        Literal::TimeSpan(None) => out.push_str("(timespan null)"),
        Literal::Guid(Some(t)) => {
            let _ = write!(out, "(guid {t:?})");
        }
        Literal::Guid(None) => out.push_str("(guid null)"),
        Literal::Dynamic(d) => {
            out.push_str("(dynamic ");
            dynamic(out, d);
            out.push(')');
        }
    }
}

fn dynamic(out: &mut String, d: &DynamicLiteral) {
    match d {
        DynamicLiteral::Null => out.push_str("null"),
        DynamicLiteral::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        DynamicLiteral::Long(v) => {
            let _ = write!(out, "{v}");
        }
        DynamicLiteral::Real(v) => out.push_str(&real(*v)),
        DynamicLiteral::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        DynamicLiteral::DateTime(t) => {
            let _ = write!(out, "(datetime {t:?})");
        }
        DynamicLiteral::TimeSpan(t) => {
            let _ = write!(out, "(timespan {t})");
        }
        DynamicLiteral::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dynamic(out, x);
            }
            out.push(']');
        }
        DynamicLiteral::Object(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{k:?}: ");
                dynamic(out, v);
            }
            out.push('}');
        }
    }
}
