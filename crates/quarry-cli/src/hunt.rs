//! `quarry hunt`: run a pack of rules over bound tables and emit alerts.
//!
//! Every rule whose tables are bound runs (the others are skipped with a note); one failing
//! rule never stops the others. Each result row becomes an alert carrying the rule's id,
//! title, severity, tactics and techniques, its entity fields and the row itself. A summary on
//! stderr ends the run: rules run, skipped and failed, alerts per rule, and a note for each rule
//! whose time window misses the evidence entirely. The exit status is 1 when a rule failed.
//!
//! Time: `--now` fixes `now()`/`ago()`; without it `--until` does, else the wall clock.
//! `--since`/`--until` filter every table a rule reads on its time column (`Timestamp`, else
//! `TimeGenerated`) and replace the rule's own look-back (its `lookback` parameter is set to
//! `0d`); Sentinel rules get `{{StartTimeISO}}`/`{{EndTimeISO}}` from them and their
//! `queryPeriod` as the window when `--now` is given. See `docs/hunt.md`.

use crate::render::{OutputFormat, ResultWriter};
use clap::Args;
use futures::StreamExt;
use quarry_engine::datafusion::arrow::array::RecordBatch;
use quarry_engine::format::{cell_json, cell_text, normalize_column};
use quarry_engine::session::{EngineOptions, execution_message};
use quarry_engine::{Catalog, ColumnInfo, Engine, PlanOptions, QueryError};
use quarry_rules::rule::{LoadError, Rule, load_rule_file, rule_files};
use quarry_rules::window::{PreparedRun, RunOptions, Window, iso, prepare, top_level_lets};
use quarry_sources::{ReadOptions, SkipReport};
use quarry_syntax::Diagnostic;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

#[derive(Args)]
pub struct HuntArgs {
    /// Rule files or folders (.kql rules, Sentinel .yaml/.yml), searched recursively. Without
    /// it, the built-in pack runs.
    #[arg(short = 'r', long = "rules", value_name = "DIR|FILE")]
    pub rules: Vec<PathBuf>,
    /// Run only the rule(s) with this id (repeatable).
    #[arg(long = "rule", value_name = "ID")]
    pub only: Vec<String>,
    /// Bind a table to files: NAME=PATH (a file, a directory or a glob). Repeatable.
    #[arg(short = 't', long = "table", value_name = "NAME=PATH")]
    pub tables: Vec<String>,
    /// Set a rule parameter (a top-level `let`) in every rule that has it: NAME=VALUE.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Only events at or after this time (ISO 8601, UTC); replaces the rules' look-back.
    #[arg(long, value_name = "DATETIME")]
    pub since: Option<String>,
    /// Only events before this time; also what now() means unless --now is given.
    #[arg(long, value_name = "DATETIME")]
    pub until: Option<String>,
    /// What now() and ago() mean (ISO 8601, UTC), for hunts over old evidence.
    #[arg(long, value_name = "DATETIME")]
    pub now: Option<String>,
    /// Output format: table (one table per rule), or alert records as csv, json, ndjson.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Write alerts to this file instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Skip malformed input rows instead of failing (counted on stderr).
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Do not print lint warnings about the rules before running them.
    #[arg(long)]
    pub no_lint: bool,
    /// Print per-file statistics on stderr at the end (rows, skipped rows, scans, reader time).
    #[arg(long)]
    pub stats: bool,
    /// Let rules' `externaldata` read local files under this directory (repeatable).
    #[arg(long, value_name = "DIR")]
    pub allow_externaldata: Vec<PathBuf>,
}

/// A `Write` shared by the per-rule writers of one hunt.
#[derive(Clone)]
struct SharedOut(Rc<RefCell<Box<dyn Write>>>);

impl Write for SharedOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// Writes alerts in the chosen format.
struct AlertSink {
    format: OutputFormat,
    out: SharedOut,
    csv: Option<csv::Writer<SharedOut>>,
    written: u64,
}

impl AlertSink {
    fn new(format: OutputFormat, out: SharedOut) -> std::io::Result<AlertSink> {
        let mut csv = None;
        match format {
            OutputFormat::Csv => {
                let mut w = csv::WriterBuilder::new().from_writer(out.clone());
                w.write_record([
                    "RuleId",
                    "RuleTitle",
                    "Severity",
                    "Tactics",
                    "Techniques",
                    "Entities",
                    "Row",
                ])?;
                csv = Some(w);
            }
            OutputFormat::Json => out.clone().write_all(b"[")?,
            _ => {}
        }
        Ok(AlertSink {
            format,
            out,
            csv,
            written: 0,
        })
    }

