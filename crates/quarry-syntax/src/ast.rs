//! The KQL abstract syntax tree.
//!
//! Every node carries the byte [`Span`] of the source text it came from, so that later stages
//! (semantics, planning, lint) can put a caret under the exact text they complain about.
//!
//! Tabular and scalar expressions share one [`Expr`] type: KQL lets both appear in the same
//! positions (`let x = T | where ...;`, `x in (T | project a)`, `toscalar(T | count)`), and only
//! name resolution can tell a table name from a scalar name. The pipe (`|`) is the
//! lowest-precedence binary form, [`ExprKind::Pipe`].
//!
//! # Added since v1
//!
//! Only additions; nothing existing was renamed or changed.
//!
//! * [`Script::declarations`] (field): `declare query_parameters(...)` statements
//!   ([`DeclareQueryParameters`]). Kept out of [`Statement`] so exhaustive matches on it still
//!   compile.
//! * [`ExprKind`] sources: [`ExprKind::ExternalData`], [`ExprKind::Evaluate`],
//!   [`ExprKind::Search`], [`ExprKind::Find`].
//! * [`PipeOpKind`] operators: [`PipeOpKind::MvExpand`], [`PipeOpKind::Render`],
//!   [`PipeOpKind::Parse`], [`PipeOpKind::ParseWhere`], [`PipeOpKind::ParseKv`],
//!   [`PipeOpKind::MakeSeries`], [`PipeOpKind::Evaluate`], [`PipeOpKind::Invoke`],
//!   [`PipeOpKind::MvApply`], [`PipeOpKind::Lookup`], [`PipeOpKind::Search`],
//!   [`PipeOpKind::TopNested`], [`PipeOpKind::Sample`], [`PipeOpKind::SampleDistinct`],
//!   [`PipeOpKind::Facet`], [`PipeOpKind::Partition`], [`PipeOpKind::Fork`],
//!   [`PipeOpKind::Scan`], [`PipeOpKind::Reduce`], [`PipeOpKind::TopHitters`].
//! * Expression forms inside existing nodes: [`ExprKind::Star`] as the left operand of a string
//!   operator (`* has "x"`: any column), and in a `search`/`find` predicate a bare string
//!   literal in boolean position (`search "x" and Col == 1`: any column has the term).
//! * New types: [`Subquery`], [`MvExpand`], [`MvExpandItem`], [`MvApply`], [`Render`],
//!   [`RenderProperty`], [`ParseSpec`], [`ParsePart`], [`ParseKv`], [`MakeSeries`],
//!   [`MakeSeriesAggregate`], [`EvaluateSpec`], [`OutputSchema`], [`SearchSpec`], [`FindSpec`], [`FindProject`],
//!   [`FindColumn`], [`ExternalDataSpec`], [`TopNestedLevel`], [`Partition`],
//!   [`PartitionBody`], [`ForkBranch`], [`Scan`], [`ScanStep`], [`DeclareQueryParameters`].
//! * Helpers: [`Expr::children`], [`Expr::children_mut`], [`PipeOpKind::children`],
//!   [`PipeOpKind::children_mut`] list the direct sub-expressions of every variant (use them in
//!   generic walkers instead of an exhaustive match).

use crate::span::Span;

/// An identifier as written, with bracket quoting (`['My Col']`) already removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A whole query text: statements separated by `;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub statements: Vec<Statement>,
    /// Indices into `statements` where a new query block begins: a query statement followed,
    /// without `;`, by a blank line and more text. Kusto's query editors (Azure Data Explorer
    /// web UI, Kusto.Explorer, Log Analytics) treat blank-line separated blocks of one text as
    /// separate queries; hunting-query files rely on it. Quarry accepts such a text as the
    /// sequence of its blocks, each planned on its own (its `let`s do not reach later blocks).
    /// Empty for texts that use `;` only.
    pub block_starts: Vec<usize>,
    /// `declare query_parameters(...)` statements, in source order (normally one, first).
    pub declarations: Vec<DeclareQueryParameters>,
}

