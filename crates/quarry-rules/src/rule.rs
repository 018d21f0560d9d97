//! The rule model and its two file formats.
//!
//! * **Quarry rules** (`.kql`): the query text, with its metadata in a structured comment block
//!   at the top (`// ---` … `// ---`, YAML after removing `// `); see `docs/rule-format.md`.
//!   A `.kql` file without the block is still a rule: its id and title are the file name.
//! * **Microsoft Sentinel** analytic rules and hunting queries (`.yaml`/`.yml`) as published in
//!   Azure/Azure-Sentinel: `id`, `name`, `description`, `severity`, `query`, `queryFrequency`,
//!   `queryPeriod`, `triggerOperator`, `triggerThreshold`, `tactics`, `relevantTechniques`,
//!   `entityMappings`.

use crate::params::{ParamType, default_literal};
use quarry_syntax::ast::{self, ExprKind, Statement};
use quarry_syntax::{Diagnostic, Span};
use serde_json::Value;
use std::path::Path;

/// How urgent an alert of the rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleSeverity {
    Informational,
    Low,
    Medium,
    High,
}

impl RuleSeverity {
    pub fn parse(s: &str) -> Option<RuleSeverity> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => RuleSeverity::Informational,
            "low" => RuleSeverity::Low,
            "medium" => RuleSeverity::Medium,
            "high" | "critical" => RuleSeverity::High,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RuleSeverity::Informational => "informational",
            RuleSeverity::Low => "low",
            RuleSeverity::Medium => "medium",
            RuleSeverity::High => "high",
        }
    }
}

/// Which file format a rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleFormat {
    /// A `.kql` file (with or without the metadata block).
    Kql,
    /// A Microsoft Sentinel analytic-rule or hunting-query YAML file.
    SentinelYaml,
}

/// A declared, overridable parameter: a top-level `let` of the query.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub ty: ParamType,
    /// The default as written in the metadata (YAML value).
    pub default: Option<Value>,
    pub description: String,
}

/// A column that identifies what an alert is about (`account: AccountName`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityMapping {
    /// `account`, `host`, `ip`, ... (Sentinel: `Account.FullName`, `Host.HostName`, ...).
    pub kind: String,
    pub column: String,
}

/// Sentinel's alert trigger: the rule alerts when `result rows <op> threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl TriggerOp {
    pub fn parse(s: &str) -> Option<TriggerOp> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "gt" | "greaterthan" | ">" => TriggerOp::Gt,
            "ge" | "greaterthanorequal" | ">=" => TriggerOp::Ge,
            "lt" | "lessthan" | "<" => TriggerOp::Lt,
            "le" | "lessthanorequal" | "<=" => TriggerOp::Le,
            "eq" | "equal" | "==" => TriggerOp::Eq,
            "ne" | "notequal" | "!=" => TriggerOp::Ne,
            _ => return None,
        })
    }

    pub fn holds(self, rows: u64, threshold: u64) -> bool {
        match self {
            TriggerOp::Gt => rows > threshold,
            TriggerOp::Ge => rows >= threshold,
            TriggerOp::Lt => rows < threshold,
            TriggerOp::Le => rows <= threshold,
            TriggerOp::Eq => rows == threshold,
            TriggerOp::Ne => rows != threshold,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TriggerOp::Gt => "gt",
            TriggerOp::Ge => "ge",
            TriggerOp::Lt => "lt",
            TriggerOp::Le => "le",
            TriggerOp::Eq => "eq",
            TriggerOp::Ne => "ne",
        }
    }
}

/// Sentinel scheduling fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// `queryFrequency` in ns.
    pub frequency_ns: Option<i64>,
    /// `queryPeriod` in ns: the look-back Sentinel applies to the tables.
    pub period_ns: Option<i64>,
    pub trigger: Option<(TriggerOp, u64)>,
}

