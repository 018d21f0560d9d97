//! `hunting` mode: real hunting queries. Every query is parsed; those whose tables Quarry
//! knows (by walking the AST for table references, not the file's heuristic `tables` field)
//! and that are not refused by policy are planned and run on empty tables.

use crate::Args;
use futures::StreamExt;
use quarry_engine::session::EngineOptions;
use quarry_engine::{Catalog, Engine, PlanOptions, QueryError};
use quarry_syntax::ast::{self, ExprKind, PipeOpKind, Statement};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Functions that need a cloud service Quarry does not have: refused by policy.
const CLOUD_FUNCTIONS: &[(&str, &str)] = &[
    ("fileprofile", "needs Defender's file-reputation service"),
    ("geo_info_from_ip_address", "needs a geo-IP service"),
    ("_GetWatchlist", "needs Sentinel watchlists"),
    ("_getwatchlist", "needs Sentinel watchlists"),
    ("DeviceFromIP", "needs Defender's device inventory service"),
    (
        "AssignedIPAddresses",
        "needs Defender's device inventory service",
    ),
    ("FileProfile", "needs Defender's file-reputation service"),
    ("SeenBy", "needs Defender's device inventory service"),
    ("arg", "queries Azure Resource Graph"),
    ("workspace", "queries another Log Analytics workspace"),
    ("app", "queries an Application Insights resource"),
    ("cluster", "queries another Kusto cluster"),
    ("database", "queries another database"),
];

fn catalog() -> Catalog {
    let mut c = Catalog::new();
    for t in quarry_sources::schemas::known_tables() {
        if let Some(schema) = quarry_sources::schemas::known_schema(t)
            && let Ok(mem) = datafusion::datasource::MemTable::try_new(schema, vec![vec![]])
        {
            c.register(t, Arc::new(mem));
        }
    }
    c
}

/// Table names in source positions that are not let-bound, and policy refusals.
#[derive(Default)]
struct Refs {
    tables: HashSet<String>,
    refused: Option<String>,
}

fn walk_expr(e: &ast::Expr, source_pos: bool, lets: &HashSet<String>, r: &mut Refs) {
    match &e.kind {
        ExprKind::Name(id) if source_pos && !lets.contains(&id.name) => {
            r.tables.insert(id.name.clone());
        }
        ExprKind::Call { name, args } => {
            if let Some((_, why)) = CLOUD_FUNCTIONS.iter().find(|(f, _)| *f == name.name) {
                r.refused = Some(format!("{}: {why}", name.name));
            }
            if source_pos && !lets.contains(&name.name) && name.name != "materialize" {
                match name.name.as_str() {
                    "table" | "view" | "toscalar" => {}
                    other
                        if other.starts_with("_Im_")
                            || other.starts_with("_ASim_")
                            || other.starts_with("im")
                                && other.len() > 2
                                && other[2..].starts_with(char::is_uppercase) =>
                    {
                        r.tables.insert(format!("{other}()"));
                    }
                    _ => {}
                }
            }
            let tabular_args = matches!(name.name.as_str(), "materialize" | "toscalar" | "view");
            for a in args {
                walk_expr(&a.value, tabular_args, lets, r);
            }
        }
        ExprKind::Pipe { input, op } => {
            walk_expr(input, source_pos, lets, r);
            walk_op(op, lets, r);
        }
        ExprKind::Paren(x) => walk_expr(x, source_pos, lets, r),
        ExprKind::Union(spec) => {
            for t in &spec.tables {
                walk_expr(t, true, lets, r);
            }
        }
        ExprKind::In { operand, list, .. } | ExprKind::HasAnyAll { operand, list, .. } => {
            walk_expr(operand, false, lets, r);
            for x in list {
                walk_expr(x, false, lets, r);
            }
        }
        ExprKind::Binary { left, right, .. } => {
            walk_expr(left, false, lets, r);
            walk_expr(right, false, lets, r);
        }
        _ => {}
    }
}

