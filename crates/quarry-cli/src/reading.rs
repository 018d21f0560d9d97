//! What `query` and `hunt` share about reading input: `--table NAME=PATH` bindings, datetime
//! flags, the progress bar on a terminal, and the end-of-run report (skipped rows, notes,
//! `--stats`).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quarry_sources::{BadRowKind, SkipReport};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `--table NAME=PATH` arguments grouped by table, in the order given.
pub fn parse_bindings(tables: &[String]) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut bindings: Vec<(String, Vec<String>)> = Vec::new();
    for t in tables {
        let Some((name, path)) = t.split_once('=') else {
            return Err(format!("--table {t}: expected NAME=PATH"));
        };
        let (name, path) = (name.trim(), path.trim());
        if name.is_empty() || path.is_empty() {
            return Err(format!("--table {t}: expected NAME=PATH"));
        }
        match bindings.iter_mut().find(|(n, _)| n == name) {
            Some((_, paths)) => paths.push(path.to_string()),
            None => {
                if let Some(note) = unknown_table_note(name) {
                    eprintln!("note: {note}");
                }
                bindings.push((name.to_string(), vec![path.to_string()]))
            }
        }
    }
    Ok(bindings)
}

/// A note for a bound name that is not a known table but looks like one (a typo, or the wrong
/// case: table names are case-sensitive), since the query will then not find the known table.
fn unknown_table_note(name: &str) -> Option<String> {
    let known = quarry_sources::schemas::known_tables();
    if known.contains(&name) {
        return None;
    }
    let close = quarry_engine::suggest::closest(name, known.iter().copied())?;
    Some(format!(
        "--table {name}: not a known table (names are case-sensitive); did you mean {close}? \
         Its columns are inferred from the files"
    ))
}

/// A datetime flag (`--since`, `--until`, `--now`) in ns since the epoch.
pub fn parse_time(flag: &str, t: &Option<String>) -> Result<Option<i64>, String> {
    match t {
        None => Ok(None),
        Some(t) => quarry_engine::datetime::parse_datetime(t)
            .map(Some)
            .ok_or_else(|| {
                format!("{flag} {t}: not a datetime (use ISO 8601, e.g. 2024-03-02T00:00:00Z)")
            }),
    }
}

/// `--since`/`--until` checked against each other.
pub fn parse_window(
    since: &Option<String>,
    until: &Option<String>,
) -> Result<quarry_sources::TimeWindow, String> {
    let since_ns = parse_time("--since", since)?;
    let until_ns = parse_time("--until", until)?;
    if let (Some(s), Some(u)) = (since_ns, until_ns)
        && s >= u
    {
        return Err(format!(
            "--since {} is not before --until {}",
            quarry_rules::window::iso(s),
            quarry_rules::window::iso(u)
        ));
    }
    Ok(quarry_sources::TimeWindow { since_ns, until_ns })
}

/// A progress bar on stderr while files are read: bytes of file parts done against the total,
/// files, rows and MB/s. Drawn only when stderr is a terminal; otherwise nothing is printed.
pub struct ProgressDisplay {
    bar: Option<ProgressBar>,
    stop: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl ProgressDisplay {
    /// Starts the display for reading `files` (a file feeding two tables counts twice).
    pub fn start(report: &Arc<SkipReport>, files: &[PathBuf], enabled: bool) -> ProgressDisplay {
        let stop = Arc::new(AtomicBool::new(false));
        if !enabled || !std::io::stderr().is_terminal() || files.is_empty() {
            return ProgressDisplay {
                bar: None,
                stop,
                ticker: None,
            };
        }
        let total: u64 = files
            .iter()
            .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
            .sum();
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let (report, t_bar, t_stop) = (report.clone(), bar.clone(), stop.clone());
        let file_count = files.len();
        let started = Instant::now();
        let ticker = std::thread::spawn(move || {
            while !t_stop.load(Ordering::Relaxed) {
                let p = report.progress();
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                t_bar.set_position(p.bytes_done.min(total));
                t_bar.set_message(format!(
                    "| {} record(s) | {:.1} MB/s | parts done {} of {file_count}+ file(s)",
                    p.rows,
                    p.bytes_done as f64 / 1e6 / secs,
                    p.parts_done
                ));
                std::thread::sleep(Duration::from_millis(150));
            }
        });
        ProgressDisplay {
            bar: Some(bar),
            stop,
            ticker: Some(ticker),
        }
    }

    /// Removes the bar (before results or the summary are printed).
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// Prints what reading left to say: notes, skipped rows per file and kind, and with `stats`
/// one line per (table, file) with rows, skipped rows, reader time (summed over the threads
/// that read it) and throughput over that time.
pub fn print_report(report: &SkipReport, stats: bool) {
    for note in report.notes() {
        eprintln!("note: {note}");
    }
    for s in report.summary() {
        if s.kind == BadRowKind::BadEvent {
            // Where: in the notes (chunk, record or line).
            eprintln!("skipped {} {}(s) in {}", s.count, s.kind, s.file.display());
            continue;
        }
        eprintln!(
            "skipped {} {} row(s) in {} (first at line {})",
            s.count,
            s.kind,
            s.file.display(),
            s.first_line
        );
    }
    if report.total() > 0 {
        eprintln!("skipped {} bad row(s) in total", report.total());
    }
    if stats {
        let all = report.file_stats();
        eprintln!("stats: table\tfile\trows\tskipped\tscans\tbusy_s\tMB/s\trows/s");
        let (mut rows, mut bytes, mut busy) = (0u64, 0u64, 0f64);
        for f in &all {
            let secs = f.busy.as_secs_f64();
            rows += f.rows;
            bytes += f.bytes;
            busy += secs;
            eprintln!(
                "stats: {}\t{}\t{}\t{}\t{}\t{:.3}\t{:.1}\t{:.0}",
                f.table,
                f.file.display(),
                f.rows,
                f.skipped,
                f.scans,
                secs,
                rate(f.bytes as f64 / 1e6, secs),
                rate(f.rows as f64, secs),
            );
        }
        eprintln!(
            "stats: total\t{} file scan(s)\t{rows}\t{}\t-\t{busy:.3}\t{:.1}\t{:.0}",
            all.len(),
            report.total(),
            rate(bytes as f64 / 1e6, busy),
            rate(rows as f64, busy),
        );
    }
}

/// `amount / secs`, 0 for an instant.
fn rate(amount: f64, secs: f64) -> f64 {
    if secs > 0.0 { amount / secs } else { 0.0 }
}
