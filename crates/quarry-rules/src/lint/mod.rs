//! The KQL linter: static checks for the mistakes hand-written hunting queries make.
//!
//! | code | severity | what |
//! |---|---|---|
//! | `QL0001` | warning | a `let` name that is never used |
//! | `QL0002` | warning | a predicate that is never true given earlier filters of the same pipeline |
//! | `QL0003` | warning | a predicate that is always true given earlier filters |
//! | `QL0004` | warning | a comparison with a value a known column never takes |
//! | `QL0005` | hint | a case-sensitive match on an account or host name |
//! | `QL0006` | warning | a column the (known) input does not have |
//! | `QL0007` | error/warning | a problem in a rule's metadata |
//!
//! Syntax errors are reported as the parser's `KQL0xxx` errors, and then no other check runs.
//! Each code is documented with a bad and a good example in `docs/lint/QLxxxx.md`.

mod flow;
pub mod known;
mod unused;

use crate::rule::Rule;
use quarry_syntax::Diagnostic;

/// One lint code: code, short name, one-line summary.
pub struct LintCode {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
}

pub const CODES: &[LintCode] = &[
    LintCode {
        code: "QL0001",
        name: "unused-let",
        summary: "a `let` name that is never used",
    },
    LintCode {
        code: "QL0002",
        name: "never-true",
        summary: "a predicate that can never be true given earlier filters in the same pipeline",
    },
    LintCode {
        code: "QL0003",
        name: "always-true",
        summary: "a predicate that is always true given earlier filters in the same pipeline",
    },
    LintCode {
        code: "QL0004",
        name: "unknown-value",
        summary: "a comparison with a value the known column never takes",
    },
    LintCode {
        code: "QL0005",
        name: "case-sensitive-identity",
        summary: "a case-sensitive match on an account or host name",
    },
    LintCode {
        code: "QL0006",
        name: "unknown-column",
        summary: "a column the known table (or the pipeline at that point) does not have",
    },
    LintCode {
        code: "QL0007",
        name: "rule-metadata",
        summary: "a problem in a rule's metadata block or Sentinel fields",
    },
];

/// Lints a query text. Spans point into `text`.
pub fn lint_query(text: &str) -> Vec<Diagnostic> {
    let parsed = quarry_syntax::parse(text);
    if parsed.has_errors() {
        return parsed.diagnostics;
    }
    let mut out = unused::check(&parsed.script, text);
    out.extend(flow::check(&parsed.script, text));
    finish(out)
}

/// Lints a loaded rule: its metadata and its query (Sentinel placeholders filled in first).
/// Spans point into the text returned with them (the file text when the query maps onto it).
pub fn lint_rule(rule: &Rule) -> (Vec<Diagnostic>, &str) {
    let filled = crate::window::placeholders_for_lint(&rule.query);
    let mut diags: Vec<Diagnostic> = lint_query(&filled.text)
        .into_iter()
        .filter_map(|mut d| {
            d.span = filled.map_span(d.span)?;
            d.labels.retain_mut(|l| match filled.map_span(l.span) {
                Some(s) => {
                    l.span = s;
                    true
                }
                None => false,
            });
            Some(d)
        })
        .collect();
    let text = match &rule.query_map {
        Some(_) => {
            diags = diags.iter().map(|d| rule.locate(d).0).collect();
            rule.file_text.as_str()
        }
        None => rule.query.as_str(),
    };
    diags.extend(rule.metadata_diagnostics.iter().cloned());
    (finish(diags), text)
}

/// Priority when two diagnostics cover the same text: the most specific wins.
fn rank(code: &str) -> u8 {
    match code {
        "QL0002" => 0,
        "QL0003" => 1,
        "QL0004" => 2,
        "QL0006" => 3,
        "QL0005" => 4,
        _ => 5,
    }
}

/// Sorts by position and keeps one diagnostic per span: a value diagnostic inside a never/
/// always-true predicate, or a hint on the same span as a warning, is dropped.
fn finish(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by(|a, b| {
        (a.span.start, a.span.end, rank(&a.code)).cmp(&(b.span.start, b.span.end, rank(&b.code)))
    });
    diags.dedup_by(|b, a| a.code == b.code && a.span == b.span && a.message == b.message);
    let keep: Vec<bool> = diags
        .iter()
        .map(|d| {
            !diags.iter().any(|o| {
                !std::ptr::eq(o, d)
                    && o.code.starts_with("QL")
                    && rank(&o.code) < rank(&d.code)
                    && o.span.start <= d.span.start
                    && d.span.end <= o.span.end
                    && (matches!(o.code.as_str(), "QL0002" | "QL0003") || o.span == d.span)
            })
        })
        .collect();
    diags
        .into_iter()
        .zip(keep)
        .filter_map(|(d, k)| k.then_some(d))
        .collect()
}

/// Whether any diagnostic is a warning or an error (hints do not count).
pub fn has_findings(diags: &[Diagnostic]) -> bool {
    diags
        .iter()
        .any(|d| d.severity >= quarry_syntax::Severity::Warning)
}
