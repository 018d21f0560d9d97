//! `externaldata`: a small reference table whose schema the query declares, read from a local
//! file (Kusto reads it from cloud storage; Quarry is offline and reads only local files that
//! the user allowed).
//!
//! Kusto's rules, which these readers follow: the format comes from the `format` property, else
//! from the file extension, else CSV; CSV/TSV/PSV fields map to the declared columns by
//! position (missing trailing fields are empty, extra fields are ignored) and
//! `ignoreFirstRecord=true` skips a header; JSON rows map by column name; `txt`/`raw` gives one
//! row per line in the first column. Every value that does not convert is an error with
//! `file:line`: the table is small and meant to be exact, so nothing is skipped silently.

use crate::error::SourceError;
use crate::types::{ScalarType, field};
use crate::values::{ColBuilder, Parsed, convert_json, convert_text};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use serde_json::Value;
use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

/// The formats `externaldata` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalFormat {
    /// Delimited text with this separator (CSV `,`, TSV `\t`, PSV `|`, SCSV `;`, SOHSV `\x01`).
    Delimited(u8),
    /// JSON Lines, or one JSON array of objects (`json`, `multijson`).
    Json,
    /// One row per line, the whole line in the first column (`txt`, `raw`).
    Lines,
}

impl ExternalFormat {
    /// The format named by the `format` property (case-insensitive).
    pub fn from_name(name: &str) -> Option<ExternalFormat> {
        Some(match name.to_ascii_lowercase().as_str() {
            "csv" => ExternalFormat::Delimited(b','),
            "tsv" | "tsve" => ExternalFormat::Delimited(b'\t'),
            "psv" => ExternalFormat::Delimited(b'|'),
            "scsv" => ExternalFormat::Delimited(b';'),
            "sohsv" => ExternalFormat::Delimited(0x01),
            "json" | "multijson" | "singlejson" => ExternalFormat::Json,
            "txt" | "raw" => ExternalFormat::Lines,
            _ => return None,
        })
    }

    /// The format a file's extension implies; CSV when it implies none.
    pub fn from_path(path: &Path) -> ExternalFormat {
        path.extension()
            .and_then(|e| e.to_str())
            .and_then(ExternalFormat::from_name)
            .unwrap_or(ExternalFormat::Delimited(b','))
    }
}

/// Reads `path` into one batch with exactly the declared columns.
pub fn read_external(
    path: &Path,
    columns: &[(String, ScalarType)],
    format: ExternalFormat,
    ignore_first_record: bool,
) -> Result<RecordBatch, SourceError> {
    let text = std::fs::read(path).map_err(|e| SourceError::io(path, &e))?;
    let text = String::from_utf8_lossy(&text);
    let mut builders: Vec<ColBuilder> = columns
        .iter()
        .map(|(_, ty)| ColBuilder::new(*ty, 64))
        .collect();
    let cell_error = |line: u64, col: &str, msg: String| {
        SourceError::at(path, Some(line), format!("column `{col}`: {msg}"))
    };
    match format {
        ExternalFormat::Delimited(sep) => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(sep)
                .from_reader(text.as_bytes());
            for (i, rec) in reader.records().enumerate() {
                let rec = rec.map_err(|e| {
                    let line = e.position().map(|p| p.line());
                    SourceError::at(path, line, format!("malformed record: {e}"))
                })?;
                if i == 0 && ignore_first_record {
                    continue;
                }
                let line = rec.position().map(|p| p.line()).unwrap_or(i as u64 + 1);
                for (k, (name, ty)) in columns.iter().enumerate() {
                    let cell = rec.get(k).unwrap_or("");
                    let v = convert_text(cell, *ty).map_err(|(_, m)| cell_error(line, name, m))?;
                    builders[k].append(&v);
                }
            }
        }
        ExternalFormat::Lines => {
            for (i, line) in text.lines().enumerate() {
                if i == 0 && ignore_first_record {
                    continue;
                }
                for (k, (name, ty)) in columns.iter().enumerate() {
                    let v = if k == 0 {
                        convert_text(line, *ty)
                            .map_err(|(_, m)| cell_error(i as u64 + 1, name, m))?
                    } else {
                        convert_text("", *ty).unwrap_or(Parsed::Null)
                    };
                    builders[k].append(&v);
                }
            }
        }
        ExternalFormat::Json => {
            let rows = json_rows(path, &text)?;
            for (i, (line, row)) in rows.iter().enumerate() {
                if i == 0 && ignore_first_record {
                    continue;
                }
                let Value::Object(obj) = row else {
                    return Err(SourceError::at(
                        path,
                        Some(*line),
                        "a JSON row must be an object",
                    ));
                };
                for (k, (name, ty)) in columns.iter().enumerate() {
                    let v = match obj.get(name) {
                        None | Some(Value::Null) => match ty {
                            ScalarType::String | ScalarType::Guid => Parsed::Str(Cow::Borrowed("")),
                            _ => Parsed::Null,
                        },
                        Some(v) => {
                            convert_json(v, *ty).map_err(|(_, m)| cell_error(*line, name, m))?
                        }
                    };
                    builders[k].append(&v);
                }
            }
        }
    }
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, t)| field(n, *t))
            .collect::<Vec<_>>(),
    ));
    let arrays = builders.iter_mut().map(ColBuilder::finish).collect();
    RecordBatch::try_new(schema, arrays).map_err(|e| SourceError::at(path, None, e.to_string()))
}