/// `declare query_parameters(name: type [= default], ...);` — the parameters a query expects
/// from its caller. Each parameter's name is then in scope like a `let` with its default.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclareQueryParameters {
    /// Only scalar types are valid here; [`ParamType::Tabular`] never appears.
    pub params: Vec<Param>,
    /// From `declare` to the `)` (excluding the `;`).
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Let(LetStatement),
    /// A tabular (or bare scalar) expression whose result is returned.
    Query(Expr),
    /// `set name = value;` / `set name;` — accepted and recorded; they tune the service, not results.
    Set {
        name: Ident,
        value: Option<Expr>,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct LetStatement {
    pub name: Ident,
    pub value: LetValue,
    /// From `let` to the end of the value (excluding the `;`).
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LetValue {
    /// `let x = <expr>;` — scalar or tabular, decided by semantics.
    Expr(Expr),
    /// `let f = (a: string, b: long = 5) { ... };`
    Function(FunctionDef),
    /// `let v = view () { ... };`
    View(FunctionDef),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDef {
    pub params: Vec<Param>,
    /// Local `let` statements inside the body, then the result expression.
    pub body_lets: Vec<LetStatement>,
    pub body: Box<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: ParamType,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    Scalar(TypeName),
    /// `T: (*)` or `T: (a: string, b: long)`; `None` columns means `(*)`.
    Tabular(Option<Vec<ColumnDecl>>),
}

/// A scalar type name as written in KQL (`string`, `long`, `datetime`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarType {
    Bool,
    Int,
    Long,
    Real,
    Decimal,
    String,
    DateTime,
    TimeSpan,
    Guid,
    Dynamic,
}

impl ScalarType {
    /// Parses a KQL type name, including the documented synonyms (`boolean`, `double`, `date`, `time`, `uuid`...).
    pub fn from_name(name: &str) -> Option<ScalarType> {
        Some(match name {
            "bool" | "boolean" => ScalarType::Bool,
            "int" | "int32" => ScalarType::Int,
            "long" | "int64" => ScalarType::Long,
            "real" | "double" => ScalarType::Real,
            "decimal" => ScalarType::Decimal,
            "string" => ScalarType::String,
            "datetime" | "date" => ScalarType::DateTime,
            "timespan" | "time" => ScalarType::TimeSpan,
            "guid" | "uuid" | "uniqueid" => ScalarType::Guid,
            "dynamic" => ScalarType::Dynamic,
            _ => return None,
        })
    }

    /// The canonical KQL name, as `getschema` and result headers print it.
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::Bool => "bool",
            ScalarType::Int => "int",
            ScalarType::Long => "long",
            ScalarType::Real => "real",
            ScalarType::Decimal => "decimal",
            ScalarType::String => "string",
            ScalarType::DateTime => "datetime",
            ScalarType::TimeSpan => "timespan",
            ScalarType::Guid => "guid",
            ScalarType::Dynamic => "dynamic",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeName {
    pub ty: ScalarType,
    pub span: Span,
}

/// `name: type` in `datatable(...)`, tabular parameters, `parse` captures.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDecl {
    pub name: Ident,
    pub ty: TypeName,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// A column, a `let` name, or a table name; resolved by semantics.
    Name(Ident),
    /// `*` where an argument list allows it (`arg_max(T, *)`, `count(*)` is not KQL but `*` is kept for diagnostics).
    Star,
    /// `-x`, `+x`.
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `x in (a, b)`, `x !in (...)`, `x in~ (...)`, `x !in~ (...)`. Elements may be scalars,
    /// dynamic arrays (flattened) or one tabular expression (its first column).
    In {
        operand: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
        case_insensitive: bool,
    },
    /// `x has_any (...)`, `x has_all (...)`.
    HasAnyAll {
        operand: Box<Expr>,
        list: Vec<Expr>,
        all: bool,
    },
    /// `x between (low .. high)`, `x !between (low .. high)`.
    Between {
        operand: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    /// `f(a, name = b)`. Aggregates, scalar functions and user functions alike.
    Call {
        name: Ident,
        args: Vec<Arg>,
    },
    /// `x.name` (also `$left.name`, `$right.name`).
    Member {
        object: Box<Expr>,
        name: Ident,
    },
    /// `x["key"]`, `x[0]`, `x[-1]`.
    Index {
        object: Box<Expr>,
        index: Box<Expr>,
    },
    /// `typeof(string)`.
    TypeOf(TypeName),
    /// A parenthesised expression, kept so spans and tuple-like forms stay faithful.
    Paren(Box<Expr>),
    /// `input | operator`.
    Pipe {
        input: Box<Expr>,
        op: Box<PipeOp>,
    },
    /// Tabular sources that are not plain names.
    Print(Vec<NamedExpr>),
    /// `range x from a to b step s`.
    Range {
        column: Ident,
        from: Box<Expr>,
        to: Box<Expr>,
        step: Box<Expr>,
    },
    /// `datatable(a: long, b: string) [1, "x", 2, "y"]` — values row-major.
    Datatable {
        columns: Vec<ColumnDecl>,
        values: Vec<Expr>,
    },
    /// `union T1, T2` at the start of a pipeline (the operator form is [`PipeOpKind::Union`]).
    Union(UnionSpec),
    /// `externaldata (a: string, ...) ["uri", ...] [with (format = "csv", ...)]`.
    ExternalData(Box<ExternalDataSpec>),
    /// `evaluate plugin(args)` at the start of a pipeline (a source plugin such as
    /// `evaluate sql_request(...)`); the operator form is [`PipeOpKind::Evaluate`].
    Evaluate(Box<EvaluateSpec>),
    /// `search [kind=...] [in (T1, T2)] predicate` at the start of a pipeline (the operator form
    /// is [`PipeOpKind::Search`]). Without `in (...)` it searches every table in scope.
    Search(Box<SearchSpec>),
    /// `find [withsource=C] [in (T1, T2)] where predicate [project ...]`.
    Find(Box<FindSpec>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=~` (case-insensitive equality).
    EqTilde,
    /// `!~`.
    NotEqTilde,
    And,
    Or,
    /// `matches regex`.
    MatchesRegex,
    /// `has`, `!contains_cs`, `startswith`, ... See [`StringOp`].
    Str(StringOp),
}

/// A string predicate operator: which test, whether negated (`!has`), whether case-sensitive (`_cs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringOp {
    pub kind: StringOpKind,
    pub negated: bool,
    pub case_sensitive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringOpKind {
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
}

impl StringOp {
    /// The operator's spelling, e.g. `!hasprefix_cs`.
    pub fn spelling(&self) -> String {
        let base = match self.kind {
            StringOpKind::Has => "has",
            StringOpKind::HasPrefix => "hasprefix",
            StringOpKind::HasSuffix => "hassuffix",
            StringOpKind::Contains => "contains",
            StringOpKind::StartsWith => "startswith",
            StringOpKind::EndsWith => "endswith",
        };
        format!(
            "{}{}{}",
            if self.negated { "!" } else { "" },
            base,
            if self.case_sensitive { "_cs" } else { "" }
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// `name = value` arguments (e.g. `bag_pack(...)` does not use them, `parse_csv` does not, but user functions may).
    pub name: Option<Ident>,
    pub value: Expr,
}

/// `[name =] expr` or `(a, b) = expr` in `extend`, `project`, `summarize`, `print`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedExpr {
    /// Empty when no name was given (the name is then derived from the expression).
    pub names: Vec<Ident>,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `true`, `false`, `bool(null)`.
    Bool(Option<bool>),
    /// `int(5)`, `int(null)`.
    Int(Option<i32>),
    /// `5`, `long(null)`, `0x1F`.
    Long(Option<i64>),
    /// `1.5`, `1e3`, `real(null)`, `real(nan)`, `real(+inf)`.
    Real(Option<f64>),
    /// `decimal(1.5)` — kept as text; the engine maps decimal to real for now.
    Decimal(Option<String>),
    /// Any string literal form, already unescaped.
    String(String),
    /// `datetime(2024-01-01 10:00)` — the text between the parentheses, parsed by semantics;
    /// `None` for `datetime(null)`.
    DateTime(Option<String>),
    /// `1h`, `time(1.02:03:04)`, `timespan(null)` — value in 100 ns ticks.
    TimeSpan(Option<i64>),
    /// `guid(...)` text, `None` for `guid(null)`.
    Guid(Option<String>),
    /// `dynamic(...)`.
    Dynamic(DynamicLiteral),
}

/// The constant inside `dynamic(...)`.
#[derive(Debug, Clone, PartialEq)]
pub enum DynamicLiteral {
    Null,
    Bool(bool),
    Long(i64),
    Real(f64),
    String(String),
    /// Raw text of a `datetime(...)` inside a dynamic literal.
    DateTime(String),
    /// Ticks of a timespan inside a dynamic literal.
    TimeSpan(i64),
    Array(Vec<DynamicLiteral>),
    /// Keys in source order.
    Object(Vec<(String, DynamicLiteral)>),
}

/// An operator after `|`.
#[derive(Debug, Clone, PartialEq)]
pub struct PipeOp {
    pub kind: PipeOpKind,
    /// From the operator keyword to the end of the operator (excluding the next `|`).
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PipeOpKind {
    /// `where` / `filter`.
    Where(Expr),
    Extend(Vec<NamedExpr>),
    Project(Vec<NamedExpr>),
    ProjectAway(Vec<ColumnPattern>),
    ProjectKeep(Vec<ColumnPattern>),
    /// `project-rename new = old, ...`.
    ProjectRename(Vec<(Ident, Ident)>),
    ProjectReorder(Vec<(ColumnPattern, Option<SortDirection>)>),
    Summarize {
        params: Vec<OpParam>,
        aggregates: Vec<NamedExpr>,
        by: Vec<NamedExpr>,
    },
    /// `order by` / `sort by`.
    Sort(Vec<SortKey>),
    /// `take` / `limit`.
    Take(Expr),
    /// `top N by expr [asc|desc] [nulls first|last]`.
    Top {
        count: Expr,
        key: SortKey,
    },
    /// `distinct *` is an empty list with `all = true`.
    Distinct {
        columns: Vec<Expr>,
        all: bool,
    },
    Count,
    Union(UnionSpec),
    Join {
        params: Vec<OpParam>,
        right: Expr,
        on: Vec<JoinCondition>,
    },
    /// `as Name`.
    As(Ident),
    /// `getschema`.
    GetSchema,
    /// `serialize [name = expr, ...]`.
    Serialize(Vec<NamedExpr>),
    /// `mv-expand` / `mvexpand`.
    MvExpand(MvExpand),
    /// `render chart [with (prop = value, ...)]`: a presentation hint; results are unchanged.
    Render(Render),
    /// `parse [kind=simple|regex|relaxed [flags=...]] expr with pattern`: extends the input with
    /// the captured columns (null / empty when the text does not match).
    Parse(ParseSpec),
    /// `parse-where ...`: same grammar as `parse`, but rows that do not match are dropped.
    ParseWhere(ParseSpec),
    /// `parse-kv expr as (k: type, ...) [with (pair_delimiter = ..., ...)]`.
    ParseKv(ParseKv),
    /// `make-series ...`.
    MakeSeries(MakeSeries),
    /// `evaluate [hint.x = ...] plugin(args)`, e.g. `bag_unpack(col, 'prefix_')`, `pivot(k, any(v))`.
    Evaluate(EvaluateSpec),
    /// `invoke f(args)`: calls the tabular function `f` with the pipe input as its first
    /// (tabular) argument. Always an [`ExprKind::Call`].
    Invoke(Expr),
    /// `mv-apply items... on (subquery)`.
    MvApply(MvApply),
    /// `lookup [kind=leftouter|inner] right on keys`: like `join` (same `on` grammar), right
    /// side is the small dimension table; default kind is `leftouter`.
    Lookup {
        params: Vec<OpParam>,
        right: Expr,
        on: Vec<JoinCondition>,
    },
    /// `search [kind=...] predicate` after `|`: filters the input (see [`SearchSpec`]).
    Search(SearchSpec),
    /// `top-nested N of a by agg, top-nested M of b by agg2, ...`: one entry per level.
    TopNested(Vec<TopNestedLevel>),
    /// `sample N`: N arbitrary rows.
    Sample(Expr),
    /// `sample-distinct N of column`.
    SampleDistinct {
        params: Vec<OpParam>,
        count: Expr,
        column: Expr,
    },
    /// `facet by c1, c2 [with (subquery)]`: one result table per column (plus the `with`
    /// subquery's table, first).
    Facet {
        columns: Vec<Ident>,
        with: Option<Subquery>,
    },
    /// `partition [hint.x = ...] by column (subquery)` or `{ query }`.
    Partition(Partition),
    /// `fork [name =] (subquery) ...`: several results from one input.
    Fork(Vec<ForkBranch>),
    /// `scan [with_match_id = Id] [declare (...)] with (step ...; ...)`.
    Scan(Scan),
    /// `reduce [kind = source] by expr [with threshold = t, characters = "..."]`.
    Reduce {
        params: Vec<OpParam>,
        by: Expr,
        /// `threshold`, `characters`.
        with: Vec<OpParam>,
    },
    /// `top-hitters N of expr [by summed_expr]`: approximate top values.
    TopHitters {
        count: Expr,
        of: Expr,
        by: Option<Expr>,
    },
    /// `project-by-names name-or-pattern-or-array, ...`: each argument is a constant string
    /// (a column name or a `*` wildcard pattern) or a constant dynamic array of them.
    ProjectByNames(Vec<Expr>),
}

/// A pipeline with an implicit input: the operators of `mv-apply ... on ( ops )`,
/// `partition by c ( ops )`, `fork ( ops )` and `facet ... with ( ops )`, written without a
/// source (the first operator has no leading `|`). The input is the operator's current subtable.
#[derive(Debug, Clone, PartialEq)]
pub struct Subquery {
    /// In order, first applied first. Never empty.
    pub ops: Vec<PipeOp>,
    /// From the `(` to the `)` inclusive.
    pub span: Span,
}

/// `mv-expand [bagexpansion=bag|array] [with_itemindex=I] [kind=...] item, ... [limit N]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MvExpand {
    /// `bagexpansion`, `with_itemindex` (value: the index column's [`ExprKind::Name`]), `kind`,
    /// `hint.*`, in source order.
    pub params: Vec<OpParam>,
    /// At least one.
    pub items: Vec<MvExpandItem>,
    /// `limit N`: at most N rows per input row.
    pub limit: Option<Expr>,
}

/// One expanded expression: `[name =] expr [to typeof(T)]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MvExpandItem {
    /// The output column. When `None`, a column reference keeps its name (the column is
    /// replaced by its expanded values); other expressions get a derived name, as in `extend`.
    pub name: Option<Ident>,
    pub expr: Expr,
    /// `to typeof(T)`: elements are converted to `T` (non-convertible ones become null);
    /// `None` means `dynamic`.
    pub to_type: Option<TypeName>,
    pub span: Span,
}

/// `mv-apply [with_itemindex=I] item, ... [limit N] on (subquery)`.
#[derive(Debug, Clone, PartialEq)]
pub struct MvApply {
    /// `with_itemindex`, `hint.*`, ...
    pub params: Vec<OpParam>,
    pub items: Vec<MvExpandItem>,
    pub limit: Option<Expr>,
    /// Runs once per input row on that row's expanded subtable; the results are unioned.
    pub subquery: Subquery,
}

/// `render chart [with (prop = value, ...)]`. Also accepts the legacy form without `with`
/// (`render timechart title = "x"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Render {
    /// `timechart`, `columnchart`, `piechart`, `table`, ... as written.
    pub chart: Ident,
    pub properties: Vec<RenderProperty>,
}

/// `name = value` in `render ... with (...)`; list-valued properties (`ycolumns = a, b`) have
/// several values.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderProperty {
    pub name: Ident,
    /// At least one. Bare words (`kind = stacked`, `xcolumn = Timestamp`) are [`ExprKind::Name`].
    pub values: Vec<Expr>,
}

/// `parse` / `parse-where`: `[kind=simple|regex|relaxed [flags=...]] source with parts...`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseSpec {
    /// `kind` (default `simple`), `flags` (regex flags such as `U`, `i`, `m`, `s`; only with
    /// `kind=regex`), values as [`ExprKind::Name`]. `hint.*` too.
    pub params: Vec<OpParam>,
    /// The text to parse (usually a column; any string expression).
    pub source: Expr,
    /// The pattern after `with`, in order. With `kind=regex`, [`ParsePart::Literal`]s are
    /// regular expressions.
    pub parts: Vec<ParsePart>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParsePart {
    /// `*`: skip any text.
    Wildcard(Span),
    /// A string literal that must match as written (a regex with `kind=regex`).
    Literal { value: String, span: Span },
    /// `Name` or `Name: type` (default `string`): a captured column.
    Column { name: Ident, ty: Option<TypeName> },
}

/// `parse-kv expr as (key: type, ...) [with (pair_delimiter = ',', kv_delimiter = '=', ...)]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseKv {
    pub source: Expr,
    /// The keys to extract, each becoming a column of that type.
    pub keys: Vec<ColumnDecl>,
    /// `pair_delimiter`, `kv_delimiter`, `quote`, `escape`, `greedy`, `regex`, ...
    pub properties: Vec<OpParam>,
}

/// `make-series [kind=nonempty] agg [default = v], ... on axis [from a] [to b] step s [by ...]`
/// or the older `... on axis in range(a, b, s) [by ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MakeSeries {
    /// `kind` (`nonempty`), `hint.*`.
    pub params: Vec<OpParam>,
    pub aggregates: Vec<MakeSeriesAggregate>,
    /// The axis column (usually a datetime).
    pub axis: Expr,
    pub from: Option<Expr>,
    pub to: Option<Expr>,
    pub step: Expr,
    /// True for the `in range(start, stop, step)` form, where `stop` is inclusive and both
    /// bounds are required; `from`/`to` are then always `Some`.
    pub range_syntax: bool,
    pub by: Vec<NamedExpr>,
}

/// `[name =] aggregate [default = value]` in `make-series`.
#[derive(Debug, Clone, PartialEq)]
pub struct MakeSeriesAggregate {
    pub agg: NamedExpr,
    /// Fill value for empty bins (default: 0 / the type's default).
    pub default: Option<Expr>,
}

/// `evaluate [hint.x = ...] plugin(args)`.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateSpec {
    /// `hint.distribution`, `hint.remote`, ...
    pub params: Vec<OpParam>,
    pub plugin: Ident,
    /// As in a call; named arguments (`columnsConflict = 'replace_source'`) keep their names.
    pub args: Vec<Arg>,
    /// `evaluate pivot(k) : (a: string, b: long)`: the declared output schema.
    pub output_schema: Option<OutputSchema>,
}

/// `: (*, name: type, ...)` after a plugin call: the plugin's output columns.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSchema {
    /// True when `*` (the input's columns) is listed first.
    pub star: bool,
    pub columns: Vec<ColumnDecl>,
    pub span: Span,
}

