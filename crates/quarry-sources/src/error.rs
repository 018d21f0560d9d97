//! Errors, read options and the shared report of skipped rows.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How files are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Skip (and count in the [`SkipReport`]) malformed rows instead of failing the scan.
    pub skip_bad_rows: bool,
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
    counts: BTreeMap<(PathBuf, BadRowKind), (u64, u64)>,
    notes: Vec<String>,
}

/// Shared, thread-safe counts of skipped rows per (file, kind), plus free-form notes
/// (for example records of other tables ignored in a mixed streaming file).
#[derive(Debug, Default)]
pub struct SkipReport {
    state: Mutex<SkipState>,
}

impl SkipReport {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SkipState> {
        // A poisoned lock only means another reader panicked; the counts are still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Count one skipped row.
    pub fn record(&self, file: &Path, kind: BadRowKind, line: u64) {
        let mut st = self.lock();
        let e = st
            .counts
            .entry((file.to_path_buf(), kind))
            .or_insert((0, line));
        e.0 += 1;
        e.1 = e.1.min(line);
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
            .map(|((file, kind), (count, first_line))| SkipCount {
                file: file.clone(),
                kind: *kind,
                count: *count,
                first_line: *first_line,
            })
            .collect()
    }

    /// Notes added while reading.
    pub fn notes(&self) -> Vec<String> {
        self.lock().notes.clone()
    }

    /// Total number of skipped rows.
    pub fn total(&self) -> u64 {
        self.lock().counts.values().map(|(c, _)| c).sum()
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
