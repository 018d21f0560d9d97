//! Binding a table name to files: path expansion, recognition, schema union.

use crate::error::{ReadOptions, SkipReport, SourceError};
use crate::exec::{FileEntry, FileTable};
use crate::format::{Format, Sniffed, sniff};
use crate::schemas::known_schema;
use crate::types::{ScalarType, field, kql_type_of};
use crate::values::unify;
use crate::windows::{self, WinTable};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A table bound to files.
#[derive(Debug, Clone)]
pub struct BoundTable {
    pub provider: Arc<dyn TableProvider>,
    pub schema: SchemaRef,
    /// One note per file skipped or worth mentioning (never silent).
    pub notes: Vec<String>,
    /// The files that feed the table, in reading order.
    pub files: Vec<PathBuf>,
}

const MAX_DEPTH: usize = 64;

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    if depth > MAX_DEPTH {
        return Err(SourceError::at(
            dir,
            None,
            "directories nested too deeply (link loop?)",
        ));
    }
    let rd = std::fs::read_dir(dir).map_err(|e| SourceError::io(dir, &e))?;
    let mut entries: Vec<PathBuf> = Vec::new();
    for e in rd {
        entries.push(e.map_err(|e| SourceError::io(dir, &e))?.path());
    }
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, depth + 1, out)?;
        } else if p.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