    /// Writes the alerts of one rule.
    fn rule(
        &mut self,
        rule: &Rule,
        columns: &[ColumnInfo],
        batches: &[RecordBatch],
    ) -> std::io::Result<()> {
        if self.format == OutputFormat::Table {
            let mut out = self.out.clone();
            writeln!(
                out,
                "── {} · {} · {}",
                rule.id,
                rule.severity.as_str(),
                rule.title
            )?;
            let mut meta = Vec::new();
            if !rule.tactics.is_empty() {
                meta.push(format!("tactics: {}", rule.tactics.join(", ")));
            }
            if !rule.techniques.is_empty() {
                meta.push(format!("techniques: {}", rule.techniques.join(", ")));
            }
            if !meta.is_empty() {
                writeln!(out, "   {}", meta.join(" · "))?;
            }
            let cols = columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
            let mut w = ResultWriter::new(OutputFormat::Table, cols, Box::new(out.clone()));
            for b in batches {
                w.write_batch(b)?;
            }
            w.finish()?;
            writeln!(out)?;
            return Ok(());
        }
        for b in batches {
            let arrays: Vec<_> = b
                .columns()
                .iter()
                .zip(columns)
                .map(|(a, c)| normalize_column(a, c.ty))
                .collect();
            for row in 0..b.num_rows() {
                let mut record = serde_json::Map::new();
                let mut entities = serde_json::Map::new();
                for ((a, c), _) in arrays.iter().zip(columns).zip(0..) {
                    record.insert(c.name.clone(), cell_json(a, row, c.ty));
                }
                for e in &rule.entities {
                    if let Some(i) = columns.iter().position(|c| c.name == e.column)
                        && let Some(a) = arrays.get(i)
                        && let Some(v) = cell_text(a, row, columns[i].ty)
                        && !v.is_empty()
                    {
                        entities.insert(e.kind.clone(), serde_json::Value::String(v));
                    }
                }
                let alert = serde_json::json!({
                    "RuleId": rule.id,
                    "RuleTitle": rule.title,
                    "Severity": rule.severity.as_str(),
                    "Tactics": rule.tactics,
                    "Techniques": rule.techniques,
                    "Entities": entities,
                    "Row": record,
                });
                self.alert(&alert, rule, &entities, &record)?;
            }
        }
        Ok(())
    }

    fn alert(
        &mut self,
        alert: &serde_json::Value,
        rule: &Rule,
        entities: &serde_json::Map<String, serde_json::Value>,
        record: &serde_json::Map<String, serde_json::Value>,
    ) -> std::io::Result<()> {
        let mut out = self.out.clone();
        match self.format {
            OutputFormat::Json => {
                if self.written > 0 {
                    out.write_all(b",\n")?;
                }
                serde_json::to_writer(&mut out, alert)?;
            }
            OutputFormat::Ndjson => {
                serde_json::to_writer(&mut out, alert)?;
                out.write_all(b"\n")?;
            }
            OutputFormat::Csv => {
                if let Some(w) = &mut self.csv {
                    let ents = serde_json::to_string(entities).unwrap_or_default();
                    let row = serde_json::to_string(record).unwrap_or_default();
                    w.write_record([
                        rule.id.as_str(),
                        rule.title.as_str(),
                        rule.severity.as_str(),
                        &rule.tactics.join(";"),
                        &rule.techniques.join(";"),
                        &ents,
                        &row,
                    ])?;
                }
            }
            OutputFormat::Table => {}
        }
        self.written += 1;
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        if let Some(mut w) = self.csv.take() {
            w.flush()?;
        }
        if self.format == OutputFormat::Json {
            self.out.write_all(b"]\n")?;
        }
        self.out.flush()
    }
}

/// How one rule ended.
enum Outcome {
    Alerts { emitted: u64, note: Option<String> },
    Skipped(String),
    Failed(String),
}

struct Ran {
    id: String,
    title: String,
    severity: String,
    outcome: Outcome,
}

/// Renders engine diagnostics of a prepared rule against the rule's own text where possible.
fn render_rule_diagnostics(rule: &Rule, prepared: &PreparedRun, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let mapped = prepared.text.map_span(d.span).map(|s| {
            let mut m = d.clone();
            m.span = s;
            m.labels
                .retain_mut(|l| match prepared.text.map_span(l.span) {
                    Some(x) => {
                        l.span = x;
                        true
                    }
                    None => false,
                });
            m
        });
        match mapped {
            Some(m) => {
                let (m, text) = rule.locate(&m);
                out.push_str(&m.render(&rule.origin, text));
            }
            None => {
                out.push_str(&d.render(&format!("{} (as run)", rule.origin), &prepared.text.text))
            }
        }
    }
    out
}