/// JSON rows with their line numbers: one array of rows, or JSON Lines (blank lines skipped).
fn json_rows(path: &Path, text: &str) -> Result<Vec<(u64, Value)>, SourceError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            SourceError::at(path, Some(e.line() as u64), format!("invalid JSON: {e}"))
        })?;
        let Value::Array(items) = v else {
            return Err(SourceError::at(
                path,
                Some(1),
                "expected a JSON array of rows",
            ));
        };
        return Ok(items.into_iter().map(|v| (1, v)).collect());
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| {
            SourceError::at(path, Some(i as u64 + 1), format!("invalid JSON line: {e}"))
        })?;
        out.push((i as u64 + 1, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<(String, ScalarType)> {
        vec![
            ("Name".to_string(), ScalarType::String),
            ("Count".to_string(), ScalarType::Long),
        ]
    }

    #[test]
    fn csv_maps_by_position_and_skips_the_header_when_asked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("iocs.csv");
        std::fs::write(&p, "name,count\nevil.exe,3\nbad.dll\n\"a,b\",5,extra\n").expect("write");
        let b = read_external(&p, &cols(), ExternalFormat::from_path(&p), true).expect("read");
        assert_eq!(b.num_rows(), 3);
        let e = read_external(&p, &cols(), ExternalFormat::from_path(&p), false)
            .expect_err("the header's `count` is not a long");
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("`Count`"), "{}", e.message);
    }

    #[test]
    fn json_maps_by_name_and_lines_fill_the_first_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("rows.json");
        std::fs::write(&p, "{\"Count\": 2, \"Name\": \"x\"}\n\n{\"Name\": \"y\"}\n")
            .expect("write");
        let b = read_external(&p, &cols(), ExternalFormat::Json, false).expect("read");
        assert_eq!(b.num_rows(), 2);
        std::fs::write(&p, "{\"Count\": \"two\"}\n").expect("write");
        let e = read_external(&p, &cols(), ExternalFormat::Json, false).expect_err("bad value");
        assert_eq!(e.line, Some(1));
        let t = dir.path().join("list.txt");
        std::fs::write(&t, "a\nb\n").expect("write");
        let b = read_external(&t, &cols(), ExternalFormat::from_path(&t), false).expect("read");
        assert_eq!(b.num_rows(), 2);
    }
}