/// One rule, ready to lint or run.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: RuleSeverity,
    pub tactics: Vec<String>,
    pub techniques: Vec<String>,
    /// Tables the query reads: declared in the metadata, else found in the query text.
    pub tables: Vec<String>,
    pub entities: Vec<EntityMapping>,
    pub parameters: Vec<ParamSpec>,
    /// The timespan parameter that is the rule's look-back (`0d` = the whole input), if any.
    pub lookback: Option<String>,
    /// The time column to window on, when the metadata names one.
    pub time_column: Option<String>,
    pub schedule: Option<Schedule>,
    pub format: RuleFormat,
    /// File path (or `builtin:NAME`) for messages.
    pub origin: String,
    /// The whole file text (diagnostics are rendered against it).
    pub file_text: String,
    /// The KQL text to run (for `.kql` files, the whole file).
    pub query: String,
    /// Where the query text sits in `file_text`, to map spans; `None` when it cannot be mapped
    /// (diagnostics are then rendered against `query`).
    pub query_map: Option<QueryMap>,
    /// Problems with the metadata that do not stop the rule from loading (lint `QL0007`).
    pub metadata_diagnostics: Vec<Diagnostic>,
}

/// Maps byte offsets of a rule's query text to offsets in its file: for each query line, the
/// file offset of its first byte (a YAML block scalar keeps lines intact, minus indentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryMap {
    /// (query line start offset, file offset of the same byte), ascending.
    lines: Vec<(usize, usize)>,
}

impl QueryMap {
    fn identity() -> QueryMap {
        QueryMap {
            lines: vec![(0, 0)],
        }
    }

    /// The file offset of query offset `q`.
    pub fn to_file(&self, q: usize) -> usize {
        let i = self.lines.partition_point(|(start, _)| *start <= q);
        match i.checked_sub(1).and_then(|i| self.lines.get(i)) {
            Some((qs, fs)) => fs + (q - qs),
            None => q,
        }
    }

    pub fn span_to_file(&self, s: Span) -> Span {
        Span::new(self.to_file(s.start as usize), self.to_file(s.end as usize))
    }
}

impl Rule {
    /// A diagnostic about the query text, moved to file coordinates when possible. Returns the
    /// diagnostic and the text to render it against.
    pub fn locate(&self, d: &Diagnostic) -> (Diagnostic, &str) {
        match &self.query_map {
            Some(m) => {
                let mut d = d.clone();
                d.span = m.span_to_file(d.span);
                for l in &mut d.labels {
                    l.span = m.span_to_file(l.span);
                }
                (d, self.file_text.as_str())
            }
            None => (d.clone(), self.query.as_str()),
        }
    }

    /// The parameter spec named `name`.
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.parameters.iter().find(|p| p.name == name)
    }
}

/// A rule file that could not be loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub origin: String,
    pub message: String,
    /// With a span into `text` when the problem has a place.
    pub diagnostic: Option<Diagnostic>,
    pub text: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// Loads a rule from its text; the format is chosen by the file extension of `origin`
/// (`.yaml`/`.yml` = Sentinel, anything else = `.kql`).
pub fn load_rule(origin: &str, text: &str) -> Result<Rule, LoadError> {
    let lower = origin.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        load_sentinel(origin, text)
    } else {
        load_kql(origin, text)
    }
}

/// Rule files under a path: the file itself, or every `.kql`/`.yaml`/`.yml` file below a
/// directory (recursively, sorted by path). Unreadable paths are errors.
pub fn rule_files(path: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let p = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if is_rule_file(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `.kql`, `.yaml` or `.yml`.
pub fn is_rule_file(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("kql" | "yaml" | "yml")
    )
}

/// Reads and loads one rule file.
pub fn load_rule_file(path: &Path) -> Result<Rule, LoadError> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| LoadError {
        origin: origin.clone(),
        message: format!("cannot read: {e}"),
        diagnostic: None,
        text: String::new(),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| LoadError {
        origin: origin.clone(),
        message: "not UTF-8 text".into(),
        diagnostic: None,
        text: String::new(),
    })?;
    load_rule(&origin, &text)
}

fn stem(origin: &str) -> String {
    let name = origin.rsplit(['/', '\\']).next().unwrap_or(origin);
    match name.rsplit_once('.') {
        Some((s, _)) if !s.is_empty() => s.to_string(),
        _ => name.to_string(),
    }
}

