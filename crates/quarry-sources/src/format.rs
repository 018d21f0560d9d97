//! Recognising a file's format by content (extension as a hint) and sampling its columns.

use crate::error::SourceError;
use crate::json::{self, DocError, DocEvent, Flow, Row};
use crate::types::{ScalarType, kql_type_of};
use crate::values::{JsonInference, TextInference};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Rows sampled per file to infer column types.
pub const SAMPLE_ROWS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv {
        delimiter: u8,
    },
    JsonLines,
    JsonDocument,
    Parquet,
    /// Windows events (EVTX, or JSON renderings of events): rows derived per table.
    Windows(crate::windows::WinFormat),
}

impl Format {
    pub fn name(&self) -> &'static str {
        match self {
            Format::Csv { delimiter: b'\t' } => "TSV",
            Format::Csv { .. } => "CSV",
            Format::JsonLines => "JSON Lines",
            Format::JsonDocument => "JSON",
            Format::Parquet => "Parquet",
            Format::Windows(f) => f.name(),
        }
    }
}

/// What sampling a file found.
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub path: PathBuf,
    pub format: Format,
    /// Columns in file order with their declared (Parquet, API Schema) or inferred types.
    pub columns: Vec<(String, ScalarType)>,
    /// Tables named by streaming-envelope categories in the sample.
    pub envelope_tables: Vec<String>,
    /// The sample held rows that are not in an envelope.
    pub plain_rows: bool,
    /// Parquet row groups (0 for other formats).
    pub row_groups: usize,
}

#[derive(Debug)]
pub enum Sniffed {
    Rows(FileInfo),
    Empty,
    NotRows(String),
}

fn ext_of(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

/// Samples `path`; `table` selects the rows of envelope files.
pub fn sniff(path: &Path, table: &str) -> Result<Sniffed, SourceError> {
    let mut head = Vec::with_capacity(8192);
    File::open(path)
        .and_then(|f| f.take(8192).read_to_end(&mut head))
        .map_err(|e| SourceError::io(path, &e))?;
    if head.starts_with(b"PAR1") {
        return sniff_parquet(path);
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let Some(first) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Ok(Sniffed::Empty);
    };
    if text.contains(&0) {
        return Ok(Sniffed::NotRows("binary content".into()));
    }
    let ext = ext_of(path);
    if ext == "parquet" {
        return Ok(Sniffed::NotRows(
            "not a Parquet file (no PAR1 magic)".into(),
        ));
    }
    let csv_ext = matches!(ext.as_str(), "csv" | "tsv" | "tab");
    if !csv_ext && (text[first] == b'{' || text[first] == b'[') {
        return sniff_json(path, table, text[first] == b'[');
    }
    let delimiter = if ext == "tsv" || ext == "tab" {
        b'\t'
    } else {
        b','
    };
    sniff_csv(path, delimiter, csv_ext)
}

fn sniff_parquet(path: &Path) -> Result<Sniffed, SourceError> {
    let f = File::open(path).map_err(|e| SourceError::io(path, &e))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|e| SourceError::at(path, None, format!("invalid Parquet file: {e}")))?;
    let columns = b
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), kql_type_of(f)))
        .collect();
    Ok(Sniffed::Rows(FileInfo {
        path: path.to_path_buf(),
        format: Format::Parquet,
        columns,
        envelope_tables: vec![],
        plain_rows: true,
        row_groups: b.metadata().num_row_groups(),
    }))
}

