//! Pipeline analysis: which columns exist after each operator (and which known table column
//! each came from), and what earlier filters imply about column values. Reports
//!
//! * `QL0002` a predicate that is never true given earlier filters of the same pipeline,
//! * `QL0003` one that is always true,
//! * `QL0004` a comparison with a value a known column never takes,
//! * `QL0005` a case-sensitive match on an account or host name (hint),
//! * `QL0006` a column that the (known) input does not have.
//!
//! The analysis is conservative: when it cannot know the columns (an unknown table, `union`,
//! an unnamed computed column) the column list is "open" and no column is reported unknown;
//! facts are only kept for plain `==`/`in`/`!=`/`!in` comparisons with constants.

use super::known;
use quarry_syntax::ast::{
    self, BinaryOp, DynamicLiteral, Expr, ExprKind, Literal, PipeOp, PipeOpKind, UnaryOp,
};
use quarry_syntax::{Diagnostic, Severity, Span};
use std::collections::HashMap;

/// Deeper expressions than this are not analysed (the parser allows up to 1000 levels).
const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Str(String),
    Long(i64),
    Bool(bool),
}

impl Val {
    fn show(&self) -> String {
        match self {
            Val::Str(s) => format!("\"{s}\""),
            Val::Long(v) => v.to_string(),
            Val::Bool(b) => b.to_string(),
        }
    }

    fn lower(&self) -> Val {
        match self {
            Val::Str(s) => Val::Str(s.to_lowercase()),
            v => v.clone(),
        }
    }

    fn same_kind(&self, o: &Val) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(o)
    }

    /// Equal, ignoring case when `ci`.
    fn matches(&self, o: &Val, ci: bool) -> bool {
        if ci {
            self.lower() == o.lower()
        } else {
            self == o
        }
    }
}

fn show_list(vals: &[Val]) -> String {
    const MAX: usize = 6;
    let mut s: Vec<String> = vals.iter().take(MAX).map(Val::show).collect();
    if vals.len() > MAX {
        s.push(format!("… ({} values)", vals.len()));
    }
    s.join(", ")
}

/// Where a fact was learned: a whole earlier `where`, or an earlier conjunct of the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Where(Span),
    Conjunct(Span),
}

impl Source {
    fn span(self) -> Span {
        match self {
            Source::Where(s) | Source::Conjunct(s) => s,
        }
    }
}

#[derive(Debug, Clone)]
struct Allowed {
    values: Vec<Val>,
    /// Values are lower-cased and compared ignoring case (`=~`, `in~`).
    ci: bool,
    source: Source,
}

#[derive(Debug, Clone)]
struct Excluded {
    value: Val,
    ci: bool,
    source: Source,
}

#[derive(Debug, Clone, Default)]
struct Facts {
    allowed: Option<Allowed>,
    excluded: Vec<Excluded>,
}

type FactMap = HashMap<String, Facts>;

#[derive(Debug, Clone)]
struct Col {
    name: String,
    /// The known table and column it is an unchanged copy of.
    origin: Option<(String, String)>,
}

#[derive(Debug, Clone, Default)]
struct TableState {
    cols: Vec<Col>,
    /// Columns beyond `cols` may exist.
    open: bool,
    /// The one known table the pipeline reads, for messages.
    table: Option<String>,
    facts: FactMap,
}

impl TableState {
    fn open() -> TableState {
        TableState {
            open: true,
            ..TableState::default()
        }
    }

    fn known(table: &str) -> Option<TableState> {
        let cols = known::table_columns(table)?;
        Some(TableState {
            cols: cols
                .into_iter()
                .map(|c| Col {
                    origin: Some((table.to_string(), c.clone())),
                    name: c,
                })
                .collect(),
            open: false,
            table: Some(table.to_string()),
            facts: FactMap::new(),
        })
    }

    fn col(&self, name: &str) -> Option<&Col> {
        self.cols.iter().find(|c| c.name == name)
    }

    fn has(&self, name: &str) -> bool {
        self.open || self.col(name).is_some()
    }

    /// Defines (or redefines) a computed column.
    fn define(&mut self, name: &str, origin: Option<(String, String)>) {
        self.facts.remove(name);
        match self.cols.iter_mut().find(|c| c.name == name) {
            Some(c) => c.origin = origin,
            None => self.cols.push(Col {
                name: name.to_string(),
                origin,
            }),
        }
    }
}

#[derive(Debug, Clone)]
enum Bind {
    /// A scalar `let` (its value expression).
    Scalar(Expr),
    /// A function parameter (scalar).
    Param,
    Table(TableState),
    Function,
}

/// Truth of a predicate given the facts.
#[derive(Debug, Clone)]
enum Truth {
    Never(Reason),
    Always(Reason),
    Unknown,
}

impl Truth {
    fn flip(self) -> Truth {
        match self {
            Truth::Never(r) => Truth::Always(r),
            Truth::Always(r) => Truth::Never(r),
            Truth::Unknown => Truth::Unknown,
        }
    }
}

#[derive(Debug, Clone)]
struct Reason {
    /// The comparison that decides it.
    atom: Span,
    column: String,
    /// The atom's values (for "did you mean another column" help).
    values: Vec<Val>,
    source: Source,
    /// e.g. `limits `LogonType` to "Interactive", "RemoteInteractive"`.
    fact: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AtomOp {
    In { ci: bool },
    NotIn { ci: bool },
}

#[derive(Debug, Clone)]
struct Atom {
    column: String,
    op: AtomOp,
    values: Vec<Val>,
    /// Span of each value (literal or `let` name) for value diagnostics; parallel to `values`
    /// only when every element is one value.
    value_spans: Vec<Span>,
    span: Span,
}

/// Where a predicate sits, for the wording of the consequence.
#[derive(Debug, Clone)]
enum Ctx {
    Where,
    Aggregate(String),
    Condition(String),
}

pub struct Flow<'a> {
    src: &'a str,
    diags: Vec<Diagnostic>,
    scopes: Vec<HashMap<String, Bind>>,
    depth: usize,
}

