//! Errors, read options and the shared report of a run's reading: skipped rows, notes, and
//! per-file statistics (for `--stats` and the progress bar).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How files are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Skip (and count in the [`SkipReport`]) malformed rows instead of failing the scan.
    pub skip_bad_rows: bool,
    /// Only rows whose time column (`TimeGenerated`, else `Timestamp`) lies in the window are
    /// read: the command line's `--since`/`--until`.
    pub time_window: TimeWindow,
}

/// A time window on a table's time column: `since` inclusive, `until` exclusive (ns since the
/// epoch). Rows whose time is null are outside any bounded window, as they are for
/// `where Timestamp >= since`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindow {
    pub since_ns: Option<i64>,
    pub until_ns: Option<i64>,
}

impl TimeWindow {
    pub fn is_bounded(&self) -> bool {
        self.since_ns.is_some() || self.until_ns.is_some()
    }

    /// The window as inclusive bounds.
    pub fn inclusive(&self) -> (i64, i64) {
        (
            self.since_ns.unwrap_or(i64::MIN),
            self.until_ns.map_or(i64::MAX, |u| u.saturating_sub(1)),
        )
    }
}

/// What was read from one file for one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStats {
    pub table: String,
    pub file: PathBuf,
    /// Rows the reader built (after time pruning, before the query's own filters).
    pub rows: u64,
    /// Rows skipped as malformed (with the skip-bad-rows option).
    pub skipped: u64,
    /// How many times the file was scanned (a query may read a table more than once).
    pub scans: u64,
    /// Time spent reading, summed over the reader threads.
    pub busy: Duration,
    pub bytes: u64,
}

/// Live totals for a progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub rows: u64,
    /// Bytes of the file parts finished so far.
    pub bytes_done: u64,
    pub parts_done: u64,
}

/// The kind of a malformed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BadRowKind {
    /// A CSV record with more or fewer fields than the header.
    WrongFieldCount,
    /// A CSV record whose quoting is broken (an unbalanced quote swallowed line ends).
    BrokenQuoting,
    /// A JSON line or document that does not parse, or is not a row object.
    InvalidJson,
    /// A datetime value that cannot be parsed.
    BadTimestamp,
    /// Any other value that cannot be converted to its column's type.
    BadValue,
    /// A Windows event that cannot be read: a corrupt EVTX chunk or record, or a JSON line that
    /// is not an event in a known layout. The count's "line" is the record id, chunk number or
    /// line; the notes say which.
    BadEvent,
}

impl fmt::Display for BadRowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BadRowKind::WrongFieldCount => "wrong number of fields",
            BadRowKind::BrokenQuoting => "broken quoting",
            BadRowKind::InvalidJson => "invalid JSON",
            BadRowKind::BadTimestamp => "unparseable datetime",
            BadRowKind::BadValue => "value not convertible to the column type",
            BadRowKind::BadEvent => "unreadable Windows event",
        })
    }
}

/// Skipped rows of one kind in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipCount {
    pub file: PathBuf,
    pub kind: BadRowKind,
    pub count: u64,
    /// Line (1-based) of the first skipped row of this kind.
    pub first_line: u64,
}

#[derive(Debug, Default)]
struct SkipState {
    /// The distinct skipped lines per (file, kind): a file scanned several times (one scan per
    /// rule of a hunt, a self-join) still counts each bad row once.
    counts: BTreeMap<(PathBuf, BadRowKind), BTreeSet<u64>>,
    notes: Vec<String>,
    stats: BTreeMap<(String, PathBuf), FileStats>,
}

/// Shared, thread-safe counts of skipped rows per (file, kind), free-form notes (for example
/// records of other tables ignored in a mixed streaming file), and what each file gave.
#[derive(Debug, Default)]
pub struct SkipReport {
    state: Mutex<SkipState>,
    live_rows: AtomicU64,
    live_bytes: AtomicU64,
    live_parts: AtomicU64,
}

impl SkipReport {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SkipState> {
        // A poisoned lock only means another reader panicked; the counts are still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Count one skipped row (once, however many times its file is scanned).
    pub fn record(&self, file: &Path, kind: BadRowKind, line: u64) {
        let mut st = self.lock();
        st.counts
            .entry((file.to_path_buf(), kind))
            .or_default()
            .insert(line);
    }

    /// Add a note (deduplicated).
    pub fn note(&self, note: impl Into<String>) {
        let note = note.into();
        let mut st = self.lock();
        if !st.notes.contains(&note) {
            st.notes.push(note);
        }
    }

    /// Counts per (file, kind), ordered by file then kind.
    pub fn summary(&self) -> Vec<SkipCount> {
        self.lock()
            .counts
            .iter()
            .map(|((file, kind), lines)| SkipCount {
                file: file.clone(),
                kind: *kind,
                count: lines.len() as u64,
                first_line: lines.first().copied().unwrap_or(0),
            })
            .collect()
    }

    /// Notes added while reading.
    pub fn notes(&self) -> Vec<String> {
        self.lock().notes.clone()
    }

    /// Total number of skipped rows.
    pub fn total(&self) -> u64 {
        self.lock().counts.values().map(|l| l.len() as u64).sum()
    }

    /// Rows built so far by a reader (cheap; called per batch).
    pub fn add_rows(&self, rows: u64) {
        self.live_rows.fetch_add(rows, Ordering::Relaxed);
    }

    /// One scan of (part of) a file ended: `bytes` of it were read, giving `rows`.
    pub fn finish_part(&self, table: &str, file: &Path, rows: u64, busy: Duration, bytes: u64) {
        self.live_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.live_parts.fetch_add(1, Ordering::Relaxed);
        let mut st = self.lock();
        let e = st
            .stats
            .entry((table.to_string(), file.to_path_buf()))
            .or_insert_with(|| FileStats {
                table: table.to_string(),
                file: file.to_path_buf(),
                ..FileStats::default()
            });
        e.rows += rows;
        e.busy += busy;
        e.bytes += bytes;
        e.scans += 1;
    }

    /// Per (table, file) statistics, with skipped counts filled in, ordered by table then file.
    pub fn file_stats(&self) -> Vec<FileStats> {
        let st = self.lock();
        st.stats
            .values()
            .map(|f| {
                let skipped = st
                    .counts
                    .iter()
                    .filter(|((p, _), _)| *p == f.file)
                    .map(|(_, lines)| lines.len() as u64)
                    .sum();
                FileStats {
                    skipped,
                    ..f.clone()
                }
            })
            .collect()
    }

    /// Live totals, for a progress display.
    pub fn progress(&self) -> Progress {
        Progress {
            rows: self.live_rows.load(Ordering::Relaxed),
            bytes_done: self.live_bytes.load(Ordering::Relaxed),
            parts_done: self.live_parts.load(Ordering::Relaxed),
        }
    }
}

/// An error reading a source, naming the file and line when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub file: Option<PathBuf>,
    pub line: Option<u64>,
    pub message: String,
}

impl SourceError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            file: None,
            line: None,
            message: message.into(),
        }
    }

    pub fn at(file: &Path, line: Option<u64>, message: impl Into<String>) -> Self {
        Self {
            file: Some(file.to_path_buf()),
            line,
            message: message.into(),
        }
    }

    pub(crate) fn io(file: &Path, e: &std::io::Error) -> Self {
        Self::at(file, None, format!("cannot read: {e}"))
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(p), Some(l)) => write!(f, "{}:{}: {}", p.display(), l, self.message),
            (Some(p), None) => write!(f, "{}: {}", p.display(), self.message),
            (None, Some(l)) => write!(f, "line {}: {}", l, self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for SourceError {}
