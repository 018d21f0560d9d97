//! Diagnostics: errors and warnings with a code, a primary span and optional extra labels.
//!
//! Every stage (parser, semantics, lint, execution) reports through this one type so the CLI
//! renders them the same way: the source line with a caret under the span.

use crate::span::Span;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Hint,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Hint => "hint",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, e.g. `KQL0001` (syntax), `KQL1xxx` (semantics), `KQL2xxx` (execution), `QL0xxx` (lint).
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    /// Text under the primary caret; empty for none.
    pub label: String,
    /// Secondary spans (e.g. "this `where` makes it so").
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            code: code.to_string(),
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            labels: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: &str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span)
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic against its source text: a header line, then each labelled
    /// source line with carets under the span, then the help. Plain text (no colours), so the
    /// output is stable for snapshot tests and readable in logs.
    pub fn render(&self, source_name: &str, source: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}[{}]: {}",
            self.severity.as_str(),
            self.code,
            self.message
        );
        let mut spans: Vec<(Span, &str, char)> = vec![(self.span, self.label.as_str(), '^')];
        for l in &self.labels {
            spans.push((l.span, l.message.as_str(), '-'));
        }
        // One gutter width for every snippet, so the `|` bars line up across labels.
        let gutter = spans
            .iter()
            .map(|(span, _, _)| locate(source, span.start as usize).0.to_string().len())
            .max()
            .unwrap_or(1);
        for (i, (span, label, mark)) in spans.iter().enumerate() {
            let (line_no, col, line) = locate(source, span.start as usize);
            if i == 0 {
                let _ = writeln!(out, "{:gutter$} --> {source_name}:{line_no}:{col}", "");
            }
            let _ = writeln!(out, "{:gutter$} |", "");
            let _ = writeln!(out, "{line_no:>gutter$} | {line}");
            // Carets cover the span on its first line only.
            let line_start = span.start as usize - (col - 1).min(span.start as usize);
            let line_end = line_start + line.len();
            let caret_end = (span.end as usize).min(line_end).max(span.start as usize);
            let pad: usize = source
                .get(line_start..span.start as usize)
                .map(|s| s.chars().map(char_width).sum())
                .unwrap_or(0);
            let width: usize = source
                .get(span.start as usize..caret_end)
                .map(|s| s.chars().map(char_width).sum())
                .unwrap_or(0)
                .max(1);
            let marks: String = std::iter::repeat_n(*mark, width).collect();
            if label.is_empty() {
                let _ = writeln!(out, "{:gutter$} | {:pad$}{marks}", "", "");
            } else {
                let _ = writeln!(out, "{:gutter$} | {:pad$}{marks} {label}", "", "");
            }
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{:gutter$} = help: {help}", "");
        }
        out
    }
}

fn char_width(c: char) -> usize {
    if c == '\t' { 4 } else { 1 }
}

/// 1-based line and column (in bytes, +1) of `offset`, and the text of that line (tabs expanded).
fn locate(source: &str, offset: usize) -> (usize, usize, String) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or("");
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = source[line_start..]
        .find('\n')
        .map(|i| line_start + i)
        .unwrap_or(source.len());
    let line = source[line_start..line_end].trim_end_matches('\r');
    (line_no, offset - line_start + 1, line.replace('\t', "    "))
}

/// Renders several diagnostics, separated by blank lines.
pub fn render_all(diags: &[Diagnostic], source_name: &str, source: &str) -> String {
    diags
        .iter()
        .map(|d| d.render(source_name, source))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_on_lines_of_different_widths_share_one_gutter() {
        let source = (1..=12).map(|i| format!("line{i}\n")).collect::<String>();
        let at = |line: usize| -> usize {
            source
                .split_inclusive('\n')
                .take(line - 1)
                .map(str::len)
                .sum::<usize>()
        };
        let d = Diagnostic::warning("QL0002", "never true", Span::new(at(11), at(11) + 6))
            .with_label("here")
            .with_secondary(Span::new(at(5), at(5) + 5), "because of this");
        let text = d.render("q.kql", &source);
        let expected = "warning[QL0002]: never true\n   --> q.kql:11:1\n   |\n11 | line11\n   | ^^^^^^ here\n   |\n 5 | line5\n   | ----- because of this\n";
        assert_eq!(text, expected);
    }
}