/// The metadata block of a `.kql` rule: its YAML text, the byte span of the block in the
/// file, and for each YAML line the file offset where it starts.
pub struct MetadataBlock {
    pub yaml: String,
    pub span: Span,
    pub line_offsets: Vec<usize>,
}

/// Finds the `// ---` … `// ---` block at the top of a `.kql` text (only blank lines may come
/// before it). `Err` when the block is opened but never closed or has a non-comment line.
pub fn metadata_block(text: &str) -> Result<Option<MetadataBlock>, Diagnostic> {
    let mut offset = 0;
    let mut start: Option<usize> = None;
    let mut yaml = String::new();
    let mut line_offsets = Vec::new();
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let here = offset;
        offset += raw.len();
        match start {
            None => {
                if line.trim().is_empty() {
                    continue;
                }
                if line.trim_end() == "// ---" {
                    start = Some(here);
                    continue;
                }
                return Ok(None);
            }
            Some(s) => {
                if line.trim_end() == "// ---" {
                    return Ok(Some(MetadataBlock {
                        yaml,
                        span: Span::new(s, here + line.len()),
                        line_offsets,
                    }));
                }
                let Some(rest) = line.strip_prefix("//") else {
                    return Err(Diagnostic::error(
                        "QL0007",
                        "rule metadata block: every line up to the closing `// ---` must start with `//`",
                        Span::new(here, here + line.len()),
                    )
                    .with_help("close the block with a line `// ---` before the query"));
                };
                let rest = rest.strip_prefix(' ').unwrap_or(rest);
                line_offsets.push(here + (line.len() - rest.len()));
                yaml.push_str(rest);
                yaml.push('\n');
            }
        }
    }
    match start {
        Some(s) => Err(Diagnostic::error(
            "QL0007",
            "rule metadata block is not closed",
            Span::new(s, s + 6),
        )
        .with_help("end the block with a line `// ---`")),
        None => Ok(None),
    }
}

fn yaml_value(text: &str) -> Result<Value, String> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| {
        // The first line of the error is the message; the crate may add a snippet after it.
        e.to_string()
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .to_string()
    })
}

/// A string, or a number rendered as text.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A list of strings: a YAML sequence, or one comma-separated string.
fn as_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(as_text).collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// Span of the first metadata line that starts (after indentation) with `key:`.
fn key_span(block: &MetadataBlock, text: &str, key: &str) -> Span {
    for (i, line) in block.yaml.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with(key) && t[key.len()..].trim_start().starts_with(':') {
            let indent = line.len() - t.len();
            if let Some(off) = block.line_offsets.get(i) {
                let s = off + indent;
                return Span::new(s, (s + key.len()).min(text.len()));
            }
        }
    }
    block.span
}

