//! `quarry`: run KQL hunting queries over log files.

mod hunt;
mod lint;
mod reading;
mod render;

use clap::{Args, Parser, Subcommand};
use futures::StreamExt;
use quarry_engine::session::{EngineOptions, execution_message};
use quarry_engine::{Catalog, Engine, PlanOptions, QueryError};
use quarry_sources::{ReadOptions, SkipReport};
use render::{OutputFormat, ResultWriter};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "quarry",
    version,
    about = "Run KQL (Kusto) hunting queries over your own log files, offline.",
    long_about = "Quarry runs the hunting queries written for Microsoft Sentinel and Defender \
Advanced Hunting, unchanged, over exported logs: CSV, JSON/JSONL (Advanced Hunting API, \
streaming-API envelopes) and Parquet."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a KQL query over tables bound to files.
    #[command(after_help = "EXAMPLES:
  quarry query -f rules/service-account-interactive-logon.kql \\
      --table DeviceLogonEvents=examples/DeviceLogonEvents.csv
  quarry query 'DeviceLogonEvents | summarize count() by ActionType' \\
      --table DeviceLogonEvents=exports/ --format csv --output counts.csv
  quarry query -f hunt.kql --table DeviceLogonEvents=logs/*.jsonl \\
      --param ServiceAccountPatterns='[\"svc_\",\"sa_\"]' --now 2024-03-02T00:00:00Z")]
    Query(QueryArgs),
    /// Check rule and query files for likely mistakes (codes QL0001..., see docs/lint/).
    #[command(after_help = "EXAMPLES:
  quarry lint rules/ ../hunts/suspicious.kql
  quarry lint --format json rules/ > findings.json    # exit status 1 when anything is found")]
    Lint(lint::LintArgs),
    /// Run a pack of rules (built-in, or --rules DIR|FILE) over bound tables and emit alerts.
    #[command(after_help = "EXAMPLES:
  quarry hunt --table DeviceLogonEvents=exports/ --since 2024-03-01 --until 2024-03-08
  quarry hunt --rules my-rules/ --table SecurityEvent=evtx/ --table DeviceLogonEvents=ah.jsonl \\
      --param ServiceAccountPatterns='[\"svc_\",\"adm_\"]' --format ndjson --output alerts.ndjson")]
    Hunt(hunt::HuntArgs),
    /// List the known tables (their columns get their documented types from any format).
    Tables,
    /// Show the columns and types of a known table.
    Schema {
        /// The table name (exact case), e.g. SecurityEvent.
        table: String,
    },
}

#[derive(Args)]
struct QueryArgs {
    /// The query text (or use -f FILE).
    #[arg(conflicts_with = "file")]
    query: Option<String>,
    /// Read the query from a file ('-' for standard input).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Bind a table to files: NAME=PATH, where PATH is a file, a directory (read
    /// recursively) or a glob. Repeat for several tables or several paths of one table.
    #[arg(short = 't', long = "table", value_name = "NAME=PATH")]
    tables: Vec<String>,
    /// Override a top-level `let` of the query: NAME=VALUE (a KQL literal; strings may be bare).
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// What now() and ago() mean (ISO 8601, UTC), for hunts over old evidence.
    #[arg(long, value_name = "DATETIME")]
    now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Write results to this file instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Skip malformed rows (bad CSV records, invalid JSON lines, unparseable values) instead of
    /// failing; a count per file and kind is printed on stderr at the end.
    #[arg(long)]
    skip_bad_rows: bool,
    /// Read only rows whose time column (TimeGenerated, else Timestamp) is at or after this
    /// datetime (ISO 8601, UTC). Windows event files skip older events before building rows.
    #[arg(long, value_name = "DATETIME")]
    since: Option<String>,
    /// Read only rows whose time column is before this datetime (exclusive).
    #[arg(long, value_name = "DATETIME")]
    until: Option<String>,
    /// Print per-file statistics on stderr at the end: rows, skipped rows, reader time, MB/s.
    #[arg(long)]
    stats: bool,
    /// Do not draw the progress bar (it is drawn only when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
    /// Do not print lint warnings (QL codes) about the query before running it.
    #[arg(long)]
    no_lint: bool,
    /// Let `externaldata` read local files under this directory (repeatable). URLs are
    /// always refused: Quarry works offline.
    #[arg(long, value_name = "DIR")]
    allow_externaldata: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Deeply nested queries recurse in the planner and optimiser: give workers room.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(16 * 1024 * 1024)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match cli.command {
        Command::Query(args) => runtime.block_on(run_query(args)),
        Command::Lint(args) => lint::run(args),
        Command::Hunt(args) => runtime.block_on(hunt::run(args)),
        Command::Tables => {
            for t in quarry_sources::schemas::known_tables() {
                let n = quarry_sources::schemas::known_schema(t).map_or(0, |s| s.fields().len());
                let from = if quarry_sources::windows::WinTable::from_name(t).is_some() {
                    "CSV/JSON/Parquet exports; Windows events (.evtx, Mordor/Winlogbeat/Sentinel JSON)"
                } else {
                    "CSV/JSON/Parquet exports"
                };
                println!("{t}\t{n} columns\t{from}");
            }
            ExitCode::SUCCESS
        }
        Command::Schema { table } => match quarry_sources::schemas::known_schema(&table) {
            Some(s) => {
                for f in s.fields() {
                    println!(
                        "{}:{}",
                        f.name(),
                        quarry_sources::types::kql_type_of(f).name()
                    );
                }
                ExitCode::SUCCESS
            }
            None => {
                let known = quarry_sources::schemas::known_tables();
                match quarry_engine::suggest::closest(&table, known.iter().copied()) {
                    Some(c) => fail(format!(
                        "unknown table {table}: did you mean {c}? (`quarry tables` lists them)"
                    )),
                    None => fail(format!(
                        "unknown table {table} (known: {})",
                        known.join(", ")
                    )),
                }
            }
        },
    }
}

/// Prints an error and returns the failure exit code.
fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}

async fn run_query(args: QueryArgs) -> ExitCode {
    // The query text and the name diagnostics show for it.
    let (source_name, text) = match (&args.query, &args.file) {
        (Some(q), None) => ("<query>".to_string(), q.clone()),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut s = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut s) {
                return fail(format!("cannot read the query from standard input: {e}"));
            }
            ("<stdin>".to_string(), s)
        }
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(s) => (path.display().to_string(), s),
            Err(e) => return fail(format!("cannot read query file {}: {e}", path.display())),
        },
        _ => return fail("give a query, or a query file with -f FILE (see quarry query --help)"),
    };

    let now_ns = match &args.now {
        Some(t) => match quarry_engine::datetime::parse_datetime(t) {
            Some(ns) => ns,
            None => {
                return fail(format!(
                    "--now {t}: not a datetime (use ISO 8601, e.g. 2024-03-02T00:00:00Z)"
                ));
            }
        },
        None => chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0),
    };
    let mut params = Vec::new();
    for p in &args.params {
        match p.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                params.push((name.trim().to_string(), value.to_string()))
            }
            _ => return fail(format!("--param {p}: expected NAME=VALUE")),
        }
    }

    let time_window = match reading::parse_window(&args.since, &args.until) {
        Ok(w) => w,
        Err(e) => return fail(e),
    };
    let bindings = match reading::parse_bindings(&args.tables) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let report = SkipReport::new();
    let read_options = ReadOptions {
        skip_bad_rows: args.skip_bad_rows,
        time_window,
    };
    let mut catalog = Catalog::new();
    let mut files = Vec::new();
    // (table, its time column), for the note on `ago()` over old evidence.
    let mut time_columns: Vec<(String, String)> = Vec::new();
    for (name, paths) in &bindings {
        match quarry_sources::bind_table(name, paths, &read_options, report.clone()) {
            Ok(bound) => {
                for note in &bound.notes {
                    eprintln!("note: {note}");
                }
                files.extend(bound.files.iter().cloned());
                if let Some(col) = ["TimeGenerated", "Timestamp"]
                    .into_iter()
                    .find(|c| bound.schema.field_with_name(c).is_ok())
                {
                    time_columns.push((name.clone(), col.to_string()));
                }
                catalog.register(name, bound.provider);
            }
            Err(e) => return fail(format!("--table {name}: {e}")),
        }
    }

    let engine = match Engine::new(catalog, EngineOptions::default()) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let options = PlanOptions {
        now_ns,
        params,
        externaldata_roots: args.allow_externaldata.clone(),
    };
    if !args.no_lint {
        lint::print_query_warnings(&source_name, &text);
    }
    let planned = match engine.plan(&text, &options) {
        Ok(p) => p,
        Err(QueryError::Diagnostics(diags)) => {
            eprint!(
                "{}",
                quarry_syntax::diagnostic::render_all(&diags, &source_name, &text)
            );
            return ExitCode::from(1);
        }
        Err(e) => return fail(e),
    };
    if planned.is_empty() {
        return fail("the query has no query statement (only `let`s?)");
    }

    let progress = reading::ProgressDisplay::start(&report, &files, !args.no_progress);
    let (status, last_rows) = write_results(&engine, &planned, &args).await;
    progress.finish();
    reading::print_report(&report, args.stats);
    // A query that counts back from the wall clock over old evidence finds nothing: say so,
    // rather than let an empty (or all-zero) answer look like a clean bill of health.
    if args.now.is_none() && last_rows <= 1 && uses_wall_clock(&text) {
        old_evidence_note(&engine, &time_columns, now_ns).await;
    }
    status
}

/// Whether the query calls `ago()` or `now()` (outside comments and strings).
fn uses_wall_clock(text: &str) -> bool {
    let lexed = quarry_syntax::lexer::lex(text);
    lexed.tokens.windows(2).any(|w| {
        matches!(&w[0].kind, quarry_syntax::lexer::TokenKind::Ident(n) if n == "ago" || n == "now")
            && matches!(w[1].kind, quarry_syntax::lexer::TokenKind::LParen)
    })
}

/// Notes each bound table whose newest row is more than a day older than `now()`.
async fn old_evidence_note(engine: &Engine, time_columns: &[(String, String)], now_ns: i64) {
    const DAY_NS: i64 = 86_400_000_000_000;
    for (table, col) in time_columns {
        if let Some((lo, hi)) = hunt::data_range(engine, table, col).await
            && hi < now_ns - DAY_NS
        {
            let next_day = (hi / DAY_NS + 1) * DAY_NS;
            eprintln!(
                "note: the query uses ago()/now(), which count back from the wall clock ({}), \
                 but {table}'s {col} spans {} .. {}: to hunt over that evidence, add --now {}",
                quarry_rules::window::iso(now_ns - now_ns.rem_euclid(1_000_000_000)),
                quarry_rules::window::iso(lo),
                quarry_rules::window::iso(hi),
                quarry_rules::window::iso(next_day)
            );
        }
    }
}

/// Runs each planned statement and writes its results; stops at the first failure.
/// Also returns the number of rows of the last statement.
async fn write_results(
    engine: &Engine,
    planned: &[quarry_engine::PlannedQuery],
    args: &QueryArgs,
) -> (ExitCode, usize) {
    let mut status = ExitCode::SUCCESS;
    let mut rows = 0usize;
    for (i, q) in planned.iter().enumerate() {
        rows = 0;
        let mut out: Box<dyn Write> = match &args.output {
            Some(path) if i == 0 => match std::fs::File::create(path) {
                Ok(f) => Box::new(f),
                Err(e) => return (fail(format!("cannot create {}: {e}", path.display())), rows),
            },
            Some(path) => match std::fs::OpenOptions::new().append(true).open(path) {
                Ok(f) => Box::new(f),
                Err(e) => return (fail(format!("cannot open {}: {e}", path.display())), rows),
            },
            None => Box::new(std::io::stdout()),
        };
        // Several result tables (several statements, `fork`, `facet`): a blank line between
        // tables keeps them apart in table and CSV output.
        if i > 0
            && matches!(args.format, OutputFormat::Table | OutputFormat::Csv)
            && writeln!(out).is_err()
        {
            return (ExitCode::SUCCESS, rows);
        }
        let columns = q.columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
        let mut writer = ResultWriter::new(args.format, columns, out);
        let mut stream = match engine.execute(q).await {
            Ok(s) => s,
            Err(e) => {
                status = fail(e);
                break;
            }
        };
        let mut failed = false;
        while let Some(batch) = stream.next().await {
            match batch {
                Ok(b) => {
                    rows += b.num_rows();
                    if let Err(e) = writer.write_batch(&b) {
                        if e.kind() == std::io::ErrorKind::BrokenPipe {
                            return (ExitCode::SUCCESS, rows);
                        }
                        status = fail(format!("cannot write results: {e}"));
                        failed = true;
                        break;
                    }
                }
                Err(e) => {
                    status = fail(execution_message(&e));
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            break;
        }
        if let Err(e) = writer.finish()
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            status = fail(format!("cannot write results: {e}"));
            break;
        }
    }

    (status, rows)
}