/// `search [kind=case_sensitive|case_insensitive] [in (T1, T2*)] predicate`.
///
/// The predicate is an ordinary expression plus search forms: a bare string literal in boolean
/// position (`"x"`, `"x" and "y"`) means "some column has the term" (`*` inside the literal is a
/// wildcard); `* has "x"` means any column; `Col: "x"` is parsed as `Col has "x"`; a predicate
/// of just `*` ([`ExprKind::Star`]) matches every row.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSpec {
    /// `kind`, `hint.*`.
    pub params: Vec<OpParam>,
    /// `in (...)` tables (names may contain `*`); empty when not written.
    pub tables: Vec<Expr>,
    pub predicate: Expr,
}

/// `find [withsource=C] [in (T1, T2)] where predicate [project-smart | project c[: type], ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FindSpec {
    /// `withsource`, `hint.*`, ...
    pub params: Vec<OpParam>,
    /// Empty when `in (...)` is not written (all tables).
    pub tables: Vec<Expr>,
    /// Same extensions as [`SearchSpec::predicate`].
    pub predicate: Expr,
    pub project: Option<FindProject>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FindProject {
    /// `project-smart`.
    Smart,
    /// `project c1, c2: type, pack_all()`.
    Columns(Vec<FindColumn>),
}

/// One `project` entry of `find`: a column (optionally typed) or `pack_all()`.
#[derive(Debug, Clone, PartialEq)]
pub struct FindColumn {
    /// [`ExprKind::Name`] or the call `pack_all()`.
    pub expr: Expr,
    pub ty: Option<TypeName>,
}