fn has_glob_chars(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Expands the paths: (file, named explicitly).
fn expand(paths: &[String]) -> Result<Vec<(PathBuf, bool)>, SourceError> {
    let mut out = Vec::new();
    for p in paths {
        let path = Path::new(p);
        if path.is_dir() {
            let mut files = Vec::new();
            walk(path, 0, &mut files)?;
            if files.is_empty() {
                return Err(SourceError::at(path, None, "directory contains no files"));
            }
            out.extend(files.into_iter().map(|f| (f, false)));
        } else if path.is_file() {
            out.push((path.to_path_buf(), true));
        } else if path.exists() {
            return Err(SourceError::at(
                path,
                None,
                "not a regular file or directory",
            ));
        } else if has_glob_chars(p) {
            let matches = glob::glob(p)
                .map_err(|e| SourceError::new(format!("{p}: invalid glob pattern: {e}")))?;
            let mut any = false;
            for m in matches {
                let m = m.map_err(|e| SourceError::at(e.path(), None, e.error().to_string()))?;
                any = true;
                if m.is_dir() {
                    let mut files = Vec::new();
                    walk(&m, 0, &mut files)?;
                    out.extend(files.into_iter().map(|f| (f, false)));
                } else if m.is_file() {
                    out.push((m, false));
                }
            }
            if !any {
                return Err(SourceError::new(format!(
                    "{p}: the glob pattern matches no files"
                )));
            }
        } else {
            return Err(SourceError::at(path, None, "no such file or directory"));
        }
    }
    // The same file named twice is read once.
    let mut seen = HashSet::new();
    out.retain(|(p, _)| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    Ok(out)
}

/// Resolves paths (files, directories read recursively, globs; several allowed) for one table.
///
/// Files named explicitly must be rows of the table; files found in a directory or by a glob
/// that are not are skipped with a note each. An empty file gives a note and no rows.
///
/// For the tables Windows events feed ([`WinTable`]), EVTX files and JSON renderings of events
/// are recognised by content first; the same files can feed several tables.
pub fn bind_table(
    table: &str,
    paths: &[String],
    opts: &ReadOptions,
    report: Arc<SkipReport>,
) -> Result<BoundTable, SourceError> {
    if paths.is_empty() {
        return Err(SourceError::new(format!(
            "no paths given for table {table}"
        )));
    }
    let known = known_schema(table);
    let win_table = WinTable::from_name(table);
    let mut notes = Vec::new();
    let mut accepted = Vec::new();
    let mut event_files: Vec<FileEntry> = Vec::new();
    let mut empty_files = 0usize;
    for (path, explicit) in expand(paths)? {
        let reject = |reason: String, notes: &mut Vec<String>| -> Result<(), SourceError> {
            if explicit {
                Err(SourceError::at(
                    &path,
                    None,
                    format!("not recognised as rows of {table}: {reason}"),
                ))
            } else {
                notes.push(format!(
                    "skipped {}: not recognised as rows of {table} ({reason})",
                    path.display()
                ));
                Ok(())
            }
        };
        if win_table.is_some() {
            match windows::sniff(&path) {
                Ok(windows::Sniff::Events(f)) => {
                    event_files.push(FileEntry {
                        path: path.clone(),
                        format: Format::Windows(f),
                        row_groups: 0,
                    });
                    continue;
                }
                Ok(windows::Sniff::BadEvtx(reason)) => {
                    reject(reason, &mut notes)?;
                    continue;
                }
                Ok(windows::Sniff::Other) => {}
                Err(e) if explicit => return Err(e),
                Err(e) => {
                    notes.push(format!("skipped {}: {}", path.display(), e.message));
                    continue;
                }
            }
        }
        let info = match sniff(&path, table) {
            Ok(Sniffed::Rows(info)) => info,
            Ok(Sniffed::Empty) => {
                empty_files += 1;
                notes.push(format!("{}: empty file, no rows", path.display()));
                continue;
            }
            Ok(Sniffed::NotRows(reason)) => {
                reject(reason, &mut notes)?;
                continue;
            }
            Err(e) if explicit => return Err(e),
            Err(e) => {
                notes.push(format!("skipped {}: {}", path.display(), e.message));
                continue;
            }
        };
        let in_envelope = info.envelope_tables.iter().any(|t| t == table);
        if !info.envelope_tables.is_empty() && !in_envelope && !info.plain_rows {
            reject(
                format!("streaming records of {}", info.envelope_tables.join(", ")),
                &mut notes,
            )?;
            continue;
        }
        if let Some(schema) = &known
            && !in_envelope
        {
            let matched = info
                .columns
                .iter()
                .filter(|(n, _)| schema.index_of(n).is_ok())
                .count();
            if matched < 2.min(info.columns.len()).max(1) || matched * 2 < info.columns.len() {
                reject(
                    format!(
                        "{} of its {} columns are columns of {table}",
                        matched,
                        info.columns.len()
                    ),
                    &mut notes,
                )?;
                continue;
            }
        }
        accepted.push(info);
    }

    // Schema: known columns first, then the others in order of appearance.
    let mut cols: Vec<(String, ScalarType)> = match &known {
        Some(s) => s
            .fields()
            .iter()
            .map(|f| (f.name().clone(), kql_type_of(f)))
            .collect(),
        None => Vec::new(),
    };
    let fixed = cols.len();
    for info in &accepted {
        for (name, ty) in &info.columns {
            match cols.iter().position(|(n, _)| n == name) {
                Some(i) if i < fixed => {}
                Some(i) => cols[i].1 = unify(cols[i].1, *ty),
                None => cols.push((name.clone(), *ty)),
            }
        }
    }
    if accepted.is_empty() && event_files.is_empty() && !(known.is_some() && empty_files > 0) {
        let mut msg = format!(
            "no files recognised as rows of {table} in {}",
            paths.join(", ")
        );
        for n in notes.iter().take(5) {
            msg.push_str("\n  ");
            msg.push_str(n);
        }
        if notes.len() > 5 {
            msg.push_str(&format!("\n  ... and {} more", notes.len() - 5));
        }
        return Err(SourceError::new(msg));
    }
    if cols.is_empty() {
        return Err(SourceError::new(format!(
            "{table}: the files have no columns"
        )));
    }
    let schema = Arc::new(Schema::new(
        cols.iter().map(|(n, t)| field(n, *t)).collect::<Vec<_>>(),
    ));
    let mut files: Vec<FileEntry> = accepted
        .iter()
        .map(|i| FileEntry {
            path: i.path.clone(),
            format: i.format,
            row_groups: i.row_groups,
        })
        .collect();
    files.extend(event_files);
    let paths_read = files.iter().map(|f| f.path.clone()).collect();
    let provider = Arc::new(FileTable::new(table, schema.clone(), files, *opts, report));
    Ok(BoundTable {
        provider,
        schema,
        notes,
        files: paths_read,
    })
}