fn load_kql(origin: &str, text: &str) -> Result<Rule, LoadError> {
    let fail = |message: String, d: Option<Diagnostic>| LoadError {
        origin: origin.to_string(),
        message,
        diagnostic: d,
        text: text.to_string(),
    };
    let block = metadata_block(text).map_err(|d| fail(d.message.clone(), Some(d)))?;
    let mut rule = Rule {
        id: stem(origin),
        title: stem(origin),
        description: String::new(),
        severity: RuleSeverity::Medium,
        tactics: Vec::new(),
        techniques: Vec::new(),
        tables: Vec::new(),
        entities: Vec::new(),
        parameters: Vec::new(),
        lookback: None,
        time_column: None,
        schedule: None,
        format: RuleFormat::Kql,
        origin: origin.to_string(),
        file_text: text.to_string(),
        query: text.to_string(),
        query_map: Some(QueryMap::identity()),
        metadata_diagnostics: Vec::new(),
    };
    if let Some(block) = &block {
        let meta = yaml_value(&block.yaml).map_err(|m| {
            let d = Diagnostic::error(
                "QL0007",
                format!("rule metadata is not valid YAML: {m}"),
                block.span,
            );
            fail(d.message.clone(), Some(d))
        })?;
        let Value::Object(map) = &meta else {
            let d = Diagnostic::error(
                "QL0007",
                "rule metadata must be a YAML mapping (`key: value` lines)",
                block.span,
            );
            return Err(fail(d.message.clone(), Some(d)));
        };
        let mut diags = Vec::new();
        match map.get("id").and_then(as_text) {
            Some(id) if !id.trim().is_empty() => rule.id = id.trim().to_string(),
            _ => diags.push(
                Diagnostic::warning("QL0007", "rule metadata has no `id`", block.span)
                    .with_help("add `// id: <unique id>`; the file name is used meanwhile"),
            ),
        }
        if let Some(t) = map.get("title").or(map.get("name")).and_then(as_text) {
            rule.title = t.trim().to_string();
        }
        if let Some(d) = map.get("description").and_then(as_text) {
            rule.description = d.trim().to_string();
        }
        if let Some(s) = map.get("severity") {
            match as_text(s).as_deref().and_then(RuleSeverity::parse) {
                Some(sev) => rule.severity = sev,
                None => diags.push(
                    Diagnostic::warning(
                        "QL0007",
                        format!("unknown severity `{}`", as_text(s).unwrap_or_default()),
                        key_span(block, text, "severity"),
                    )
                    .with_help("use informational, low, medium or high"),
                ),
            }
        }
        rule.tactics = as_list(map.get("tactics"));
        rule.techniques = as_list(map.get("techniques").or(map.get("relevantTechniques")));
        rule.tables = as_list(map.get("tables"));
        if let Some(Value::Object(ents)) = map.get("entities") {
            for (k, v) in ents {
                if let Some(c) = as_text(v) {
                    rule.entities.push(EntityMapping {
                        kind: k.clone(),
                        column: c,
                    });
                }
            }
        }
        rule.time_column = map
            .get("time_column")
            .or(map.get("timeColumn"))
            .and_then(as_text);
        rule.lookback = map.get("lookback").and_then(as_text);
        if let Some(params) = map.get("parameters") {
            let Value::Object(params) = params else {
                let d = Diagnostic::error(
                    "QL0007",
                    "`parameters` must map each parameter name to {type, default, description}",
                    key_span(block, text, "parameters"),
                );
                return Err(fail(d.message.clone(), Some(d)));
            };
            for (name, spec) in params {
                let span = key_span(block, text, name);
                let (ty_text, default, description) = match spec {
                    Value::Object(o) => (
                        o.get("type").and_then(as_text),
                        o.get("default").cloned(),
                        o.get("description").and_then(as_text).unwrap_or_default(),
                    ),
                    // `Name: long` shorthand.
                    Value::String(s) => (Some(s.clone()), None, String::new()),
                    _ => (None, None, String::new()),
                };
                let Some(ty) = ty_text.as_deref().and_then(ParamType::from_name) else {
                    let d = Diagnostic::error(
                        "QL0007",
                        format!(
                            "parameter `{name}`: {}",
                            match ty_text {
                                Some(t) => format!("unknown type `{t}`"),
                                None => "no `type`".to_string(),
                            }
                        ),
                        span,
                    )
                    .with_help(
                        "types: string, bool, int, long, real, datetime, timespan, dynamic, guid",
                    );
                    return Err(fail(d.message.clone(), Some(d)));
                };
                if let Some(def) = &default
                    && let Err(m) = default_literal(ty, def)
                {
                    let d = Diagnostic::error(
                        "QL0007",
                        format!("parameter `{name}`: default {m}"),
                        span,
                    );
                    return Err(fail(d.message.clone(), Some(d)));
                }
                rule.parameters.push(ParamSpec {
                    name: name.clone(),
                    ty,
                    default,
                    description,
                });
            }
        }
        rule.metadata_diagnostics = diags;
        rule.metadata_diagnostics
            .extend(check_parameters_against_lets(&rule, block, text));
    }
    if rule.lookback.is_none()
        && rule
            .param("Lookback")
            .is_some_and(|p| p.ty == ParamType::TimeSpan)
    {
        rule.lookback = Some("Lookback".to_string());
    }
    if rule.tables.is_empty() {
        rule.tables = referenced_tables(&quarry_syntax::parse(&rule.query).script);
    }
    Ok(rule)
}