fn sniff_csv(path: &Path, delimiter: u8, by_ext: bool) -> Result<Sniffed, SourceError> {
    let f = File::open(path).map_err(|e| SourceError::io(path, &e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(f);
    let headers = match rdr.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => return Ok(Sniffed::NotRows(format!("not CSV: {e}"))),
    };
    let mut names = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let Ok(s) = std::str::from_utf8(h) else {
            return Ok(Sniffed::NotRows("CSV header is not UTF-8 text".into()));
        };
        let s = if i == 0 {
            s.trim_start_matches('\u{feff}')
        } else {
            s
        };
        names.push(s.to_string());
    }
    let plausible_header = names.len() >= 2
        && names
            .iter()
            .all(|n| !n.trim().is_empty() && n.len() <= 256 && !n.contains('\n'));
    if !by_ext && !plausible_header {
        return Ok(Sniffed::NotRows("no CSV header row".into()));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = names.iter().find(|n| !seen.insert(n.as_str())) {
        return Err(SourceError::at(
            path,
            Some(1),
            format!("duplicate column name {dup:?} in the CSV header"),
        ));
    }
    let mut inf = vec![TextInference::default(); names.len()];
    let (mut good, mut total) = (0usize, 0usize);
    let mut rec = csv::ByteRecord::new();
    while total < SAMPLE_ROWS {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) if e.is_io_error() => return Err(SourceError::at(path, None, e.to_string())),
            Err(_) => break,
        }
        total += 1;
        if rec.len() != names.len() {
            continue;
        }
        good += 1;
        for (i, v) in rec.iter().enumerate() {
            if let Ok(s) = std::str::from_utf8(v) {
                inf[i].add(s);
            }
        }
    }
    if !by_ext && total > 0 && good * 2 < total {
        return Ok(Sniffed::NotRows(
            "lines do not have the header's number of fields".into(),
        ));
    }
    Ok(Sniffed::Rows(FileInfo {
        path: path.to_path_buf(),
        format: Format::Csv { delimiter },
        columns: names
            .into_iter()
            .zip(inf.iter().map(TextInference::result))
            .collect(),
        envelope_tables: vec![],
        plain_rows: true,
        row_groups: 0,
    }))
}

/// Collects column names and inferred types from sampled JSON rows.
#[derive(Default)]
struct JsonSample {
    order: Vec<(String, JsonInference)>,
    index: HashMap<String, usize>,
    envelope_tables: Vec<String>,
    plain_rows: bool,
    rows: usize,
    declared: Option<Vec<(String, ScalarType)>>,
}

impl JsonSample {
    fn add(&mut self, row: Row, table: &str) {
        let (t, row) = json::unwrap_envelope(row);
        match t {
            Some(t) => {
                let mine = t == table;
                if !self.envelope_tables.contains(&t) {
                    self.envelope_tables.push(t);
                }
                if !mine {
                    return;
                }
            }
            None => self.plain_rows = true,
        }
        self.rows += 1;
        for (k, v) in &row {
            let i = match self.index.get(k) {
                Some(i) => *i,
                None => {
                    self.order.push((k.clone(), JsonInference::default()));
                    self.index.insert(k.clone(), self.order.len() - 1);
                    self.order.len() - 1
                }
            };
            self.order[i].1.add(v);
        }
    }

    fn columns(self) -> Vec<(String, ScalarType)> {
        match self.declared {
            Some(mut cols) => {
                // Keys seen in rows but missing from the declared Schema are kept too.
                for (k, inf) in self.order {
                    if !cols.iter().any(|(n, _)| *n == k) {
                        cols.push((k, inf.result()));
                    }
                }
                cols
            }
            None => self
                .order
                .into_iter()
                .map(|(k, inf)| (k, inf.result()))
                .collect(),
        }
    }
}

/// Maps an Advanced Hunting / Kusto API column type name to a KQL type.
pub fn api_type(name: &str) -> ScalarType {
    match name.to_ascii_lowercase().as_str() {
        "datetime" | "date" | "system.datetime" => ScalarType::DateTime,
        "int64" | "long" | "system.int64" => ScalarType::Long,
        "int32" | "int" | "system.int32" | "int16" | "byte" | "sbyte" => ScalarType::Int,
        "boolean" | "bool" | "system.boolean" => ScalarType::Bool,
        "double" | "real" | "single" | "float" | "system.double" | "decimal" => ScalarType::Real,
        "object" | "dynamic" | "system.object" => ScalarType::Dynamic,
        "guid" | "uuid" | "system.guid" => ScalarType::Guid,
        "timespan" | "time" | "system.timespan" => ScalarType::TimeSpan,
        _ => ScalarType::String,
    }
}

