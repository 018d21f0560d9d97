//! The engine's integration tests: one binary (DataFusion link time matters).
//!
//! Most cases are data-driven `.test` files under `tests/kql/`, run by [`kql_files`]:
//!
//! ```text
//! # a comment
//! query <name> [ordered]
//! <KQL text, any number of lines>
//! ----
//! <header: name:type,...>
//! <rows, as CSV cells formatted like `quarry --format csv`>
//! <blank line ends the case>
//!
//! error <name> <CODE>
//! <KQL text>
//! ----
//! <text the error message must contain (optional)>
//! ```
//!
//! Rows are compared as a multiset unless the case says `ordered`. `now()` is fixed at
//! 2024-03-02T00:00:00Z so cases using `ago()` are reproducible.

use futures::StreamExt;
use quarry_engine::session::EngineOptions;
use quarry_engine::{Catalog, Engine, PlanOptions, QueryError};
use std::path::Path;

const NOW: &str = "2024-03-02T00:00:00Z";

struct Case {
    file: String,
    line: usize,
    name: String,
    query: String,
    expect: Expect,
}

enum Expect {
    Rows { ordered: bool, lines: Vec<String> },
    Error { code: String, contains: String },
}

fn parse_cases(file: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(file).expect("read test file");
    let lines: Vec<&str> = text.lines().collect();
    let mut cases = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        if line.is_empty() || line.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i + 1;
        let words: Vec<&str> = line.split_whitespace().collect();
        let (kind, name) = (words[0], words.get(1).copied().unwrap_or("?").to_string());
        i += 1;
        let mut query = Vec::new();
        while i < lines.len() && lines[i].trim_end() != "----" {
            query.push(lines[i]);
            i += 1;
        }
        i += 1; // ----
        let mut body = Vec::new();
        while i < lines.len() && !lines[i].trim().is_empty() {
            body.push(lines[i].trim_end().to_string());
            i += 1;
        }
        let expect = match kind {
            "query" => Expect::Rows {
                ordered: words.contains(&"ordered"),
                lines: body,
            },
            "error" => Expect::Error {
                code: words.get(2).copied().unwrap_or("").to_string(),
                contains: body.join("\n"),
            },
            other => panic!("{}:{start}: unknown case kind `{other}`", file.display()),
        };
        cases.push(Case {
            file: file.display().to_string(),
            line: start,
            name,
            query: query.join("\n"),
            expect,
        });
    }
    cases
}

fn csv_cell(s: Option<String>) -> String {
    match s {
        None => String::new(),
        Some(s) if s.contains([',', '"', '\n', '\r']) || s.is_empty() => {
            format!("\"{}\"", s.replace('"', "\"\""))
        }
        Some(s) => s,
    }
}

/// Runs a query and renders header + rows like the harness files.
pub async fn run_to_lines(engine: &Engine, query: &str) -> Result<Vec<String>, QueryError> {
    let options = PlanOptions {
        now_ns: quarry_engine::datetime::parse_datetime(NOW).unwrap(),
        params: vec![],
        ..Default::default()
    };
    let planned = engine.plan(query, &options)?;
    let q = planned.last().expect("a query statement");
    let mut out = vec![
        q.columns
            .iter()
            .map(|c| format!("{}:{}", c.name, c.ty.name()))
            .collect::<Vec<_>>()
            .join(","),
    ];
    let mut stream = engine.execute(q).await?;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(QueryError::Execution)?;
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = q
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    csv_cell(quarry_engine::format::cell_text(batch.column(i), row, c.ty))
                })
                .collect();
            out.push(cells.join(","));
        }
    }
    Ok(out)
}

fn run_case(rt: &tokio::runtime::Runtime, case: &Case) -> Result<(), String> {
    let engine =
        Engine::new(Catalog::new(), EngineOptions::default()).map_err(|e| e.to_string())?;
    let result = rt.block_on(run_to_lines(&engine, &case.query));
    match (&case.expect, result) {
        (Expect::Rows { ordered, lines }, Ok(mut got)) => {
            let mut want = lines.clone();
            if !ordered {
                let (gh, wh) = (got.remove(0), want.remove(0));
                got.sort();
                want.sort();
                got.insert(0, gh);
                want.insert(0, wh);
            }
            if got == want {
                Ok(())
            } else {
                Err(format!(
                    "expected:\n{}\ngot:\n{}",
                    want.join("\n"),
                    got.join("\n")
                ))
            }
        }
        (Expect::Rows { .. }, Err(e)) => {
            Err(format!("unexpected error: {}", render(&e, &case.query)))
        }
        (Expect::Error { code, contains }, Err(e)) => {
            let rendered = render(&e, &case.query);
            if rendered.contains(&format!("[{code}]")) && rendered.contains(contains.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "expected error {code} containing {contains:?}, got:\n{rendered}"
                ))
            }
        }
        (Expect::Error { code, .. }, Ok(got)) => Err(format!(
            "expected error {code}, got rows:\n{}",
            got.join("\n")
        )),
    }
}