/// `externaldata (col: type, ...) [uri, ...] [with (prop = value, ...)]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalDataSpec {
    pub columns: Vec<ColumnDecl>,
    /// Storage URIs (string literals in practice, including `h@"..."`).
    pub uris: Vec<Expr>,
    /// `format`, `ignoreFirstRecord`, ... Bare words are [`ExprKind::Name`].
    pub properties: Vec<OpParam>,
}

/// One level of `top-nested [N] of [name =] expr [with others = v] by [name =] agg [asc|desc]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TopNestedLevel {
    /// `None` when omitted: all values.
    pub count: Option<Expr>,
    pub of: NamedExpr,
    /// `with others = v`: one extra row aggregating the rest, with this value in the `of` column.
    pub others: Option<Expr>,
    pub by: NamedExpr,
    /// `None` when not written (default: descending).
    pub direction: Option<SortDirection>,
    pub span: Span,
}

/// `partition [hint.strategy = ...] by column body`.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    pub params: Vec<OpParam>,
    pub by: Ident,
    pub body: PartitionBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PartitionBody {
    /// `( ops )`: applied to each partition.
    Subquery(Subquery),
    /// `{ query }`: a full query run per partition (legacy form).
    Query(Expr),
}

/// `[name =] (subquery)` in `fork`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForkBranch {
    pub name: Option<Ident>,
    pub query: Subquery,
}