fn sniff_json(path: &Path, table: &str, array: bool) -> Result<Sniffed, SourceError> {
    let open = || {
        File::open(path)
            .map(|f| BufReader::with_capacity(1 << 16, f))
            .map_err(|e| SourceError::io(path, &e))
    };
    let mut sample = JsonSample::default();
    if !array {
        // JSON Lines if one of the first non-blank lines is a complete row object (a bad first
        // line in a dirty file must not hide the rest).
        let mut first: Vec<Result<Row, String>> = Vec::new();
        json::read_lines(
            open()?,
            &mut |r, _| -> Result<Flow, SourceError> {
                first.push(r);
                Ok(if first.len() >= 5 {
                    Flow::Stop
                } else {
                    Flow::Continue
                })
            },
            |e| SourceError::io(path, &e),
        )?;
        let later_ok = first.iter().skip(1).filter(|r| r.is_ok()).count();
        let chosen = match first.first() {
            Some(Ok(row)) => Some(row),
            Some(Err(_)) if later_ok >= 2 => first.iter().find_map(|r| r.as_ref().ok()),
            _ => None,
        };
        if let Some(row) = chosen {
            let is_doc = ["Results", "results", "records", "Records"]
                .iter()
                .any(|k| matches!(row.get(*k), Some(serde_json::Value::Array(_))));
            if !is_doc {
                let mut lines = 0usize;
                json::read_lines(
                    open()?,
                    &mut |r, _| -> Result<Flow, SourceError> {
                        lines += 1;
                        if let Ok(row) = r {
                            sample.add(row, table);
                        }
                        Ok(if lines >= SAMPLE_ROWS {
                            Flow::Stop
                        } else {
                            Flow::Continue
                        })
                    },
                    |e| SourceError::io(path, &e),
                )?;
                return Ok(Sniffed::Rows(FileInfo {
                    path: path.to_path_buf(),
                    format: Format::JsonLines,
                    envelope_tables: std::mem::take(&mut sample.envelope_tables),
                    plain_rows: sample.plain_rows,
                    columns: sample.columns(),
                    row_groups: 0,
                }));
            }
        }
    }
    let mut cb = |ev: DocEvent| -> Result<Flow, SourceError> {
        match ev {
            DocEvent::Schema(cols) => {
                sample.declared =
                    Some(cols.iter().map(|(n, t)| (n.clone(), api_type(t))).collect());
            }
            DocEvent::Row(Some(row), _) => sample.add(row, table),
            DocEvent::Row(None, _) => {}
        }
        // Stop once enough rows are sampled and the schema (if any comes first) is known.
        Ok(if sample.rows >= SAMPLE_ROWS {
            Flow::Stop
        } else {
            Flow::Continue
        })
    };
    match json::read_document(open()?, &mut cb) {
        Ok(()) => {}
        Err(DocError::Callback(e)) => return Err(e),
        Err(DocError::NotRows(m)) => return Ok(Sniffed::NotRows(m)),
        // A syntax error after some rows is reported when scanning, at its line.
        Err(DocError::Syntax(..)) if sample.rows > 0 || sample.declared.is_some() => {}
        Err(DocError::Syntax(line, m)) => {
            return Ok(Sniffed::NotRows(format!(
                "invalid JSON at line {line}: {m}"
            )));
        }
    }
    Ok(Sniffed::Rows(FileInfo {
        path: path.to_path_buf(),
        format: Format::JsonDocument,
        envelope_tables: std::mem::take(&mut sample.envelope_tables),
        plain_rows: sample.plain_rows || sample.declared.is_some(),
        columns: sample.columns(),
        row_groups: 0,
    }))
}