fn render(e: &QueryError, query: &str) -> String {
    match e {
        QueryError::Diagnostics(d) => quarry_syntax::diagnostic::render_all(d, "query", query),
        QueryError::Execution(x) => format!(
            "error[KQL2000]: {}",
            quarry_engine::session::execution_message(x)
        ),
    }
}

#[test]
fn kql_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kql");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/kql")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let filter = std::env::var("KQL_TEST").ok();
    let mut failures = Vec::new();
    let mut count = 0;
    for f in &files {
        for case in parse_cases(f) {
            if filter
                .as_ref()
                .is_some_and(|x| !case.name.contains(x.as_str()))
            {
                continue;
            }
            count += 1;
            if let Err(msg) = run_case(&rt, &case) {
                failures.push(format!(
                    "--- {}:{} `{}`\n{}\n{}",
                    case.file, case.line, case.name, case.query, msg
                ));
            }
        }
    }
    eprintln!("{count} KQL cases run");
    assert!(count > 0, "no KQL test cases found");
    assert!(
        failures.is_empty(),
        "{} of {count} KQL cases failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Queries over a known table (an empty one: planning and execution are what is checked).
#[test]
fn plans_over_known_tables_run() {
    let mut catalog = Catalog::new();
    for t in [
        "SecurityEvent",
        "DeviceProcessEvents",
        "Syslog",
        "AuditLogs",
    ] {
        let schema = quarry_sources::schemas::known_schema(t).expect("known table");
        let mem = datafusion::datasource::MemTable::try_new(schema, vec![vec![]]).expect("table");
        catalog.register(t, std::sync::Arc::new(mem));
    }
    let engine = Engine::new(catalog, EngineOptions::default()).expect("engine");
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (q, header) in [
        // A parse capture that replaces a table column, then more parses and a filter on it
        // (reprise99's UnconstrainedDelegation hunts): the table's qualified field and the
        // capture must never meet in one plan node.
        (
            "SecurityEvent
            | parse EventData with * 'NewUacValue\">' NewUacValue '</Data>' *
            | parse EventData with * 'TargetUserName\">' ComputerName '</Data>' *
            | where NewUacValue == '0x2080'
            | project TimeGenerated, ComputerName",
            "TimeGenerated:datetime,ComputerName:string",
        ),
        // Table columns projected under their own names, then parsed into new columns
        // (Sentinel's CryptoCurrencyMiners and reprise99's Audit-ListBulkActivities hunts).
        (
            "Syslog
            | parse SyslogMessage with \"type=\" EventType \" audit(\" * \"): \" EventData
            | project TimeGenerated, EventType, Computer, EventData
            | where EventType =~ \"AUOMS_EXECVE\"
            | parse EventData with * \"user=\" user \" uid=\" uid
            | project TimeGenerated, Computer, user",
            "TimeGenerated:datetime,Computer:string,user:string",
        ),
        (
            "AuditLogs
            | project TimeGenerated, ResultDescription, OperationName
            | parse ResultDescription with * \"count:\" ['Total'] \";\" *
            | parse ResultDescription with * \"failed\" ['Failed']
            | project TimeGenerated, OperationName, ['Total'], ['Failed']",
            "TimeGenerated:datetime,OperationName:string,Total:string,Failed:string",
        ),
        // Sentinel's TimeGenerated on a Defender table.
        (
            "DeviceProcessEvents | where TimeGenerated > ago(1d) | project Timestamp, TimeGenerated",
            "Timestamp:datetime,TimeGenerated:datetime",
        ),
    ] {
        let lines = rt
            .block_on(run_to_lines(&engine, q))
            .unwrap_or_else(|e| panic!("{q}\n{}", render(&e, q)));
        assert_eq!(lines, [header], "{q}");
    }
}