/// `scan [with_match_id = Id] [declare (c: type [= default], ...)] with (step ...; ...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// `with_match_id` (value: the column's [`ExprKind::Name`]).
    pub params: Vec<OpParam>,
    /// Declared state columns (always [`ParamType::Scalar`]).
    pub declare: Vec<Param>,
    pub steps: Vec<ScanStep>,
}

/// `step Name [output = all|last|none]: condition [=> col = expr, ...];`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanStep {
    pub name: Ident,
    /// `all` (default), `last` or `none`, as written.
    pub output: Option<Ident>,
    pub condition: Expr,
    pub assignments: Vec<(Ident, Expr)>,
    pub span: Span,
}

/// `name=value` operator parameters: `kind=inner`, `hint.strategy=shuffle`, `withsource=T`, `isfuzzy=true`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpParam {
    /// Dotted names joined with `.` (`hint.strategy`).
    pub name: Ident,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnionSpec {
    pub params: Vec<OpParam>,
    /// Table expressions; a bare name may contain `*` wildcards (kept as [`ExprKind::Name`]).
    pub tables: Vec<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JoinCondition {
    /// `on Col` — same column name on both sides.
    Column(Ident),
    /// `on $left.a == $right.b` (either order).
    Equal { left: Expr, right: Expr },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    /// `None` when not written; KQL's default for `sort`/`order`/`top` is descending.
    pub direction: Option<SortDirection>,
    /// `None` when not written: nulls last for `desc`, first for `asc` (Kusto defaults).
    pub nulls_first: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    Asc,
    Desc,
}

/// A column name that may contain `*` wildcards (`project-away Initiating*`).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPattern {
    pub pattern: String,
    pub span: Span,
}