/// Every declared parameter must be a top-level scalar `let` whose value equals the default.
fn check_parameters_against_lets(
    rule: &Rule,
    block: &MetadataBlock,
    text: &str,
) -> Vec<Diagnostic> {
    let parsed = quarry_syntax::parse(&rule.query);
    let mut out = Vec::new();
    for p in &rule.parameters {
        let span = key_span(block, text, &p.name);
        let Some(l) = parsed.script.statements.iter().find_map(|s| match s {
            Statement::Let(l) if l.name.name == p.name => Some(l),
            _ => None,
        }) else {
            out.push(
                Diagnostic::error(
                    "QL0007",
                    format!(
                        "parameter `{}` has no top-level `let {}` in the query",
                        p.name, p.name
                    ),
                    span,
                )
                .with_help(format!(
                    "declare it before the query, e.g. `let {} = <default>;`",
                    p.name
                )),
            );
            continue;
        };
        let ast::LetValue::Expr(value) = &l.value else {
            out.push(Diagnostic::error(
                "QL0007",
                format!(
                    "parameter `{}` is a function; only scalar `let`s can be parameters",
                    p.name
                ),
                l.name.span,
            ));
            continue;
        };
        let Some(def) = &p.default else { continue };
        let Ok(lit_text) = default_literal(p.ty, def) else {
            continue;
        };
        let Ok(expected) = quarry_syntax::parse_expr(&lit_text) else {
            continue;
        };
        let (ExprKind::Literal(want), Some(got)) = (&expected.kind, literal_of(value)) else {
            continue;
        };
        if !same_literal(want, got) {
            out.push(
                Diagnostic::warning(
                    "QL0007",
                    format!(
                        "parameter `{}`: the metadata default `{lit_text}` differs from the `let` value",
                        p.name
                    ),
                    value.span,
                )
                .with_secondary(span, "default declared here")
                .with_help(
                    "keep them equal, so running the file as plain KQL gives the default behaviour",
                ),
            );
        }
    }
    out
}

/// The literal of `dynamic(...)`, `5`, `"x"`, `-3`, `(…)`.
fn literal_of(e: &ast::Expr) -> Option<&ast::Literal> {
    match &e.kind {
        ExprKind::Literal(l) => Some(l),
        ExprKind::Paren(inner) => literal_of(inner),
        _ => None,
    }
}

fn same_literal(a: &ast::Literal, b: &ast::Literal) -> bool {
    use ast::Literal as L;
    match (a, b) {
        (L::Long(x), L::Int(y)) | (L::Int(y), L::Long(x)) => *x == y.map(i64::from),
        (L::Real(x), L::Long(y)) | (L::Long(y), L::Real(x)) => *x == y.map(|v| v as f64),
        _ => a == b,
    }
}

/// Names used as tables in a script: pipeline sources, `join`/`union`/`lookup` operands that
/// are not `let`-bound names, in first-use order.
pub fn referenced_tables(script: &ast::Script) -> Vec<String> {
    let mut lets: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for s in &script.statements {
        match s {
            Statement::Let(l) => {
                match &l.value {
                    ast::LetValue::Expr(e) => tables_in(e, &lets, &mut out),
                    ast::LetValue::Function(f) | ast::LetValue::View(f) => {
                        let mut inner = lets.clone();
                        inner.extend(f.params.iter().map(|p| p.name.name.clone()));
                        for bl in &f.body_lets {
                            if let ast::LetValue::Expr(e) = &bl.value {
                                tables_in(e, &inner, &mut out);
                            }
                            inner.push(bl.name.name.clone());
                        }
                        tables_in(&f.body, &inner, &mut out);
                    }
                }
                lets.push(l.name.name.clone());
            }
            Statement::Query(e) => tables_in(e, &lets, &mut out),
            Statement::Set { .. } => {}
        }
    }
    out
}

