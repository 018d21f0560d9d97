//! `quarry-conformance`: how close is Quarry to Kusto?
//!
//! - `docs FILE.jsonl` runs Microsoft's documented examples (self-contained queries with their
//!   documented output) and compares results after normalising formatting only.
//! - `hunting FILE.jsonl` parses every real hunting query, and plans and runs those whose tables
//!   Quarry knows, on empty tables with the documented schemas.
//!
//! Both end with a `N passed, M failed` line; `--baseline FILE` fails the run when a number
//! falls below the one recorded there (a ratchet: coverage only goes up), and
//! `--update-baseline` rewrites it.

mod compare;
mod docs;
mod hunting;

use std::path::PathBuf;
use std::process::ExitCode;

struct Args {
    mode: String,
    file: PathBuf,
    failures: Option<PathBuf>,
    baseline: Option<PathBuf>,
    update_baseline: bool,
    exceptions: Option<PathBuf>,
    verbose: bool,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: quarry-conformance (docs|hunting) FILE.jsonl [--failures OUT.txt] \
[--exceptions FILE] [--baseline FILE [--update-baseline]] [-v]"
    );
    ExitCode::from(2)
}

fn parse_args() -> Option<Args> {
    let mut it = std::env::args().skip(1);
    let mode = it.next()?;
    let file = PathBuf::from(it.next()?);
    let mut a = Args {
        mode,
        file,
        failures: None,
        baseline: None,
        update_baseline: false,
        exceptions: None,
        verbose: false,
    };
    while let Some(x) = it.next() {
        match x.as_str() {
            "--failures" => a.failures = Some(PathBuf::from(it.next()?)),
            "--baseline" => a.baseline = Some(PathBuf::from(it.next()?)),
            "--exceptions" => a.exceptions = Some(PathBuf::from(it.next()?)),
            "--update-baseline" => a.update_baseline = true,
            "-v" | "--verbose" => a.verbose = true,
            _ => return None,
        }
    }
    Some(a)
}

/// Numbers kept in the baseline file: name → count that must not go down.
fn check_baseline(args: &Args, numbers: &[(&str, usize)]) -> bool {
    let Some(path) = &args.baseline else {
        return true;
    };
    let mut recorded: serde_json::Map<String, serde_json::Value> = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut ok = true;
    for (name, value) in numbers {
        let key = format!("{}.{}", args.mode, name);
        let before = recorded.get(&key).and_then(|v| v.as_u64()).unwrap_or(0) as usize;
        if *value < before {
            eprintln!("REGRESSION: {key} fell from {before} to {value}");
            ok = false;
        }
        if args.update_baseline && *value > before {
            recorded.insert(key, serde_json::Value::from(*value as u64));
        }
    }
    if args.update_baseline {
        let text =
            serde_json::to_string_pretty(&serde_json::Value::Object(recorded)).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("cannot write {}: {e}", path.display());
            return false;
        }
    }
    ok
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        return usage();
    };
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(16 * 1024 * 1024)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let numbers = match args.mode.as_str() {
        "docs" => runtime.block_on(docs::run(&args, &text)),
        "hunting" => runtime.block_on(hunting::run(&args, &text)),
        _ => return usage(),
    };
    // Leave the process promptly even if a runaway query is still on a worker thread.
    let ok = check_baseline(&args, &numbers);
    runtime.shutdown_background();
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
