//! The KQL abstract syntax tree.
//!
//! Every node carries the byte [`Span`] of the source text it came from, so that later stages
//! (semantics, planning, lint) can put a caret under the exact text they complain about.
//!
//! Tabular and scalar expressions share one [`Expr`] type: KQL lets both appear in the same
//! positions (`let x = T | where ...;`, `x in (T | project a)`, `toscalar(T | count)`), and only
//! name resolution can tell a table name from a scalar name. The pipe (`|`) is the
//! lowest-precedence binary form, [`ExprKind::Pipe`].

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
    /// `union T1, T2` at the start of a pipeline (the operator form is [`PipeOp::Union`]).
    Union(UnionSpec),
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
