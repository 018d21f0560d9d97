//! `quarry lint FILE|DIR...`: static checks of rule and query files (codes `QL0001`…, see
//! `docs/lint/`), as text with carets or as JSON for CI; and the same checks as warnings
//! before `quarry query` runs.

use clap::{Args, ValueEnum};
use quarry_rules::rule::{LoadError, is_rule_file, load_rule, load_rule_file, rule_files};
use quarry_syntax::{Diagnostic, Severity, Span};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct LintArgs {
    /// Rule or query files (.kql, Sentinel .yaml/.yml), or directories searched recursively.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Output format: text (diagnostics with carets) or json (one array of findings).
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
}

/// 1-based line and byte column of `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, offset - start + 1)
}

fn span_json(text: &str, s: Span) -> serde_json::Value {
    let (line, column) = line_col(text, s.start as usize);
    let (end_line, end_column) = line_col(text, s.end as usize);
    serde_json::json!({
        "line": line, "column": column, "end_line": end_line, "end_column": end_column,
        "start": s.start, "end": s.end,
    })
}

/// The JSON record of one finding.
pub fn diagnostic_json(file: &str, text: &str, d: &Diagnostic) -> serde_json::Value {
    let (line, column) = line_col(text, d.span.start as usize);
    serde_json::json!({
        "file": file,
        "code": d.code,
        "severity": d.severity.as_str(),
        "message": d.message,
        "line": line,
        "column": column,
        "span": span_json(text, d.span),
        "label": d.label,
        "labels": d.labels.iter().map(|l| serde_json::json!({
            "message": l.message,
            "span": span_json(text, l.span),
        })).collect::<Vec<_>>(),
        "help": d.help,
    })
}

/// Diagnostics of one file (load problems become `QL0007` errors), and the text they point into.
fn lint_file(result: Result<quarry_rules::Rule, LoadError>) -> (Vec<Diagnostic>, String) {
    match result {
        Ok(rule) => {
            let (d, text) = quarry_rules::lint_rule(&rule);
            (d, text.to_string())
        }
        Err(e) => {
            let d = e
                .diagnostic
                .clone()
                .unwrap_or_else(|| Diagnostic::error("QL0007", e.message.clone(), Span::default()));
            (vec![d], e.text)
        }
    }
}

pub fn run(args: LintArgs) -> ExitCode {
    let mut files = Vec::new();
    let mut io_error = false;
    for p in &args.paths {
        match rule_files(p) {
            Ok(mut f) => {
                if f.is_empty() {
                    eprintln!("note: {}: no .kql, .yaml or .yml files", p.display());
                }
                // A file named explicitly is linted whatever its extension.
                f.retain(|x| x == p || is_rule_file(x));
                files.extend(f)
            }
            Err(e) => {
                eprintln!("error: {e}");
                io_error = true;
            }
        }
    }
    let (mut errors, mut warnings, mut hints) = (0usize, 0usize, 0usize);
    let mut json = Vec::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for f in &files {
        let name = f.display().to_string();
        let loaded = load_rule_file(f);
        if let Err(e) = &loaded
            && e.text.is_empty()
        {
            eprintln!("error: {e}");
            io_error = true;
            continue;
        }
        let (diags, text) = lint_file(loaded);
        for d in &diags {
            match d.severity {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
                Severity::Hint => hints += 1,
            }
        }
        match args.format {
            LintFormat::Text => {
                for d in &diags {
                    if writeln!(out, "{}", d.render(&name, &text)).is_err() {
                        // Standard output closed (e.g. piped into `head`): stop quietly.
                        return ExitCode::from(1);
                    }
                }
            }
            LintFormat::Json => json.extend(diags.iter().map(|d| diagnostic_json(&name, &text, d))),
        }
    }
    if args.format == LintFormat::Json {
        let text =
            serde_json::to_string_pretty(&serde_json::Value::Array(json)).unwrap_or_default();
        let _ = writeln!(out, "{text}");
    }
    eprintln!(
        "{} file(s) checked: {errors} error(s), {warnings} warning(s), {hints} hint(s)",
        files.len()
    );
    if io_error {
        ExitCode::from(2)
    } else if errors + warnings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Lint diagnostics of a query about to run, for printing as warnings. Unknown columns are
/// left to the engine, which knows the columns of the files actually bound; a text with
/// syntax errors is left to the engine too.
pub fn query_warnings(source_name: &str, text: &str) -> Vec<Diagnostic> {
    // A fake `.kql` origin so that the metadata block (if any) is checked too.
    let origin = if source_name.ends_with(".kql") {
        source_name.to_string()
    } else {
        "query.kql".to_string()
    };
    let (diags, _) = match load_rule(&origin, text) {
        Ok(rule) => {
            let (d, _) = quarry_rules::lint_rule(&rule);
            (d, ())
        }
        Err(_) => (Vec::new(), ()),
    };
    diags
        .into_iter()
        .filter(|d| d.code.starts_with("QL") && d.code != "QL0006")
        .collect()
}

/// Prints [`query_warnings`] on stderr.
pub fn print_query_warnings(source_name: &str, text: &str) {
    let diags = query_warnings(source_name, text);
    if diags.is_empty() {
        return;
    }
    eprint!(
        "{}",
        quarry_syntax::diagnostic::render_all(&diags, source_name, text)
    );
    eprintln!(
        "(lint: {} finding(s); --no-lint turns these off)\n",
        diags.len()
    );
}