/// Runs the pipeline checks over a parsed script.
pub fn check(script: &ast::Script, src: &str) -> Vec<Diagnostic> {
    let mut f = Flow {
        src,
        diags: Vec::new(),
        scopes: vec![HashMap::new()],
        depth: 0,
    };
    for s in &script.statements {
        match s {
            ast::Statement::Let(l) => f.let_stmt(l),
            ast::Statement::Query(e) => {
                if f.is_tabular(e) {
                    f.table(e);
                } else {
                    f.scalar(e, &TableState::open());
                }
            }
            ast::Statement::Set { .. } => {}
        }
    }
    f.diags
}

fn unparen(mut e: &Expr) -> &Expr {
    while let ExprKind::Paren(inner) = &e.kind {
        e = inner;
    }
    e
}

/// Top-level conjuncts of `a and b and c`.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    let e = unparen(e);
    match &e.kind {
        ExprKind::Binary {
            op: BinaryOp::And,
            left,
            right,
        } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        _ => vec![e],
    }
}

/// Does the text contain a letter that has a different upper/lower case? In a regex, letters
/// right after a backslash (`\d`, `\S`) are classes, not text.
fn has_cased_letter(s: &str, regex: bool) -> bool {
    let mut escaped = false;
    for c in s.chars() {
        if regex && escaped {
            escaped = false;
            continue;
        }
        if regex && c == '\\' {
            escaped = true;
            continue;
        }
        if c.is_lowercase() || c.is_uppercase() {
            return true;
        }
    }
    false
}

fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s
    }
}