fn tables_in(e: &ast::Expr, lets: &[String], out: &mut Vec<String>) {
    fn source(e: &ast::Expr, lets: &[String], out: &mut Vec<String>) {
        match &e.kind {
            ExprKind::Name(id)
                if !lets.contains(&id.name)
                    && !id.name.contains('*')
                    && !out.contains(&id.name) =>
            {
                out.push(id.name.clone());
            }
            ExprKind::Paren(inner) => source(inner, lets, out),
            ExprKind::Pipe { input, op } => {
                source(input, lets, out);
                match &op.kind {
                    ast::PipeOpKind::Join { right, .. } => source(right, lets, out),
                    ast::PipeOpKind::Union(u) => u.tables.iter().for_each(|t| source(t, lets, out)),
                    _ => {}
                }
            }
            ExprKind::Union(u) => u.tables.iter().for_each(|t| source(t, lets, out)),
            ExprKind::Call { name, args }
                if matches!(name.name.as_str(), "materialize" | "view") =>
            {
                args.iter().for_each(|a| source(&a.value, lets, out))
            }
            _ => {}
        }
    }
    // Sources of the expression itself and of tabular sub-expressions inside it.
    crate::walk::walk(e, &mut |x| {
        if matches!(x.kind, ExprKind::Pipe { .. }) || std::ptr::eq(x, e) {
            source(x, lets, out);
        }
        if let ExprKind::Call { name, args } = &x.kind
            && name.name == "toscalar"
        {
            args.iter().for_each(|a| source(&a.value, lets, out));
        }
    });
}

/// A field of a Sentinel YAML that takes a duration: `5m`, `1h`, `14d`, `PT1H`.
fn duration_ns(v: &Value) -> Option<i64> {
    let s = as_text(v)?;
    let s = s.trim();
    if let Some(iso) = s.strip_prefix("PT").or_else(|| s.strip_prefix("pt")) {
        let (num, unit) = iso.split_at(iso.len().checked_sub(1)?);
        let n: i64 = num.parse().ok()?;
        let mult = match unit {
            "H" | "h" => 3_600,
            "M" | "m" => 60,
            "S" | "s" => 1,
            _ => return None,
        };
        return n.checked_mul(mult)?.checked_mul(1_000_000_000);
    }
    quarry_sources::parse_timespan(s)
}

fn load_sentinel(origin: &str, text: &str) -> Result<Rule, LoadError> {
    let fail = |message: String| LoadError {
        origin: origin.to_string(),
        message,
        diagnostic: None,
        text: text.to_string(),
    };
    let v = yaml_value(text).map_err(|m| fail(format!("not valid YAML: {m}")))?;
    let Value::Object(map) = &v else {
        return Err(fail("a Sentinel rule file must be a YAML mapping".into()));
    };
    let query = map
        .get("query")
        .and_then(as_text)
        .ok_or_else(|| fail("no `query` field".into()))?;
    let id = map
        .get("id")
        .and_then(as_text)
        .unwrap_or_else(|| stem(origin));
    let title = map
        .get("name")
        .or(map.get("title"))
        .and_then(as_text)
        .unwrap_or_else(|| stem(origin));
    let mut metadata_diagnostics = Vec::new();
    let severity = match map.get("severity").and_then(as_text) {
        Some(s) => RuleSeverity::parse(&s).unwrap_or_else(|| {
            metadata_diagnostics.push(Diagnostic::warning(
                "QL0007",
                format!("unknown severity `{s}` (medium is used)"),
                Span::default(),
            ));
            RuleSeverity::Medium
        }),
        // Hunting queries have no severity.
        None => RuleSeverity::Informational,
    };
    let mut entities = Vec::new();
    if let Some(Value::Array(maps)) = map.get("entityMappings") {
        for m in maps {
            let Some(kind) = m.get("entityType").and_then(as_text) else {
                continue;
            };
            if let Some(Value::Array(fields)) = m.get("fieldMappings") {
                for f in fields {
                    if let (Some(ident), Some(col)) = (
                        f.get("identifier").and_then(as_text),
                        f.get("columnName").and_then(as_text),
                    ) {
                        entities.push(EntityMapping {
                            kind: format!("{kind}.{ident}"),
                            column: col,
                        });
                    }
                }
            }
        }
    }
    let trigger = match (
        map.get("triggerOperator").and_then(as_text),
        map.get("triggerThreshold"),
    ) {
        (Some(op), Some(th)) => {
            let op = TriggerOp::parse(&op);
            let th = th
                .as_u64()
                .or_else(|| as_text(th).and_then(|s| s.parse().ok()));
            match (op, th) {
                (Some(op), Some(th)) => Some((op, th)),
                _ => {
                    metadata_diagnostics.push(Diagnostic::warning(
                        "QL0007",
                        "triggerOperator/triggerThreshold not understood; every result row alerts",
                        Span::default(),
                    ));
                    None
                }
            }
        }
        _ => None,
    };
    let schedule = Schedule {
        frequency_ns: map.get("queryFrequency").and_then(duration_ns),
        period_ns: map.get("queryPeriod").and_then(duration_ns),
        trigger,
    };
    let query_map = map_yaml_block(text, "query", &query);
    let tables = referenced_tables(
        &quarry_syntax::parse(&crate::window::fill_placeholders_for_lint(&query)).script,
    );
    Ok(Rule {
        id,
        title,
        description: map
            .get("description")
            .and_then(as_text)
            .unwrap_or_default()
            .trim()
            .to_string(),
        severity,
        tactics: as_list(map.get("tactics")),
        techniques: as_list(map.get("relevantTechniques").or(map.get("techniques"))),
        tables,
        entities,
        parameters: Vec::new(),
        lookback: None,
        time_column: None,
        schedule: Some(schedule),
        format: RuleFormat::SentinelYaml,
        origin: origin.to_string(),
        file_text: text.to_string(),
        query,
        query_map,
        metadata_diagnostics,
    })
}