pub async fn run(args: HuntArgs) -> ExitCode {
    let fail = |m: String| {
        eprintln!("error: {m}");
        ExitCode::from(2)
    };
    let (since, until, now) = match (
        crate::reading::parse_time("--since", &args.since),
        crate::reading::parse_time("--until", &args.until),
        crate::reading::parse_time("--now", &args.now),
    ) {
        (Ok(s), Ok(u), Ok(n)) => (s, u, n),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return fail(e),
    };
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        return fail(format!(
            "--since {} is not before --until {}",
            iso(s),
            iso(u)
        ));
    }

    // Rules.
    let mut loaded: Vec<Result<Rule, LoadError>> = Vec::new();
    if args.rules.is_empty() {
        loaded = quarry_rules::builtin::builtin_rules();
    } else {
        for p in &args.rules {
            match rule_files(p) {
                Ok(files) if files.is_empty() => {
                    return fail(format!(
                        "--rules {}: no .kql, .yaml or .yml files",
                        p.display()
                    ));
                }
                Ok(files) => loaded.extend(files.iter().map(|f| load_rule_file(f))),
                Err(e) => return fail(format!("--rules {e}")),
            }
        }
    }
    if !args.only.is_empty() {
        loaded.retain(|r| match r {
            Ok(rule) => args.only.contains(&rule.id),
            Err(_) => true,
        });
        if loaded.iter().all(|r| r.is_err()) {
            return fail(format!(
                "--rule {}: no rule with that id",
                args.only.join(", ")
            ));
        }
    }

    // Parameters: NAME=VALUE, each a top-level `let` of at least one rule, valid for every
    // rule that declares its type.
    let mut params = Vec::new();
    for p in &args.params {
        match p.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                params.push((name.trim().to_string(), value.to_string()))
            }
            _ => return fail(format!("--param {p}: expected NAME=VALUE")),
        }
    }
    let rules_ok: Vec<&Rule> = loaded.iter().filter_map(|r| r.as_ref().ok()).collect();
    for (name, value) in &params {
        let mut owners = 0;
        for r in &rules_ok {
            if !top_level_lets(&r.query).contains(name) {
                continue;
            }
            owners += 1;
            if let Some(spec) = r.param(name)
                && let Err(m) = quarry_rules::params::param_value(spec.ty, value)
            {
                return fail(format!("--param {name}: {m} (parameter of rule {})", r.id));
            }
        }
        if owners == 0 {
            let mut all: Vec<String> = rules_ok
                .iter()
                .flat_map(|r| r.parameters.iter().map(|p| p.name.clone()))
                .collect();
            all.sort();
            all.dedup();
            let hint = if all.is_empty() {
                String::new()
            } else {
                format!(" (rule parameters: {})", all.join(", "))
            };
            return fail(format!(
                "--param {name}: no rule has a top-level `let {name}`{hint}"
            ));
        }
    }

    // Tables.
    let bindings = match crate::reading::parse_bindings(&args.tables) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let report = SkipReport::new();
    // The hunt's window is applied per rule (by rewriting its query), not by the readers.
    let read_options = ReadOptions {
        skip_bad_rows: args.skip_bad_rows,
        ..ReadOptions::default()
    };
    let mut catalog = Catalog::new();
    let mut time_columns: HashMap<String, Option<String>> = HashMap::new();
    for (name, paths) in &bindings {
        match quarry_sources::bind_table(name, paths, &read_options, report.clone()) {
            Ok(bound) => {
                for note in &bound.notes {
                    eprintln!("note: {note}");
                }
                let col = ["Timestamp", "TimeGenerated"]
                    .into_iter()
                    .find(|c| bound.schema.field_with_name(c).is_ok())
                    .map(String::from);
                time_columns.insert(name.clone(), col);
                catalog.register(name, bound.provider);
            }
            Err(e) => return fail(format!("--table {name}: {e}")),
        }
    }
    let engine = match Engine::new(catalog, EngineOptions::default()) {
        Ok(e) => e,
        Err(e) => return fail(e.to_string()),
    };

    let out: Box<dyn Write> = match &args.output {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => return fail(format!("cannot create {}: {e}", path.display())),
        },
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let shared = SharedOut(Rc::new(RefCell::new(out)));
    let mut sink = match AlertSink::new(args.format, shared) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot write alerts: {e}")),
    };
    let run_opts = RunOptions {
        since_ns: since,
        until_ns: until,
        now_ns: now,
        wall_now_ns: chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0),
        params,
    };
    let time_col = |t: &str| time_columns.get(t).cloned().flatten();
    let mut ranges: HashMap<(String, String), Option<(i64, i64)>> = HashMap::new();
    let mut results: Vec<Ran> = Vec::new();

    for r in &loaded {
        let rule = match r {
            Ok(rule) => rule,
            Err(e) => {
                match &e.diagnostic {
                    Some(d) => eprint!("{}", d.render(&e.origin, &e.text)),
                    None => eprintln!("error: {e}"),
                }
                results.push(Ran {
                    id: e.origin.clone(),
                    title: String::new(),
                    severity: "-".into(),
                    outcome: Outcome::Failed(format!("cannot load: {}", e.message)),
                });
                continue;
            }
        };
        let ran = |outcome| Ran {
            id: rule.id.clone(),
            title: rule.title.clone(),
            severity: rule.severity.as_str().to_string(),
            outcome,
        };
        let missing: Vec<&str> = rule
            .tables
            .iter()
            .filter(|t| !time_columns.contains_key(t.as_str()))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            results.push(ran(Outcome::Skipped(format!(
                "needs table {} (bind with --table NAME=PATH)",
                missing.join(", ")
            ))));
            continue;
        }
        let metadata_errors: Vec<&Diagnostic> = rule
            .metadata_diagnostics
            .iter()
            .filter(|d| d.severity == quarry_syntax::Severity::Error)
            .collect();
        if let Some(first) = metadata_errors.first() {
            for d in &metadata_errors {
                eprint!("{}", d.render(&rule.origin, &rule.file_text));
            }
            results.push(ran(Outcome::Failed(first.message.clone())));
            continue;
        }
        if !args.no_lint {
            let (diags, text) = quarry_rules::lint_rule(rule);
            // Syntax and column errors are left to the engine (it reports them with the
            // columns of the files actually bound).
            let diags: Vec<_> = diags
                .into_iter()
                .filter(|d| d.code.starts_with("QL") && d.code != "QL0006")
                .collect();
            if !diags.is_empty() {
                eprint!(
                    "{}",
                    quarry_syntax::diagnostic::render_all(&diags, &rule.origin, text)
                );
            }
        }
        let prepared = match prepare(rule, &run_opts, &time_col) {
            Ok(p) => p,
            Err(m) => {
                eprintln!("error: rule {}: {m}", rule.id);
                results.push(ran(Outcome::Failed(m)));
                continue;
            }
        };
        for n in &prepared.notes {
            eprintln!("note: rule {}: {n}", rule.id);
        }
        let options = PlanOptions {
            now_ns: prepared.now_ns,
            params: prepared.params.clone(),
            externaldata_roots: args.allow_externaldata.clone(),
        };
        let planned = match engine.plan(&prepared.text.text, &options) {
            Ok(p) if p.is_empty() => {
                results.push(ran(Outcome::Failed(
                    "the rule has no query statement".into(),
                )));
                continue;
            }
            Ok(p) => p,
            Err(QueryError::Diagnostics(diags)) => {
                eprint!("{}", render_rule_diagnostics(rule, &prepared, &diags));
                let first = diags.first().map(|d| d.message.clone()).unwrap_or_default();
                results.push(ran(Outcome::Failed(first)));
                continue;
            }
            Err(e) => {
                results.push(ran(Outcome::Failed(e.to_string())));
                continue;
            }
        };
        let mut rows = 0u64;
        let mut emitted = 0u64;
        let mut failed: Option<String> = None;
        for q in &planned {
            let mut stream = match engine.execute(q).await {
                Ok(s) => s,
                Err(e) => {
                    failed = Some(e.to_string());
                    break;
                }
            };
            let mut batches = Vec::new();
            let mut n = 0u64;
            while let Some(b) = stream.next().await {
                match b {
                    Ok(b) => {
                        n += b.num_rows() as u64;
                        if b.num_rows() > 0 {
                            batches.push(b);
                        }
                    }
                    Err(e) => {
                        failed = Some(execution_message(&e));
                        break;
                    }
                }
            }
            if failed.is_some() {
                break;
            }
            rows += n;
            let fires = match rule.schedule.as_ref().and_then(|s| s.trigger) {
                Some((op, th)) => op.holds(n, th),
                None => true,
            };
            if fires && n > 0 {
                if let Err(e) = sink.rule(rule, &q.columns, &batches) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return ExitCode::SUCCESS;
                    }
                    return fail(format!("cannot write alerts: {e}"));
                }
                emitted += n;
            }
        }
        if let Some(m) = failed {
            eprintln!("error: rule {} failed: {m}", rule.id);
            results.push(ran(Outcome::Failed(m)));
            continue;
        }
        let mut note = None;
        if emitted == 0
            && let Some(w) = &prepared.window
        {
            note = outside_window(&engine, rule, w, &time_col, &mut ranges).await;
        }
        if emitted == 0 && rows > 0 {
            let trig = rule
                .schedule
                .as_ref()
                .and_then(|s| s.trigger)
                .map(|(op, th)| format!("{} {th}", op.as_str()))
                .unwrap_or_default();
            note = Some(format!(
                "{rows} result row(s) did not meet the trigger ({trig})"
            ));
        }
        results.push(ran(Outcome::Alerts { emitted, note }));
    }
    if let Err(e) = sink.finish()
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return fail(format!("cannot write alerts: {e}"));
    }
    summary(&results);
    crate::reading::print_report(&report, args.stats);
    if results
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Failed(_)))
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// When a rule found nothing: does the evidence lie entirely outside its window?
async fn outside_window(
    engine: &Engine,
    rule: &Rule,
    w: &Window,
    time_col: &dyn Fn(&str) -> Option<String>,
    ranges: &mut HashMap<(String, String), Option<(i64, i64)>>,
) -> Option<String> {
    let mut parts = Vec::new();
    for t in &rule.tables {
        let Some(col) = rule.time_column.clone().or_else(|| time_col(t)) else {
            continue;
        };
        let key = (t.clone(), col.clone());
        if !ranges.contains_key(&key) {
            let r = data_range(engine, t, &col).await;
            ranges.insert(key.clone(), r);
        }
        let Some((lo, hi)) = ranges.get(&key).copied().flatten() else {
            continue;
        };
        let before = w.from_ns.is_some_and(|f| hi < f);
        let after = w.to_ns.is_some_and(|u| lo >= u);
        if before || after {
            parts.push(format!(
                "the data in {t} ({} .. {}) lies entirely outside the rule's window ({})",
                iso(lo),
                iso(hi),
                w.why
            ));
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(format!(
            "{}; use --since/--until or --now to hunt over it",
            parts.join("; ")
        ))
    }
}

/// min and max of a table's time column.
pub(crate) async fn data_range(engine: &Engine, table: &str, col: &str) -> Option<(i64, i64)> {
    let q = format!("['{table}'] | summarize lo = min(['{col}']), hi = max(['{col}'])");
    let planned = engine.plan(&q, &PlanOptions::default()).ok()?;
    let q = planned.first()?;
    let mut stream = engine.execute(q).await.ok()?;
    let b = stream.next().await?.ok()?;
    if b.num_rows() == 0 {
        return None;
    }
    let ty = q.columns.first()?.ty;
    let lo = cell_text(b.column(0), 0, ty)?;
    let hi = cell_text(b.column(1), 0, ty)?;
    Some((
        quarry_engine::datetime::parse_datetime(&lo)?,
        quarry_engine::datetime::parse_datetime(&hi)?,
    ))
}

fn summary(results: &[Ran]) {
    let run = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Alerts { .. }))
        .count();
    let skipped = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
        .count();
    let failed = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .count();
    let alerts: u64 = results
        .iter()
        .map(|r| match r.outcome {
            Outcome::Alerts { emitted, .. } => emitted,
            _ => 0,
        })
        .sum();
    eprintln!(
        "hunt summary: {run} rule(s) run, {skipped} skipped, {failed} failed, {alerts} alert(s)"
    );
    let width = results.iter().map(|r| r.id.len()).max().unwrap_or(0);
    // Counts right-aligned, so the titles after them line up.
    let digits = results
        .iter()
        .filter_map(|r| match r.outcome {
            Outcome::Alerts { emitted, .. } => Some(emitted.to_string().len()),
            _ => None,
        })
        .max()
        .unwrap_or(1);
    for r in results {
        let what = match &r.outcome {
            Outcome::Alerts { emitted, .. } => {
                format!(
                    "{emitted:>digits$} alert{}",
                    if *emitted == 1 { " " } else { "s" }
                )
            }
            Outcome::Skipped(why) => format!("skipped: {why}"),
            Outcome::Failed(why) => format!("FAILED: {}", why.lines().next().unwrap_or("")),
        };
        let title = if r.title.is_empty() {
            String::new()
        } else {
            format!("  {}", r.title)
        };
        eprintln!("  {:width$}  {:13}  {what}{title}", r.id, r.severity);
        if let Outcome::Alerts { note: Some(n), .. } = &r.outcome {
            eprintln!("  {:width$}  note: {n}", "");
        }
    }
}