impl<'a> Flow<'a> {
    fn text(&self, s: Span) -> &'a str {
        s.text(self.src)
    }

    fn lookup(&self, name: &str) -> Option<&Bind> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn bind(&mut self, name: &str, b: Bind) {
        if let Some(s) = self.scopes.last_mut() {
            s.insert(name.to_string(), b);
        }
    }

    fn let_stmt(&mut self, l: &ast::LetStatement) {
        match &l.value {
            ast::LetValue::Expr(e) => {
                if self.is_tabular(e) {
                    let st = self.table(e);
                    self.bind(&l.name.name, Bind::Table(st));
                } else {
                    self.scalar(e, &TableState::open());
                    self.bind(&l.name.name, Bind::Scalar(e.clone()));
                }
            }
            ast::LetValue::Function(f) | ast::LetValue::View(f) => {
                let mut scope = HashMap::new();
                for p in &f.params {
                    let b = match &p.ty {
                        ast::ParamType::Scalar(_) => Bind::Param,
                        ast::ParamType::Tabular(_) => Bind::Table(TableState::open()),
                    };
                    scope.insert(p.name.name.clone(), b);
                }
                // The function can call itself by name in its body only in name; bind first.
                self.bind(&l.name.name, Bind::Function);
                self.scopes.push(scope);
                for bl in &f.body_lets {
                    self.let_stmt(bl);
                }
                if self.is_tabular(&f.body) {
                    self.table(&f.body);
                } else {
                    self.scalar(&f.body, &TableState::open());
                }
                self.scopes.pop();
            }
        }
    }

    fn is_tabular(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Pipe { .. }
            | ExprKind::Print(_)
            | ExprKind::Range { .. }
            | ExprKind::Datatable { .. }
            | ExprKind::Union(_) => true,
            ExprKind::Paren(inner) => self.is_tabular(inner),
            ExprKind::Name(id) => {
                !matches!(self.lookup(&id.name), Some(Bind::Scalar(_) | Bind::Param))
            }
            ExprKind::Call { name, .. } => {
                matches!(name.name.as_str(), "materialize" | "view")
                    || matches!(self.lookup(&name.name), Some(Bind::Function))
            }
            _ => false,
        }
    }

    /// The state after a tabular expression (pipelines are walked iteratively).
    fn table(&mut self, e: &Expr) -> TableState {
        let mut ops: Vec<&PipeOp> = Vec::new();
        let mut cur = e;
        loop {
            match &cur.kind {
                ExprKind::Pipe { input, op } => {
                    ops.push(op);
                    cur = input;
                }
                ExprKind::Paren(inner) if matches!(inner.kind, ExprKind::Pipe { .. }) => {
                    cur = inner;
                }
                _ => break,
            }
        }
        let mut st = self.source(cur);
        for op in ops.into_iter().rev() {
            st = self.op(st, op);
        }
        st
    }

    fn source(&mut self, e: &Expr) -> TableState {
        if self.depth > MAX_DEPTH {
            return TableState::open();
        }
        self.depth += 1;
        let st = match &e.kind {
            ExprKind::Name(id) => match self.lookup(&id.name) {
                Some(Bind::Table(t)) => t.clone(),
                Some(_) => TableState::open(),
                None => TableState::known(&id.name).unwrap_or_else(TableState::open),
            },
            ExprKind::Paren(inner) => self.table(inner),
            ExprKind::Pipe { .. } => self.table(e),
            ExprKind::Call { name, args } => {
                if matches!(name.name.as_str(), "materialize" | "view") && args.len() == 1 {
                    self.table(&args[0].value)
                } else {
                    for a in args {
                        self.scalar(&a.value, &TableState::open());
                    }
                    TableState::open()
                }
            }
            ExprKind::Print(items) => {
                let mut st = TableState::default();
                for (i, it) in items.iter().enumerate() {
                    self.scalar(&it.expr, &TableState::open());
                    let name = it
                        .names
                        .first()
                        .map(|n| n.name.clone())
                        .unwrap_or_else(|| format!("print_{i}"));
                    st.define(&name, None);
                }
                st
            }
            ExprKind::Range { column, .. } => {
                let mut st = TableState::default();
                st.define(&column.name, None);
                st
            }
            ExprKind::Datatable { columns, .. } => {
                let mut st = TableState::default();
                for c in columns {
                    st.define(&c.name.name, None);
                }
                st
            }
            ExprKind::Union(u) => {
                for t in &u.tables {
                    self.table(t);
                }
                TableState::open()
            }
            _ => TableState::open(),
        };
        self.depth -= 1;
        st
    }

    fn op(&mut self, mut st: TableState, op: &PipeOp) -> TableState {
        match &op.kind {
            PipeOpKind::Where(p) => {
                self.scalar(p, &st);
                self.conditions(p, &st);
                self.where_filter(&mut st, p, op.span);
                st
            }
            PipeOpKind::Extend(items) | PipeOpKind::Serialize(items) => {
                for it in items {
                    self.scalar(&it.expr, &st);
                    self.conditions(&it.expr, &st);
                    let copy_of = match &unparen(&it.expr).kind {
                        ExprKind::Name(id) if self.is_column(&id.name) => Some(id.name.clone()),
                        _ => None,
                    };
                    match self.item_names(it) {
                        Some(names) => {
                            for n in names {
                                if copy_of.as_deref() == Some(n.as_str()) {
                                    continue;
                                }
                                let origin = copy_of
                                    .as_ref()
                                    .and_then(|c| st.col(c))
                                    .and_then(|c| c.origin.clone());
                                st.define(&n, origin);
                            }
                        }
                        None => st.open = true,
                    }
                }
                st
            }
            PipeOpKind::Project(items) => {
                let mut out = TableState {
                    table: st.table.clone(),
                    ..TableState::default()
                };
                for it in items {
                    self.scalar(&it.expr, &st);
                    self.conditions(&it.expr, &st);
                    let copy_of = match &unparen(&it.expr).kind {
                        ExprKind::Name(id) if self.is_column(&id.name) => Some(id.name.clone()),
                        _ => None,
                    };
                    match self.item_names(it) {
                        Some(names) => {
                            for n in names {
                                let origin = copy_of
                                    .as_ref()
                                    .and_then(|c| st.col(c))
                                    .and_then(|c| c.origin.clone());
                                out.define(&n, origin);
                                if let Some(c) = &copy_of
                                    && let Some(f) = st.facts.get(c)
                                {
                                    out.facts.insert(n.clone(), f.clone());
                                }
                            }
                        }
                        None => out.open = true,
                    }
                }
                out
            }
            PipeOpKind::ProjectAway(pats) => {
                for p in pats {
                    self.check_pattern(p, &st);
                }
                st.cols
                    .retain(|c| !pats.iter().any(|p| glob(&p.pattern, &c.name)));
                st.facts
                    .retain(|k, _| !pats.iter().any(|p| glob(&p.pattern, k)));
                st
            }
            PipeOpKind::ProjectKeep(pats) => {
                for p in pats {
                    self.check_pattern(p, &st);
                }
                st.cols
                    .retain(|c| pats.iter().any(|p| glob(&p.pattern, &c.name)));
                st.facts
                    .retain(|k, _| pats.iter().any(|p| glob(&p.pattern, k)));
                st
            }
            PipeOpKind::ProjectReorder(pats) => {
                for (p, _) in pats {
                    self.check_pattern(p, &st);
                }
                st
            }
            PipeOpKind::ProjectRename(pairs) => {
                for (new, old) in pairs {
                    if !st.has(&old.name) {
                        self.unknown_column(&old.name, old.span, &st);
                        continue;
                    }
                    let facts = st.facts.remove(&old.name);
                    if let Some(c) = st.cols.iter_mut().find(|c| c.name == old.name) {
                        c.name = new.name.clone();
                    }
                    if let Some(f) = facts {
                        st.facts.insert(new.name.clone(), f);
                    }
                }
                st
            }
            PipeOpKind::Summarize { aggregates, by, .. } => {
                let mut out = TableState {
                    table: st.table.clone(),
                    ..TableState::default()
                };
                for it in by {
                    self.scalar(&it.expr, &st);
                    self.conditions(&it.expr, &st);
                    let plain = match &unparen(&it.expr).kind {
                        ExprKind::Name(id) if self.is_column(&id.name) => Some(id.name.clone()),
                        _ => None,
                    };
                    match self.item_names(it) {
                        Some(names) => {
                            for n in names {
                                let same = plain.as_deref() == Some(n.as_str());
                                let origin = plain
                                    .as_ref()
                                    .and_then(|c| st.col(c))
                                    .and_then(|c| c.origin.clone());
                                out.define(&n, origin);
                                if same && let Some(f) = st.facts.get(&n) {
                                    out.facts.insert(n.clone(), f.clone());
                                }
                            }
                        }
                        None => out.open = true,
                    }
                }
                for it in aggregates {
                    self.scalar(&it.expr, &st);
                    self.conditions(&it.expr, &st);
                    self.aggregate_conditions(&it.expr, &st);
                    match self.item_names(it) {
                        Some(names) => {
                            for n in names {
                                out.define(&n, None);
                            }
                        }
                        None => out.open = true,
                    }
                }
                out
            }
            PipeOpKind::Sort(keys) => {
                for k in keys {
                    self.scalar(&k.expr, &st);
                }
                st
            }
            PipeOpKind::Top { key, .. } => {
                self.scalar(&key.expr, &st);
                st
            }
            PipeOpKind::Take(_) | PipeOpKind::As(_) => st,
            PipeOpKind::Distinct { columns, all } => {
                if *all {
                    return st;
                }
                let mut out = TableState {
                    table: st.table.clone(),
                    ..TableState::default()
                };
                for c in columns {
                    self.scalar(c, &st);
                    match &unparen(c).kind {
                        ExprKind::Name(id) => {
                            let origin = st.col(&id.name).and_then(|c| c.origin.clone());
                            out.define(&id.name, origin);
                            if let Some(f) = st.facts.get(&id.name) {
                                out.facts.insert(id.name.clone(), f.clone());
                            }
                        }
                        _ => out.open = true,
                    }
                }
                out
            }
            PipeOpKind::Count => {
                let mut out = TableState::default();
                out.define("Count", None);
                out
            }
            PipeOpKind::GetSchema => {
                let mut out = TableState::default();
                for c in ["ColumnName", "ColumnOrdinal", "DataType", "ColumnType"] {
                    out.define(c, None);
                }
                out
            }
            PipeOpKind::Union(u) => {
                for t in &u.tables {
                    self.table(t);
                }
                TableState::open()
            }
            PipeOpKind::Render(_) | PipeOpKind::Sample(_) => st,
            // Operators that add columns the linter does not model: the rows' other values
            // (and so the facts) are unchanged, but unknown columns may now exist.
            PipeOpKind::MvExpand(_)
            | PipeOpKind::Parse(_)
            | PipeOpKind::ParseWhere(_)
            | PipeOpKind::ParseKv(_) => {
                st.open = true;
                st
            }
            PipeOpKind::Lookup { right, .. } => {
                let r = self.table(right);
                for c in r.cols {
                    if !st.cols.iter().any(|x| x.name == c.name) {
                        st.cols.push(c);
                    }
                }
                st.open = true;
                st
            }
            PipeOpKind::Join { params, right, on } => {
                let r = self.table(right);
                let kind = params
                    .iter()
                    .find(|p| p.name.name == "kind")
                    .and_then(|p| match &p.value.kind {
                        ExprKind::Name(id) => Some(id.name.to_ascii_lowercase()),
                        _ => None,
                    })
                    .unwrap_or_else(|| "innerunique".into());
                for c in on {
                    match c {
                        ast::JoinCondition::Column(id) => {
                            if !st.has(&id.name) {
                                self.unknown_column(&id.name, id.span, &st);
                            } else if !r.has(&id.name) {
                                self.unknown_column(&id.name, id.span, &r);
                            }
                        }
                        ast::JoinCondition::Equal { left, right } => {
                            for side in [left, right] {
                                if let ExprKind::Member { object, name } = &side.kind
                                    && let ExprKind::Name(o) = &object.kind
                                {
                                    let target = match o.name.as_str() {
                                        "$left" => &st,
                                        "$right" => &r,
                                        _ => continue,
                                    };
                                    if !target.has(&name.name) {
                                        self.unknown_column(&name.name, name.span, target);
                                    }
                                }
                            }
                        }
                    }
                }
                match kind.as_str() {
                    "leftsemi" | "leftanti" | "anti" | "leftantisemi" => st,
                    "rightsemi" | "rightanti" | "rightantisemi" => r,
                    _ => {
                        let keep_left_facts =
                            matches!(kind.as_str(), "inner" | "innerunique" | "leftouter");
                        let mut out = TableState {
                            cols: st.cols.clone(),
                            open: st.open || r.open,
                            table: if st.table == r.table {
                                st.table.clone()
                            } else {
                                None
                            },
                            facts: if keep_left_facts {
                                st.facts.clone()
                            } else {
                                FactMap::new()
                            },
                        };
                        for c in r.cols {
                            let mut name = c.name.clone();
                            if out.cols.iter().any(|x| x.name == name) {
                                name.push('1');
                            }
                            out.cols.push(Col {
                                name,
                                origin: c.origin,
                            });
                        }
                        out
                    }
                }
            }
            // Anything else (make-series, evaluate, top-nested, fork, ...): columns unknown.
            _ => TableState::open(),
        }
    }

    /// Names an item of `extend`/`project`/`summarize` produces; `None` when unknown.
    fn item_names(&self, it: &ast::NamedExpr) -> Option<Vec<String>> {
        if !it.names.is_empty() {
            return Some(it.names.iter().map(|n| n.name.clone()).collect());
        }
        derived_name(&it.expr).map(|n| vec![n])
    }

    fn is_column(&self, name: &str) -> bool {
        self.lookup(name).is_none()
    }

    fn check_pattern(&mut self, p: &ast::ColumnPattern, st: &TableState) {
        if !p.is_wildcard() && !st.has(&p.pattern) {
            self.unknown_column(&p.pattern, p.span, st);
        }
    }

    fn unknown_column(&mut self, name: &str, span: Span, st: &TableState) {
        if st.open {
            return;
        }
        let msg = match &st.table {
            Some(t) => format!("unknown column `{name}`: not a column of {t} at this point"),
            None => format!("unknown column `{name}`"),
        };
        let mut d = Diagnostic::warning("QL0006", msg, span).with_label("no such column");
        let names = st.cols.iter().map(|c| c.name.as_str());
        if let Some(c) = known::closest(name, names) {
            d.help = Some(format!("did you mean `{c}`?"));
        }
        self.diags.push(d);
    }

    /// Checks names and values in a scalar expression evaluated over rows of `row`.
    fn scalar(&mut self, e: &Expr, row: &TableState) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        match &e.kind {
            ExprKind::Name(id) => {
                if self.lookup(&id.name).is_none()
                    && !row.has(&id.name)
                    && !id.name.starts_with('$')
                {
                    self.unknown_column(&id.name, id.span, row);
                }
            }
            ExprKind::Pipe { .. }
            | ExprKind::Union(_)
            | ExprKind::Datatable { .. }
            | ExprKind::Range { .. }
            | ExprKind::Print(_) => {
                self.table(e);
            }
            ExprKind::Call { name, args } => {
                let tabular_arg = matches!(name.name.as_str(), "toscalar" | "materialize" | "view");
                for a in args {
                    if tabular_arg && self.is_tabular(&a.value) {
                        self.table(&a.value);
                    } else {
                        self.scalar(&a.value, row);
                    }
                }
            }
            ExprKind::Member { object, .. } => self.scalar(object, row),
            ExprKind::In { operand, list, .. } => {
                self.scalar(operand, row);
                for x in list {
                    if matches!(unparen(x).kind, ExprKind::Pipe { .. }) {
                        self.table(x);
                    } else {
                        self.scalar(x, row);
                    }
                }
                self.value_checks(e, row);
            }
            ExprKind::Binary { left, right, .. } => {
                self.scalar(left, row);
                self.scalar(right, row);
                self.value_checks(e, row);
            }
            _ => {
                for c in crate::walk::children(e) {
                    self.scalar(c, row);
                }
            }
        }
        self.depth -= 1;
    }

    /// A constant value list: literals, `dynamic([...])`, and names of constant `let`s.
    fn constant(&self, e: &Expr, depth: usize) -> Option<Vec<Val>> {
        if depth > 16 {
            return None;
        }
        let e = unparen(e);
        match &e.kind {
            ExprKind::Literal(l) => match l {
                Literal::String(s) => Some(vec![Val::Str(s.clone())]),
                Literal::Long(Some(v)) => Some(vec![Val::Long(*v)]),
                Literal::Int(Some(v)) => Some(vec![Val::Long(i64::from(*v))]),
                Literal::Bool(Some(b)) => Some(vec![Val::Bool(*b)]),
                Literal::Dynamic(DynamicLiteral::Array(items)) => items
                    .iter()
                    .map(|i| match i {
                        DynamicLiteral::String(s) => Some(Val::Str(s.clone())),
                        DynamicLiteral::Long(v) => Some(Val::Long(*v)),
                        DynamicLiteral::Bool(b) => Some(Val::Bool(*b)),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            },
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => match &unparen(operand).kind {
                ExprKind::Literal(Literal::Long(Some(v))) => {
                    Some(vec![Val::Long(v.checked_neg()?)])
                }
                _ => None,
            },
            ExprKind::Name(id) => match self.lookup(&id.name) {
                Some(Bind::Scalar(v)) => {
                    let v = v.clone();
                    self.constant(&v, depth + 1)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The column name if `e` is a plain column reference.
    fn column_ref(&self, e: &Expr) -> Option<(String, Span)> {
        match &unparen(e).kind {
            ExprKind::Name(id) if self.is_column(&id.name) && !id.name.starts_with('$') => {
                Some((id.name.clone(), id.span))
            }
            _ => None,
        }
    }

    /// `col == v`, `v == col`, `col in (...)`, `col !~ v`, ... with constant values.
    fn atom(&self, e: &Expr) -> Option<Atom> {
        let e0 = e;
        let e = unparen(e);
        match &e.kind {
            ExprKind::Binary { op, left, right } => {
                let op = match op {
                    BinaryOp::Eq => AtomOp::In { ci: false },
                    BinaryOp::EqTilde => AtomOp::In { ci: true },
                    BinaryOp::NotEq => AtomOp::NotIn { ci: false },
                    BinaryOp::NotEqTilde => AtomOp::NotIn { ci: true },
                    _ => return None,
                };
                let ((column, _), value) = match (self.column_ref(left), self.column_ref(right)) {
                    (Some(c), None) => (c, right),
                    (None, Some(c)) => (c, left),
                    _ => return None,
                };
                let values = self.constant(value, 0)?;
                if values.len() != 1 {
                    return None;
                }
                Some(Atom {
                    column,
                    op,
                    values,
                    value_spans: vec![value.span],
                    span: e0.span,
                })
            }
            ExprKind::In {
                operand,
                list,
                negated,
                case_insensitive,
            } => {
                let (column, _) = self.column_ref(operand)?;
                let mut values = Vec::new();
                let mut value_spans = Vec::new();
                let mut parallel = true;
                for x in list {
                    let v = self.constant(x, 0)?;
                    if v.len() != 1 {
                        parallel = false;
                    }
                    value_spans.extend(std::iter::repeat_n(x.span, v.len()));
                    values.extend(v);
                }
                let _ = parallel;
                let ci = *case_insensitive;
                Some(Atom {
                    column,
                    op: if *negated {
                        AtomOp::NotIn { ci }
                    } else {
                        AtomOp::In { ci }
                    },
                    values,
                    value_spans,
                    span: e0.span,
                })
            }
            _ => None,
        }
    }

    /// QL0004 (values a known column never takes) and QL0005 (case-sensitive identity match)
    /// on one comparison.
    fn value_checks(&mut self, e: &Expr, row: &TableState) {
        if let Some(a) = self.atom(e) {
            self.known_value_check(&a, row);
            let ci = matches!(a.op, AtomOp::In { ci: true } | AtomOp::NotIn { ci: true });
            if !ci
                && known::is_identity_column(&a.column)
                && a.values
                    .iter()
                    .any(|v| matches!(v, Val::Str(s) if has_cased_letter(s, false)))
            {
                self.case_hint(e, &a);
            }
            return;
        }
        // `matches regex` and `_cs` string operators on identity columns.
        let ExprKind::Binary { op, left, right } = &unparen(e).kind else {
            return;
        };
        let Some((column, _)) = self.column_ref(left) else {
            return;
        };
        if !known::is_identity_column(&column) {
            return;
        }
        let Some(vals) = self.constant(right, 0) else {
            return;
        };
        let [Val::Str(text)] = vals.as_slice() else {
            return;
        };
        match op {
            BinaryOp::MatchesRegex => {
                if text.contains("(?i") || !has_cased_letter(text, true) {
                    return;
                }
                let lit = self.text(right.span);
                let fixed = match lit.find(['"', '\'']) {
                    Some(q) if matches!(unparen(right).kind, ExprKind::Literal(_)) => {
                        format!("{}(?i){}", &lit[..=q], &lit[q + 1..])
                    }
                    _ => String::new(),
                };
                let mut d = Diagnostic {
                    code: "QL0005".into(),
                    severity: Severity::Hint,
                    message: format!(
                        "`matches regex` on `{column}` is case-sensitive, but account and host names are not"
                    ),
                    span: e.span,
                    label: format!("`{}` would not match", upper_variant(text)),
                    labels: Vec::new(),
                    help: None,
                };
                d.help = Some(if fixed.is_empty() {
                    format!("start the pattern with `(?i)` to match `{column}` in any case")
                } else {
                    format!(
                        "to match in any case: `{} matches regex {fixed}`",
                        self.text(left.span)
                    )
                });
                self.diags.push(d);
            }
            BinaryOp::Str(sop) if sop.case_sensitive && has_cased_letter(text, false) => {
                let mut plain = *sop;
                plain.case_sensitive = false;
                let d = Diagnostic {
                    code: "QL0005".into(),
                    severity: Severity::Hint,
                    message: format!(
                        "`{}` on `{column}` is case-sensitive, but account and host names are not",
                        sop.spelling()
                    ),
                    span: e.span,
                    label: String::new(),
                    labels: Vec::new(),
                    help: Some(format!(
                        "to match in any case: `{} {} {}`",
                        self.text(left.span),
                        plain.spelling(),
                        self.text(right.span)
                    )),
                };
                self.diags.push(d);
            }
            _ => {}
        }
    }

    fn case_hint(&mut self, e: &Expr, a: &Atom) {
        let e = unparen(e);
        let (spelling, fixed) = match &e.kind {
            ExprKind::Binary { op, left, right } => {
                let (sp, ci) = match op {
                    BinaryOp::Eq => ("==", "=~"),
                    _ => ("!=", "!~"),
                };
                (
                    sp,
                    format!("{} {ci} {}", self.text(left.span), self.text(right.span)),
                )
            }
            ExprKind::In {
                operand,
                list,
                negated,
                ..
            } => {
                let items: Vec<&str> = list.iter().map(|x| self.text(x.span)).collect();
                (
                    if *negated { "!in" } else { "in" },
                    format!(
                        "{} {} ({})",
                        self.text(operand.span),
                        if *negated { "!in~" } else { "in~" },
                        items.join(", ")
                    ),
                )
            }
            _ => return,
        };
        self.diags.push(Diagnostic {
            code: "QL0005".into(),
            severity: Severity::Hint,
            message: format!(
                "`{spelling}` on `{}` is case-sensitive, but account and host names are not",
                a.column
            ),
            span: a.span,
            label: String::new(),
            labels: Vec::new(),
            help: Some(format!("to match in any case: `{}`", one_line(&fixed))),
        });
    }

    fn known_value_check(&mut self, a: &Atom, row: &TableState) {
        let Some((table, column)) = row.col(&a.column).and_then(|c| c.origin.clone()) else {
            return;
        };
        let Some(documented) = known::known_values(&table, &column) else {
            return;
        };
        let ci = matches!(a.op, AtomOp::In { ci: true } | AtomOp::NotIn { ci: true });
        for (i, v) in a.values.iter().enumerate() {
            let Val::Str(s) = v else { continue };
            let ok = documented.iter().any(|d| {
                if ci {
                    d.to_lowercase() == s.to_lowercase()
                } else {
                    d == s
                }
            });
            if ok {
                continue;
            }
            let span = a.value_spans.get(i).copied().unwrap_or(a.span);
            let mut d = Diagnostic::warning(
                "QL0004",
                format!("`{}` never has the value \"{s}\" in {table}", a.column),
                span,
            )
            .with_label(format!("not a documented {column} value"));
            let mut help = Vec::new();
            let number = known::LOGON_TYPE_NUMBERS
                .iter()
                .find(|(n, _)| *n == s.trim())
                .filter(|_| column == "LogonType" && table == "DeviceLogonEvents");
            if let Some((n, name)) = number {
                help.push(format!(
                    "{table} names logon types: type {n} is \"{name}\"."
                ));
            } else if let Some(c) = known::closest(s, documented.iter().copied()).or_else(|| {
                // "Success" → "LogonSuccess": the one documented value that contains it.
                let lower = s.to_lowercase();
                let hits: Vec<&&str> = documented
                    .iter()
                    .filter(|d| !lower.is_empty() && d.to_lowercase().contains(&lower))
                    .collect();
                match hits.as_slice() {
                    [one] => Some(**one),
                    _ => None,
                }
            }) {
                help.push(format!("did you mean \"{c}\"?"));
            }
            let others = known::columns_with_value(&table, s);
            if let Some(o) = others.first() {
                help.push(format!("\"{s}\" is a value of `{o}`."));
            }
            help.push(format!("Documented values: {}.", documented.join(", ")));
            d.help = Some(help.join(" "));
            self.diags.push(d);
        }
    }

    /// QL0002/QL0003 on a `where`: each conjunct against earlier filters (and the conjuncts
    /// before it), then the facts it establishes.
    fn where_filter(&mut self, st: &mut TableState, p: &Expr, op_span: Span) {
        let mut local = st.facts.clone();
        let mut never = false;
        for c in conjuncts(p) {
            let t = self.eval(c, &local, 0);
            if matches!(t, Truth::Never(_)) {
                never = true;
            }
            self.report(t, &Ctx::Where);
            self.learn(&mut local, c, Source::Conjunct(c.span));
        }
        if !never {
            for c in conjuncts(p) {
                self.learn(&mut st.facts, c, Source::Where(op_span));
            }
        }
    }

    /// `iff`/`iif`/`case` conditions anywhere in `e` (not inside sub-queries).
    fn conditions(&mut self, e: &Expr, st: &TableState) {
        let mut found: Vec<(String, &Expr)> = Vec::new();
        walk_scalar(e, &mut |x| {
            if let ExprKind::Call { name, args } = &x.kind {
                match name.name.as_str() {
                    "iff" | "iif" => {
                        if let Some(a) = args.first() {
                            found.push((name.name.clone(), &a.value));
                        }
                    }
                    "case" => {
                        for (i, a) in args.iter().enumerate() {
                            if i % 2 == 0 && i + 1 < args.len() {
                                found.push(("case".into(), &a.value));
                            }
                        }
                    }
                    _ => {}
                }
            }
        });
        for (f, cond) in found {
            let t = self.eval(cond, &st.facts, 0);
            self.report(t, &Ctx::Condition(f));
        }
    }

    /// Predicates of conditional aggregates (`countif(p)`, `dcountif(x, p)`, ...).
    fn aggregate_conditions(&mut self, e: &Expr, st: &TableState) {
        let mut found: Vec<(String, &Expr)> = Vec::new();
        walk_scalar(e, &mut |x| {
            if let ExprKind::Call { name, args } = &x.kind {
                let idx = match name.name.as_str() {
                    "countif" => Some(0),
                    "dcountif" | "sumif" | "avgif" | "minif" | "maxif" | "make_set_if"
                    | "make_list_if" | "make_bag_if" | "take_anyif" | "anyif" | "stdevif"
                    | "varianceif" | "percentileif" => Some(1),
                    _ => None,
                };
                if let Some(a) = idx.and_then(|i| args.get(i)) {
                    found.push((name.name.clone(), &a.value));
                }
            }
        });
        for (f, p) in found {
            let t = self.eval(p, &st.facts, 0);
            self.report(t, &Ctx::Aggregate(f));
        }
    }

    /// Truth of a predicate given the facts.
    fn eval(&self, e: &Expr, facts: &FactMap, depth: usize) -> Truth {
        if depth > MAX_DEPTH {
            return Truth::Unknown;
        }
        let e = unparen(e);
        match &e.kind {
            ExprKind::Binary {
                op: BinaryOp::And,
                left,
                right,
            } => {
                let l = self.eval(left, facts, depth + 1);
                if let Truth::Never(_) = l {
                    return l;
                }
                let mut f2 = facts.clone();
                self.learn(&mut f2, left, Source::Conjunct(left.span));
                let r = self.eval(right, &f2, depth + 1);
                match (l, r) {
                    (_, r @ Truth::Never(_)) => r,
                    (Truth::Always(_), r @ Truth::Always(_)) => r,
                    _ => Truth::Unknown,
                }
            }
            ExprKind::Binary {
                op: BinaryOp::Or,
                left,
                right,
            } => {
                let l = self.eval(left, facts, depth + 1);
                let r = self.eval(right, facts, depth + 1);
                match (l, r) {
                    (a @ Truth::Always(_), _) | (_, a @ Truth::Always(_)) => a,
                    (Truth::Never(mut a), Truth::Never(_)) => {
                        a.atom = e.span;
                        Truth::Never(a)
                    }
                    _ => Truth::Unknown,
                }
            }
            ExprKind::Call { name, args } if name.name == "not" && args.len() == 1 => {
                self.eval(&args[0].value, facts, depth + 1).flip()
            }
            _ => match self.atom(e) {
                Some(a) => match facts.get(&a.column) {
                    Some(f) => eval_atom(&a, f),
                    None => Truth::Unknown,
                },
                None => Truth::Unknown,
            },
        }
    }

    /// Adds what a predicate (known to be true) says about columns.
    fn learn(&self, facts: &mut FactMap, e: &Expr, source: Source) {
        let e = unparen(e);
        match &e.kind {
            ExprKind::Binary {
                op: BinaryOp::And,
                left,
                right,
            } => {
                self.learn(facts, left, source);
                self.learn(facts, right, source);
            }
            ExprKind::Binary {
                op: BinaryOp::Or, ..
            } => {
                // `c == "a" or c == "b"`: c in ("a", "b").
                let mut atoms = Vec::new();
                let mut stack = vec![e];
                while let Some(x) = stack.pop() {
                    match &unparen(x).kind {
                        ExprKind::Binary {
                            op: BinaryOp::Or,
                            left,
                            right,
                        } => {
                            stack.push(left);
                            stack.push(right);
                        }
                        _ => match self.atom(x) {
                            Some(a) => atoms.push(a),
                            None => return,
                        },
                    }
                }
                let Some(first) = atoms.first() else { return };
                let column = first.column.clone();
                let op = first.op;
                if !matches!(op, AtomOp::In { .. })
                    || atoms.iter().any(|a| a.column != column || a.op != op)
                {
                    return;
                }
                let values: Vec<Val> = atoms.into_iter().flat_map(|a| a.values).collect();
                let AtomOp::In { ci } = op else { return };
                restrict(facts.entry(column).or_default(), values, ci, source);
            }
            ExprKind::Call { name, args } if name.name == "not" && args.len() == 1 => {
                if let Some(a) = self.atom(&args[0].value) {
                    let f = facts.entry(a.column.clone()).or_default();
                    match a.op {
                        AtomOp::In { ci } => exclude(f, a.values, ci, source),
                        AtomOp::NotIn { ci } => restrict(f, a.values, ci, source),
                    }
                }
            }
            _ => {
                if let Some(a) = self.atom(e) {
                    let f = facts.entry(a.column.clone()).or_default();
                    match a.op {
                        AtomOp::In { ci } => restrict(f, a.values, ci, source),
                        AtomOp::NotIn { ci } => exclude(f, a.values, ci, source),
                    }
                }
            }
        }
    }

    fn report(&mut self, t: Truth, ctx: &Ctx) {
        let (never, r) = match t {
            Truth::Never(r) => (true, r),
            Truth::Always(r) => (false, r),
            Truth::Unknown => return,
        };
        let message = match (never, ctx) {
            (true, Ctx::Where) => {
                "`where` predicate is never true here, so it drops every row".to_string()
            }
            (true, Ctx::Aggregate(f)) if f == "countif" => {
                "`countif` predicate is never true here, so it always counts 0".to_string()
            }
            (true, Ctx::Aggregate(f)) => {
                format!("`{f}` predicate is never true here, so it never takes a row")
            }
            (true, Ctx::Condition(f)) => {
                format!("`{f}` condition is never true here, so it always takes the other branch")
            }
            (false, Ctx::Where) => {
                "`where` predicate is always true here, so it filters nothing".to_string()
            }
            (false, Ctx::Aggregate(f)) if f == "countif" => {
                "`countif` predicate is always true here, so it counts every row (like `count()`)"
                    .to_string()
            }
            (false, Ctx::Aggregate(f)) => {
                format!("`{f}` predicate is always true here, so it takes every row")
            }
            (false, Ctx::Condition(f)) => {
                format!("`{f}` condition is always true here, so it always takes the first branch")
            }
        };
        let code = if never { "QL0002" } else { "QL0003" };
        let label = match r.source {
            Source::Where(_) => format!("this `where` {}", r.fact),
            Source::Conjunct(_) => format!("this {}", r.fact),
        };
        let mut d = Diagnostic::warning(code, message, r.atom)
            .with_label(if never { "never true" } else { "always true" })
            .with_secondary(r.source.span(), label);
        // "LogonFailed" is an ActionType value, not a LogonType one.
        if never
            && let Some(Val::Str(s)) = r.values.first()
            && let Some(table) = self.table_of_column(&r.column)
        {
            let others = known::columns_with_value(&table, s);
            if let Some(o) = others.iter().find(|o| **o != r.column) {
                let atom_text = self.text(r.atom);
                let fixed = atom_text.replacen(r.column.as_str(), o, 1);
                d.help = Some(format!(
                    "\"{s}\" is a value of `{o}`, not `{}`: did you mean `{}`?",
                    r.column,
                    one_line(&fixed)
                ));
            }
        }
        self.diags.push(d);
    }

    /// Known tables that document values for `column` (for help texts).
    fn table_of_column(&self, column: &str) -> Option<String> {
        ["DeviceLogonEvents", "SecurityEvent"]
            .iter()
            .find(|t| known::known_values(t, column).is_some())
            .map(|t| t.to_string())
    }
}

/// Visits the sub-expressions of a scalar expression, not entering sub-queries.
fn walk_scalar<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e Expr)) {
    fn go<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e Expr), depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        f(e);
        if matches!(e.kind, ExprKind::Pipe { .. } | ExprKind::Union(_)) {
            return;
        }
        for c in crate::walk::children(e) {
            go(c, f, depth + 1);
        }
    }
    go(e, f, 0);
}

/// Kusto's name for an unnamed column expression (as the engine derives it); `None` when
/// it cannot be known statically.
fn derived_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(id) => Some(id.name.clone()),
        ExprKind::Paren(inner) => derived_name(inner),
        ExprKind::Member { object, name } => {
            Some(format!("{}_{}", derived_name(object)?, name.name))
        }
        ExprKind::Call { name, args } => {
            let first = args.first().and_then(|a| derived_name(&a.value));
            match name.name.as_str() {
                "bin" | "floor" | "bin_at" | "startofday" | "startofweek" | "startofmonth"
                | "startofyear" => first,
                "count" => Some("count_".into()),
                "countif" => Some("countif_".into()),
                "make_list" | "make_list_if" => Some(format!("list_{}", first.unwrap_or_default())),
                "make_set" | "make_set_if" => Some(format!("set_{}", first.unwrap_or_default())),
                "take_any" | "any" => Some(format!("any_{}", first?)),
                "dcount" | "dcountif" | "sum" | "sumif" | "avg" | "avgif" | "min" | "max"
                | "minif" | "maxif" | "stdev" | "variance" => {
                    Some(format!("{}_{}", name.name, first?))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Glob with `*` wildcards.
fn glob(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == name;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = name;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(k) => rest = &rest[k + p.len()..],
                None => return false,
            }
        }
    }
    true
}

/// `upper_variant("^(svc_|sa_)")` → `SVC_...`-like text for the label: the first literal
/// letters of the pattern upper-cased.
fn upper_variant(pattern: &str) -> String {
    let word: String = pattern
        .chars()
        .skip_while(|c| !c.is_alphabetic())
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if word.is_empty() {
        "an upper-case name".into()
    } else {
        let upper = word.to_uppercase();
        if upper == word {
            word.to_lowercase()
        } else {
            upper
        }
    }
}

/// Narrows a column to `values` (intersecting with what is known).
fn restrict(f: &mut Facts, values: Vec<Val>, ci: bool, source: Source) {
    let values: Vec<Val> = if ci {
        values.iter().map(Val::lower).collect()
    } else {
        values
    };
    let Some(first) = values.first() else { return };
    if values.iter().any(|v| !v.same_kind(first)) {
        return;
    }
    let new = match f.allowed.take() {
        None => Allowed { values, ci, source },
        Some(old) => {
            if old.values.first().is_some_and(|o| !o.same_kind(first)) {
                f.allowed = Some(old);
                return;
            }
            match (old.ci, ci) {
                (false, false) => Allowed {
                    values: old
                        .values
                        .into_iter()
                        .filter(|v| values.contains(v))
                        .collect(),
                    ci: false,
                    source,
                },
                (false, true) => Allowed {
                    values: old
                        .values
                        .into_iter()
                        .filter(|v| values.contains(&v.lower()))
                        .collect(),
                    ci: false,
                    source,
                },
                (true, false) => Allowed {
                    values: values
                        .into_iter()
                        .filter(|v| old.values.contains(&v.lower()))
                        .collect(),
                    ci: false,
                    source,
                },
                (true, true) => Allowed {
                    values: old
                        .values
                        .into_iter()
                        .filter(|v| values.contains(v))
                        .collect(),
                    ci: true,
                    source,
                },
            }
        }
    };
    f.allowed = Some(new);
}

fn exclude(f: &mut Facts, values: Vec<Val>, ci: bool, source: Source) {
    for v in values {
        f.excluded.push(Excluded {
            value: v,
            ci,
            source,
        });
    }
}

/// Truth of `column in/!in values` given the column's facts.
fn eval_atom(a: &Atom, f: &Facts) -> Truth {
    let (ci, negated) = match a.op {
        AtomOp::In { ci } => (ci, false),
        AtomOp::NotIn { ci } => (ci, true),
    };
    let t = eval_in(a, &a.values, ci, f);
    if negated { t.flip() } else { t }
}

fn eval_in(a: &Atom, values: &[Val], ci: bool, f: &Facts) -> Truth {
    let Some(first) = values.first() else {
        return Truth::Unknown;
    };
    if values.iter().any(|v| !v.same_kind(first)) {
        return Truth::Unknown;
    }
    let reason = |source: Source, fact: String| Reason {
        atom: a.span,
        column: a.column.clone(),
        values: a.values.clone(),
        source,
        fact,
    };
    if let Some(al) = &f.allowed
        && al.values.first().is_none_or(|v| v.same_kind(first))
    {
        let cmp_ci = ci || al.ci;
        let any_match = al
            .values
            .iter()
            .any(|x| values.iter().any(|v| x.matches(v, cmp_ci)));
        let fact = format!(
            "limits `{}` to {}{}",
            a.column,
            show_list(&al.values),
            if al.ci { " (ignoring case)" } else { "" }
        );
        if !any_match {
            return Truth::Never(reason(al.source, fact));
        }
        // Always: every allowed value matches (decidable unless the facts ignore case and
        // the test does not).
        if (!al.ci || ci)
            && al
                .values
                .iter()
                .all(|x| values.iter().any(|v| x.matches(v, cmp_ci)))
        {
            return Truth::Always(reason(al.source, fact));
        }
    }
    // Every tested value already excluded.
    let excluded_all = values.iter().all(|v| {
        f.excluded
            .iter()
            .any(|x| x.value.same_kind(v) && x.value.matches(v, x.ci || ci) && (x.ci || !ci))
    });
    if excluded_all
        && let Some(x) = f
            .excluded
            .iter()
            .find(|x| values.iter().any(|v| x.value.matches(v, true)))
    {
        return Truth::Never(reason(
            x.source,
            format!("excludes {} from `{}`", show_list(values), a.column),
        ));
    }
    Truth::Unknown
}