fn walk_op(op: &ast::PipeOp, lets: &HashSet<String>, r: &mut Refs) {
    match &op.kind {
        PipeOpKind::Join { right, .. } => walk_expr(right, true, lets, r),
        PipeOpKind::Union(spec) => {
            for t in &spec.tables {
                walk_expr(t, true, lets, r);
            }
        }
        PipeOpKind::Where(e) => walk_expr(e, false, lets, r),
        PipeOpKind::Extend(items) | PipeOpKind::Project(items) => {
            for it in items {
                walk_expr(&it.expr, false, lets, r);
            }
        }
        PipeOpKind::Summarize { aggregates, by, .. } => {
            for it in aggregates.iter().chain(by) {
                walk_expr(&it.expr, false, lets, r);
            }
        }
        _ => {}
    }
}

fn references(script: &ast::Script) -> Refs {
    let mut r = Refs::default();
    let mut lets = HashSet::new();
    for s in &script.statements {
        match s {
            Statement::Let(l) => {
                match &l.value {
                    ast::LetValue::Expr(e) => walk_expr(e, true, &lets, &mut r),
                    ast::LetValue::Function(f) | ast::LetValue::View(f) => {
                        let mut inner = lets.clone();
                        for p in &f.params {
                            inner.insert(p.name.name.clone());
                        }
                        for bl in &f.body_lets {
                            inner.insert(bl.name.name.clone());
                        }
                        walk_expr(&f.body, true, &inner, &mut r);
                    }
                }
                lets.insert(l.name.name.clone());
            }
            Statement::Query(e) => walk_expr(e, true, &lets, &mut r),
            Statement::Set { .. } => {}
        }
    }
    if r.refused.is_none() {
        // The walk above looks only where tables are named; calls and externaldata can sit in
        // any operator (`invoke FileProfile()`, `join (externaldata ...)`), so look at the
        // whole tree through its dump.
        let dump = quarry_syntax::dump_script(script);
        if dump.contains("(externaldata ") && dump.contains("://") {
            r.refused = Some(
                "externaldata: fetches storage URLs (Quarry runs offline; bind a local copy)"
                    .into(),
            );
        } else if let Some((f, why)) = CLOUD_FUNCTIONS.iter().find(|(f, _)| {
            dump.contains(&format!("(call {f} ")) || dump.contains(&format!("(call {f})"))
        }) {
            r.refused = Some(format!("{f}: {why}"));
        }
    }
    r
}

/// The query text under a diagnostic's span, on one line and cut short, for the failures file.
fn snippet(query: &str, span: quarry_syntax::Span) -> String {
    let (a, b) = (span.start as usize, span.end as usize);
    let text = query.get(a..b.max(a)).unwrap_or("");
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(80).collect()
}

async fn plan_and_run(engine: Arc<Engine>, query: String) -> Result<(), (String, String)> {
    let options = PlanOptions {
        now_ns: 1_709_337_600_000_000_000,
        params: vec![],
        ..Default::default()
    };
    let planned = match engine.plan(&query, &options) {
        Ok(p) => p,
        Err(QueryError::Diagnostics(d)) => {
            let first = d
                .first()
                .map(|d| {
                    (
                        format!("plan {}", d.code),
                        format!("{}\tat: {}", d.message, snippet(&query, d.span)),
                    )
                })
                .unwrap_or_default();
            return Err(first);
        }
        Err(e) => return Err(("plan".into(), e.to_string())),
    };
    for q in &planned {
        let mut stream = engine
            .execute(q)
            .await
            .map_err(|e| ("run".to_string(), e.to_string()))?;
        while let Some(b) = stream.next().await {
            b.map_err(|e| {
                (
                    "run".to_string(),
                    quarry_engine::session::execution_message(&e),
                )
            })?;
        }
    }
    Ok(())
}

/// A failure message with names kept (they say what to build) but long tails cut.
fn kind_of(stage: &str, message: &str) -> String {
    let m: String = message
        .lines()
        .next()
        .unwrap_or("")
        .split('\t')
        .next()
        .unwrap_or("")
        .chars()
        .take(90)
        .collect();
    format!("{stage}: {m}")
}