impl ColumnPattern {
    pub fn is_wildcard(&self) -> bool {
        self.pattern.contains('*')
    }
}

// ----- generic traversal ------------------------------------------------------------------------

/// Generates the shared/mutable child-listing functions from one body (`$m` is empty or `mut`).
macro_rules! child_visitors {
    ($expr_fn:ident, $op_fn:ident, $($m:ident)?) => {
        fn $expr_fn<'a>(e: &'a $($m)? Expr, out: &mut Vec<&'a $($m)? Expr>) {
            match &$($m)? e.kind {
                ExprKind::Literal(_) | ExprKind::Name(_) | ExprKind::Star | ExprKind::TypeOf(_) => {}
                ExprKind::Unary { operand, .. } => out.push(operand),
                ExprKind::Binary { left, right, .. } => {
                    out.push(left);
                    out.push(right);
                }
                ExprKind::In { operand, list, .. } | ExprKind::HasAnyAll { operand, list, .. } => {
                    out.push(operand);
                    out.extend(list);
                }
                ExprKind::Between {
                    operand, low, high, ..
                } => {
                    out.push(operand);
                    out.push(low);
                    out.push(high);
                }
                ExprKind::Call { args, .. } => out.extend(args.into_iter().map(|a| &$($m)? a.value)),
                ExprKind::Member { object, .. } => out.push(object),
                ExprKind::Index { object, index } => {
                    out.push(object);
                    out.push(index);
                }
                ExprKind::Paren(inner) => out.push(inner),
                ExprKind::Pipe { input, op } => {
                    out.push(input);
                    $op_fn(&$($m)? op.kind, out);
                }
                ExprKind::Print(items) => out.extend(items.into_iter().map(|n| &$($m)? n.expr)),
                ExprKind::Range { from, to, step, .. } => {
                    out.push(from);
                    out.push(to);
                    out.push(step);
                }
                ExprKind::Datatable { values, .. } => out.extend(values),
                ExprKind::Union(spec) => {
                    out.extend((&$($m)? spec.params).into_iter().map(|p| &$($m)? p.value));
                    out.extend(&$($m)? spec.tables);
                }
                ExprKind::ExternalData(x) => {
                    out.extend(&$($m)? x.uris);
                    out.extend((&$($m)? x.properties).into_iter().map(|p| &$($m)? p.value));
                }
                ExprKind::Evaluate(x) => {
                    out.extend((&$($m)? x.params).into_iter().map(|p| &$($m)? p.value));
                    out.extend((&$($m)? x.args).into_iter().map(|a| &$($m)? a.value));
                }
                ExprKind::Search(x) => {
                    out.extend((&$($m)? x.params).into_iter().map(|p| &$($m)? p.value));
                    out.extend(&$($m)? x.tables);
                    out.push(&$($m)? x.predicate);
                }
                ExprKind::Find(x) => {
                    out.extend((&$($m)? x.params).into_iter().map(|p| &$($m)? p.value));
                    out.extend(&$($m)? x.tables);
                    out.push(&$($m)? x.predicate);
                    if let Some(FindProject::Columns(cols)) = &$($m)? x.project {
                        out.extend(cols.into_iter().map(|c| &$($m)? c.expr));
                    }
                }
            }
        }

        fn $op_fn<'a>(op: &'a $($m)? PipeOpKind, out: &mut Vec<&'a $($m)? Expr>) {
            match op {
                PipeOpKind::Where(x) | PipeOpKind::Take(x) | PipeOpKind::Sample(x) => out.push(x),
                PipeOpKind::Invoke(x) => out.push(x),
                PipeOpKind::Extend(items)
                | PipeOpKind::Project(items)
                | PipeOpKind::Serialize(items) => out.extend(items.into_iter().map(|n| &$($m)? n.expr)),
                PipeOpKind::Summarize {
                    params,
                    aggregates,
                    by,
                } => {
                    out.extend(params.into_iter().map(|p| &$($m)? p.value));
                    out.extend(aggregates.into_iter().map(|n| &$($m)? n.expr));
                    out.extend(by.into_iter().map(|n| &$($m)? n.expr));
                }
                PipeOpKind::Sort(keys) => out.extend(keys.into_iter().map(|k| &$($m)? k.expr)),
                PipeOpKind::Top { count, key } => {
                    out.push(count);
                    out.push(&$($m)? key.expr);
                }
                PipeOpKind::Distinct { columns, .. } => out.extend(columns),
                PipeOpKind::Union(spec) => {
                    out.extend((&$($m)? spec.params).into_iter().map(|p| &$($m)? p.value));
                    out.extend(&$($m)? spec.tables);
                }
                PipeOpKind::Join { params, right, on } | PipeOpKind::Lookup { params, right, on } => {
                    out.extend(params.into_iter().map(|p| &$($m)? p.value));
                    out.push(right);
                    for c in on {
                        if let JoinCondition::Equal { left, right } = c {
                            out.push(left);
                            out.push(right);
                        }
                    }
                }
                PipeOpKind::ProjectAway(_)
                | PipeOpKind::ProjectKeep(_)
                | PipeOpKind::ProjectRename(_)
                | PipeOpKind::ProjectReorder(_)
                | PipeOpKind::Count
                | PipeOpKind::As(_)
                | PipeOpKind::GetSchema => {}
                PipeOpKind::MvExpand(x) => {
                    out.extend((&$($m)? x.params).into_iter().map(|p| &$($m)? p.value));
                    out.extend((&$($m)? x.items).into_iter().map(|i| &$($m)? i.expr));
                    out.extend(&$($m)? x.limit);
                }
                PipeOpKind::MvApply(x) => {
                    out.extend((&$($m)? x.params).into_iter().map(|p| &$($m)? p.value));
                    out.extend((&$($m)? x.items).into_iter().map(|i| &$($m)? i.expr));
                    out.extend(&$($m)? x.limit);
                    for o in &$($m)? x.subquery.ops {
                        $op_fn(&$($m)? o.kind, out);
                    }
                }
                PipeOpKind::Render(x) => {
                    for p in &$($m)? x.properties {
                        out.extend(&$($m)? p.values);
                    }
                }
                PipeOpKind::Parse(x) | PipeOpKind::ParseWhere(x) => {
                    out.extend((&$($m)? x.params).into_iter().map(|p| &$($m)? p.value));
                    out.push(&$($m)? x.source);
                }
                PipeOpKind::ParseKv(x) => {
                    out.push(&$($m)? x.source);
                    out.extend((&$($m)? x.properties).into_iter().map(|p| &$($m)? p.value));
                }
                PipeOpKind::MakeSeries(x) => {
                    out.extend((&$($m)? x.params).into_iter().map(|p| &$($m)? p.value));
                    for a in &$($m)? x.aggregates {
                        out.push(&$($m)? a.agg.expr);
                        out.extend(&$($m)? a.default);
                    }
                    out.push(&$($m)? x.axis);
                    out.extend(&$($m)? x.from);
                    out.extend(&$($m)? x.to);
                    out.push(&$($m)? x.step);
                    out.extend((&$($m)? x.by).into_iter().map(|n| &$($m)? n.expr));
                }
                PipeOpKind::Evaluate(x) => {
                    out.extend((&$($m)? x.params).into_iter().map(|p| &$($m)? p.value));
                    out.extend((&$($m)? x.args).into_iter().map(|a| &$($m)? a.value));
                }
                PipeOpKind::Search(x) => {
                    out.extend((&$($m)? x.params).into_iter().map(|p| &$($m)? p.value));
                    out.extend(&$($m)? x.tables);
                    out.push(&$($m)? x.predicate);
                }
                PipeOpKind::TopNested(levels) => {
                    for l in levels {
                        out.extend(&$($m)? l.count);
                        out.push(&$($m)? l.of.expr);
                        out.extend(&$($m)? l.others);
                        out.push(&$($m)? l.by.expr);
                    }
                }
                PipeOpKind::SampleDistinct {
                    params,
                    count,
                    column,
                } => {
                    out.extend(params.into_iter().map(|p| &$($m)? p.value));
                    out.push(count);
                    out.push(column);
                }
                PipeOpKind::Facet { with, .. } => {
                    if let Some(q) = with {
                        for o in &$($m)? q.ops {
                            $op_fn(&$($m)? o.kind, out);
                        }
                    }
                }
                PipeOpKind::Partition(x) => {
                    out.extend((&$($m)? x.params).into_iter().map(|p| &$($m)? p.value));
                    match &$($m)? x.body {
                        PartitionBody::Subquery(q) => {
                            for o in &$($m)? q.ops {
                                $op_fn(&$($m)? o.kind, out);
                            }
                        }
                        PartitionBody::Query(e) => out.push(e),
                    }
                }
                PipeOpKind::Fork(branches) => {
                    for b in branches {
                        for o in &$($m)? b.query.ops {
                            $op_fn(&$($m)? o.kind, out);
                        }
                    }
                }
                PipeOpKind::Reduce { params, by, with } => {
                    out.extend(params.into_iter().map(|p| &$($m)? p.value));
                    out.push(by);
                    out.extend(with.into_iter().map(|p| &$($m)? p.value));
                }
                PipeOpKind::TopHitters { count, of, by } => {
                    out.push(count);
                    out.push(of);
                    out.extend(by);
                }
                PipeOpKind::ProjectByNames(items) => out.extend(items),
                PipeOpKind::Scan(x) => {
                    out.extend((&$($m)? x.params).into_iter().map(|p| &$($m)? p.value));
                    for p in &$($m)? x.declare {
                        out.extend(&$($m)? p.default);
                    }
                    for s in &$($m)? x.steps {
                        out.push(&$($m)? s.condition);
                        out.extend((&$($m)? s.assignments).into_iter().map(|a| &$($m)? a.1));
                    }
                }
            }
        }
    };
}

child_visitors!(expr_children, op_children,);
child_visitors!(expr_children_mut, op_children_mut, mut);

impl Expr {
    /// The direct sub-expressions of this node, in source order. For a pipe: the input, then
    /// every expression of the operator (including those inside its subqueries). Covers every
    /// variant, so generic walkers need no exhaustive match of their own.
    pub fn children(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        expr_children(self, &mut out);
        out
    }

    /// Mutable form of [`Expr::children`].
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        let mut out = Vec::new();
        expr_children_mut(self, &mut out);
        out
    }

    /// Appends the direct sub-expressions to `out` (no allocation per node).
    pub fn push_children_mut<'a>(&'a mut self, out: &mut Vec<&'a mut Expr>) {
        expr_children_mut(self, out);
    }
}

impl PipeOpKind {
    /// The expressions inside this operator, in source order (those inside subqueries too).
    pub fn children(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        op_children(self, &mut out);
        out
    }

    /// Mutable form of [`PipeOpKind::children`].
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        let mut out = Vec::new();
        op_children_mut(self, &mut out);
        out
    }
}