/// Finds `key: |` (or `>`-less literal block) in a YAML text and maps the block's lines to
/// file offsets, when the block's lines (minus indentation) reproduce `value` exactly.
fn map_yaml_block(text: &str, key: &str, value: &str) -> Option<QueryMap> {
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n');
    let mut header_found = false;
    for raw in lines.by_ref() {
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(rest) = line.strip_prefix(key)
            && let Some(rest) = rest.trim_start().strip_prefix(':')
        {
            let ind = rest.trim();
            if ind.starts_with('|') {
                header_found = true;
                break;
            }
            // A single-line plain or quoted scalar.
            let v = rest.trim_start();
            let start = offset - raw.len() + (line.len() - v.len());
            if v == value {
                return Some(QueryMap {
                    lines: vec![(0, start)],
                });
            }
            return None;
        }
    }
    if !header_found {
        return None;
    }
    let mut indent: Option<usize> = None;
    let mut map = Vec::new();
    let mut rebuilt = String::new();
    for raw in lines {
        let here = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            map.push((rebuilt.len(), here));
            rebuilt.push('\n');
            continue;
        }
        let this_indent = line.len() - line.trim_start_matches(' ').len();
        let ind = *indent.get_or_insert(this_indent);
        if this_indent < ind || ind == 0 {
            break;
        }
        map.push((rebuilt.len(), here + ind));
        rebuilt.push_str(&line[ind..]);
        rebuilt.push('\n');
    }
    // `|` keeps one final newline, `|-` none, `|+` all: compare without trailing newlines.
    if rebuilt.trim_end_matches('\n') == value.trim_end_matches('\n') {
        Some(QueryMap { lines: map })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_map_maps_block_lines() {
        let text = "id: x\nquery: |\n  T\n  | where a == 1\nname: n\n";
        let m = map_yaml_block(text, "query", "T\n| where a == 1\n").expect("mapped");
        assert_eq!(m.to_file(0), text.find("T\n").unwrap_or(0));
        let w = "T\n".len() + 2;
        assert_eq!(&text[m.to_file(w)..m.to_file(w) + 5], "where");
    }

    #[test]
    fn stem_of_paths() {
        assert_eq!(stem("rules/a-b.kql"), "a-b");
        assert_eq!(stem("x"), "x");
    }
}