pub async fn run(args: &Args, text: &str) -> Vec<(&'static str, usize)> {
    let engine = match Engine::new(catalog(), EngineOptions::default()) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            eprintln!("engine: {e}");
            return vec![];
        }
    };
    let known: HashSet<&str> = quarry_sources::schemas::known_tables()
        .into_iter()
        .collect();
    let (mut total, mut parsed, mut considered, mut ran, mut refused, mut unknown_tables) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut parse_kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    let mut missing_tables: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for line in text.lines() {
        let Ok(rec) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        total += 1;
        let id = rec["id"].as_str().unwrap_or("?").to_string();
        let query = rec["query"].as_str().unwrap_or("").to_string();
        let q2 = query.clone();
        let parse = std::panic::catch_unwind(move || quarry_syntax::parse(&q2));
        let Ok(result) = parse else {
            *parse_kinds.entry("parser panic".into()).or_default() += 1;
            failures.push(format!("{id}\tparse\tpanic"));
            continue;
        };
        if let Some(d) = result.diagnostics.first() {
            let k: String = d.message.chars().take(80).collect();
            *parse_kinds.entry(format!("{} {k}", d.code)).or_default() += 1;
            failures.push(format!(
                "{id}\tparse\t{}: {}\tat: {}",
                d.code,
                d.message,
                snippet(&query, d.span)
            ));
            continue;
        }
        parsed += 1;
        let refs = references(&result.script);
        if let Some(why) = refs.refused {
            refused += 1;
            *refusals.entry(why).or_default() += 1;
            continue;
        }
        let unknown: Vec<&String> = refs
            .tables
            .iter()
            .filter(|t| !known.contains(t.as_str()))
            .collect();
        if !unknown.is_empty() {
            unknown_tables += 1;
            for t in unknown {
                *missing_tables.entry(t.clone()).or_default() += 1;
            }
            continue;
        }
        considered += 1;
        let handle = tokio::spawn(tokio::time::timeout(
            Duration::from_secs(20),
            plan_and_run(engine.clone(), query),
        ));
        match handle.await {
            Ok(Ok(Ok(()))) => ran += 1,
            Ok(Ok(Err((stage, msg)))) => {
                *kinds.entry(kind_of(&stage, &msg)).or_default() += 1;
                if args.verbose {
                    eprintln!("FAIL {id}: {stage}: {msg}");
                }
                failures.push(format!("{id}\t{stage}\t{msg}"));
            }
            Ok(Err(_)) => {
                *kinds.entry("timeout".into()).or_default() += 1;
                failures.push(format!("{id}\trun\ttimeout"));
            }
            Err(_) => {
                *kinds.entry("panic".into()).or_default() += 1;
                failures.push(format!("{id}\trun\tpanic"));
            }
        }
    }
    let top = |m: BTreeMap<String, usize>, n: usize| {
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    };
    println!("hunting queries: {total}");
    println!(
        "  parsed:   {parsed} ({:.1}%)",
        100.0 * parsed as f64 / total.max(1) as f64
    );
    println!("  refused by policy: {refused}");
    println!("  reading tables Quarry does not know: {unknown_tables}");
    println!(
        "  known tables, not refused: {considered}; planned and ran: {ran} ({:.1}%)",
        100.0 * ran as f64 / considered.max(1) as f64
    );
    println!("top parse failures:");
    for (k, n) in top(parse_kinds, 10) {
        println!("  {n:>4}  {k}");
    }
    println!("top 20 plan/run failure kinds:");
    for (k, n) in top(kinds, 20) {
        println!("  {n:>4}  {k}");
    }
    println!("refusals:");
    for (k, n) in top(refusals, 10) {
        println!("  {n:>4}  {k}");
    }
    println!("most wanted unknown tables:");
    for (k, n) in top(missing_tables, 10) {
        println!("  {n:>4}  {k}");
    }
    if let Some(path) = &args.failures {
        let _ = std::fs::write(path, failures.join("\n") + "\n");
        println!("failures written to {}", path.display());
    }
    println!("{ran} passed, {} failed", considered - ran);
    vec![("parsed", parsed), ("ran", ran)]
}
