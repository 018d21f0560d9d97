//! Reading one file (or some row groups of a Parquet file) into record batches.

use crate::error::{BadRowKind, SkipReport, SourceError};
use crate::format::Format;
use crate::json::{self, DocError, DocEvent, Flow};
use crate::schemas::time_alias;
use crate::types::ScalarType;
use crate::values::{ColBuilder, Parsed, convert_json, convert_text, dynamic_from_text};
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, StringArray, new_null_array};
use datafusion::arrow::compute::{CastOptions, cast_with_options, filter};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::arrow::util::display::FormatOptions;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

pub const BATCH_SIZE: usize = 8192;

/// Why a scan ended early.
pub enum ScanEnd {
    Error(SourceError),
    /// The consumer went away (for example after `take 10`).
    Stopped,
}

impl From<SourceError> for ScanEnd {
    fn from(e: SourceError) -> Self {
        ScanEnd::Error(e)
    }
}

/// What to read from one file.
pub struct ScanSpec<'a> {
    pub path: &'a Path,
    pub format: Format,
    /// Table name, to pick rows out of streaming envelopes.
    pub table: &'a str,
    /// Output (projected) columns: name and type; the output schema has the same order.
    pub out: &'a [(String, ScalarType)],
    /// Typed columns not in the output that are still checked, so that which rows are bad does
    /// not depend on the projection.
    pub check: &'a [(String, ScalarType)],
    pub schema: SchemaRef,
    pub row_groups: Option<&'a [usize]>,
    pub skip_bad_rows: bool,
    pub report: &'a SkipReport,
    /// Inclusive bounds (ns) on the table's time column from the query's filters; readers that
    /// can (Windows events) skip records outside before building their rows.
    pub time_range: (i64, i64),
}

/// Collects rows into batches and hands them to `emit`.
pub(crate) struct Sink<'a, 'e> {
    spec: &'a ScanSpec<'a>,
    builders: Vec<ColBuilder>,
    rows: usize,
    emit: &'e mut dyn FnMut(RecordBatch) -> bool,
}

impl<'a, 'e> Sink<'a, 'e> {
    pub(crate) fn new(
        spec: &'a ScanSpec<'a>,
        emit: &'e mut dyn FnMut(RecordBatch) -> bool,
    ) -> Self {
        Sink {
            builders: spec
                .out
                .iter()
                .map(|(_, t)| ColBuilder::new(*t, BATCH_SIZE))
                .collect(),
            spec,
            rows: 0,
            emit,
        }
    }

    /// A bad row: fail, or count it and go on.
    fn bad(&self, kind: BadRowKind, line: u64, msg: &str) -> Result<(), ScanEnd> {
        if self.spec.skip_bad_rows {
            self.spec.report.record(self.spec.path, kind, line);
            Ok(())
        } else {
            Err(ScanEnd::Error(SourceError::at(
                self.spec.path,
                Some(line),
                format!("{kind}: {msg} (--skip-bad-rows skips such rows and counts them)"),
            )))
        }
    }

    pub(crate) fn push(&mut self, cells: &[Parsed<'_>]) -> Result<(), ScanEnd> {
        for (b, c) in self.builders.iter_mut().zip(cells) {
            b.append(c);
        }
        self.rows += 1;
        if self.rows >= BATCH_SIZE {
            self.flush()?;
        }
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> Result<(), ScanEnd> {
        if self.rows == 0 {
            return Ok(());
        }
        let cols: Vec<ArrayRef> = self.builders.iter_mut().map(ColBuilder::finish).collect();
        let batch = make_batch(&self.spec.schema, cols, self.rows)
            .map_err(|m| ScanEnd::Error(SourceError::at(self.spec.path, None, m)))?;
        self.rows = 0;
        if (self.emit)(batch) {
            Ok(())
        } else {
            Err(ScanEnd::Stopped)
        }
    }
}

fn make_batch(schema: &SchemaRef, cols: Vec<ArrayRef>, rows: usize) -> Result<RecordBatch, String> {
    RecordBatch::try_new_with_options(
        schema.clone(),
        cols,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(|e| format!("internal error building a batch: {e}"))
}

/// Reads the file of `spec`, calling `emit` with each batch; `emit` returns false to stop.
pub fn scan_file(
    spec: &ScanSpec<'_>,
    emit: &mut dyn FnMut(RecordBatch) -> bool,
) -> Result<(), ScanEnd> {
    match spec.format {
        Format::Csv { delimiter } => scan_csv(spec, delimiter, emit),
        Format::JsonLines => scan_json_lines(spec, emit),
        Format::JsonDocument => scan_json_document(spec, emit),
        Format::Parquet => scan_parquet(spec, emit),
        Format::Windows(f) => crate::windows::scan(spec, f, emit),
    }
}

fn open(path: &Path) -> Result<File, ScanEnd> {
    File::open(path).map_err(|e| ScanEnd::Error(SourceError::io(path, &e)))
}

fn scan_csv(
    spec: &ScanSpec<'_>,
    delimiter: u8,
    emit: &mut dyn FnMut(RecordBatch) -> bool,
) -> Result<(), ScanEnd> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(1 << 17)
        .from_reader(open(spec.path)?);
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line());
        ScanEnd::Error(SourceError::at(
            spec.path,
            line,
            format!("cannot read CSV: {e}"),
        ))
    };
    let headers = rdr.byte_headers().map_err(csv_err)?.clone();
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let h = if i == 0 {
            h.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(h)
        } else {
            h
        };
        index.entry(h).or_insert(i);
    }
    let src = |cols: &[(String, ScalarType)]| -> Vec<(Option<usize>, ScalarType)> {
        cols.iter()
            .map(|(n, t)| {
                let i = index.get(n.as_bytes()).copied().or_else(|| {
                    time_alias(spec.table, n).and_then(|a| index.get(a.as_bytes()).copied())
                });
                (i, *t)
            })
            .collect()
    };
    let out_src = src(spec.out);
    let check_src: Vec<(usize, ScalarType)> = src(spec.check)
        .into_iter()
        .filter_map(|(i, t)| i.map(|i| (i, t)))
        .collect();
    let nfields = headers.len();
    let names: Vec<String> = headers
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let named = |i: usize, (k, m): (BadRowKind, String)| {
        (
            k,
            format!("{}: {m}", names.get(i).map_or("?", String::as_str)),
        )
    };
    let mut sink = Sink::new(spec, emit);
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_err(e)),
        }
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != nfields {
            // A record that swallowed line ends but has the wrong field count: an unbalanced quote.
            let multiline = rec.iter().any(|f| f.contains(&b'\n'));
            let kind = if multiline {
                BadRowKind::BrokenQuoting
            } else {
                BadRowKind::WrongFieldCount
            };
            let msg = if multiline {
                format!(
                    "expected {nfields} fields, found {}: an unbalanced quote joined the \
                     following line(s) into this record",
                    rec.len()
                )
            } else {
                format!("expected {nfields} fields, found {}", rec.len())
            };
            sink.bad(kind, line, &msg)?;
            continue;
        }
        let field = |i: usize| -> Result<&str, (BadRowKind, String)> {
            std::str::from_utf8(rec.get(i).unwrap_or_default())
                .map_err(|_| (BadRowKind::BadValue, "not valid UTF-8 text".to_string()))
        };
        let mut error = None;
        for (i, t) in &check_src {
            if let Err(e) = field(*i).and_then(|s| convert_text(s, *t).map(|_| ())) {
                error = Some(named(*i, e));
                break;
            }
        }
        let mut cells: Vec<Parsed<'_>> = Vec::with_capacity(out_src.len());
        if error.is_none() {
            for (i, t) in &out_src {
                let r = match i {
                    Some(i) => field(*i)
                        .and_then(|s| convert_text(s, *t))
                        .map_err(|e| named(*i, e)),
                    None => convert_text("", *t),
                };
                match r {
                    Ok(c) => cells.push(c),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
        }
        match error {
            Some((kind, msg)) => sink.bad(kind, line, &msg)?,
            None => sink.push(&cells)?,
        }
    }
    sink.flush()
}

/// Converts one JSON row; Err = (kind, message).
fn json_row<'r>(
    row: &'r json::Row,
    spec: &ScanSpec<'_>,
) -> Result<Vec<Parsed<'r>>, (BadRowKind, String)> {
    for (n, t) in spec.check {
        if let Some(v) = row.get(n) {
            convert_json(v, *t).map_err(|(k, m)| (k, format!("{n}: {m}")))?;
        }
    }
    spec.out
        .iter()
        .map(|(n, t)| {
            match row
                .get(n)
                .or_else(|| time_alias(spec.table, n).and_then(|a| row.get(a)))
            {
                Some(v) => convert_json(v, *t).map_err(|(k, m)| (k, format!("{n}: {m}"))),
                None => convert_text("", *t),
            }
        })
        .collect()
}

/// Counts envelope records of other tables, to note them at the end.
#[derive(Default)]
struct OtherTables(HashMap<String, u64>);

impl OtherTables {
    fn note(&self, spec: &ScanSpec<'_>) {
        for (t, n) in &self.0 {
            spec.report.note(format!(
                "{}: ignored {n} streaming record(s) of table {t} (not {})",
                spec.path.display(),
                spec.table
            ));
        }
    }
}

fn handle_json_row(
    sink: &mut Sink<'_, '_>,
    others: &mut OtherTables,
    row: json::Row,
    line: u64,
) -> Result<(), ScanEnd> {
    let (t, row) = json::unwrap_envelope(row);
    if let Some(t) = t
        && t != sink.spec.table
    {
        *others.0.entry(t).or_default() += 1;
        return Ok(());
    }
    match json_row(&row, sink.spec) {
        Ok(cells) => sink.push(&cells),
        Err((kind, msg)) => sink.bad(kind, line, &msg),
    }
}

fn scan_json_lines(
    spec: &ScanSpec<'_>,
    emit: &mut dyn FnMut(RecordBatch) -> bool,
) -> Result<(), ScanEnd> {
    let reader = BufReader::with_capacity(1 << 17, open(spec.path)?);
    let mut sink = Sink::new(spec, emit);
    let mut others = OtherTables::default();
    json::read_lines(
        reader,
        &mut |r, line| -> Result<Flow, ScanEnd> {
            match r {
                Ok(row) => handle_json_row(&mut sink, &mut others, row, line)?,
                Err(m) => sink.bad(BadRowKind::InvalidJson, line, &m)?,
            }
            Ok(Flow::Continue)
        },
        |e| ScanEnd::Error(SourceError::io(spec.path, &e)),
    )?;
    others.note(spec);
    sink.flush()
}

fn scan_json_document(
    spec: &ScanSpec<'_>,
    emit: &mut dyn FnMut(RecordBatch) -> bool,
) -> Result<(), ScanEnd> {
    let reader = BufReader::with_capacity(1 << 17, open(spec.path)?);
    let mut sink = Sink::new(spec, emit);
    let mut others = OtherTables::default();
    let r = json::read_document(reader, &mut |ev| -> Result<Flow, ScanEnd> {
        match ev {
            DocEvent::Schema(_) => {}
            DocEvent::Row(Some(row), line) => handle_json_row(&mut sink, &mut others, row, line)?,
            DocEvent::Row(None, line) => sink.bad(
                BadRowKind::InvalidJson,
                line,
                "array element is not a row object",
            )?,
        }
        Ok(Flow::Continue)
    });
    match r {
        Ok(()) => {}
        Err(DocError::Callback(e)) => return Err(e),
        Err(DocError::NotRows(m)) => {
            return Err(ScanEnd::Error(SourceError::at(spec.path, None, m)));
        }
        Err(DocError::Syntax(line, m)) => {
            // Nothing after a syntax error inside one JSON document can be read.
            sink.bad(BadRowKind::InvalidJson, line, &m)?;
            spec.report.note(format!(
                "{}:{line}: invalid JSON; the rest of this JSON document was not read",
                spec.path.display()
            ));
        }
    }
    others.note(spec);
    sink.flush()
}

fn is_text(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// Converts one Parquet column to its output type. `bad` collects (row, kind, message).
fn convert_parquet_column(
    arr: &ArrayRef,
    ty: ScalarType,
    target: &DataType,
    bad: &mut Vec<(usize, BadRowKind, String)>,
) -> Result<ArrayRef, String> {
    let cast_err = |e: datafusion::arrow::error::ArrowError| format!("cannot convert column: {e}");
    let text = if is_text(arr.data_type()) {
        Some(cast_with_options(arr, &DataType::Utf8, &CastOptions::default()).map_err(cast_err)?)
    } else {
        None
    };
    let as_strings =
        |a: &ArrayRef| -> Option<StringArray> { a.as_any().downcast_ref::<StringArray>().cloned() };
    match ty {
        ScalarType::String | ScalarType::Guid | ScalarType::Dynamic => {
            let s = match &text {
                Some(t) => t.clone(),
                None => match cast_with_options(arr, &DataType::Utf8, &CastOptions::default()) {
                    Ok(a) => a,
                    Err(_) => {
                        // Nested values: render them as text.
                        let fmt = datafusion::arrow::util::display::ArrayFormatter::try_new(
                            arr.as_ref(),
                            &FormatOptions::default(),
                        )
                        .map_err(cast_err)?;
                        Arc::new(StringArray::from_iter(
                            (0..arr.len())
                                .map(|i| (!arr.is_null(i)).then(|| fmt.value(i).to_string())),
                        ))
                    }
                },
            };
            let Some(s) = as_strings(&s) else {
                return Err("internal error: string cast".into());
            };
            if ty == ScalarType::Dynamic {
                Ok(Arc::new(StringArray::from_iter(s.iter().map(|v| {
                    v.filter(|v| !v.is_empty())
                        .map(|v| dynamic_from_text(v).into_owned())
                }))))
            } else if s.null_count() > 0 {
                Ok(Arc::new(StringArray::from_iter_values(
                    s.iter().map(|v| v.unwrap_or("")),
                )))
            } else {
                Ok(Arc::new(s))
            }
        }
        _ => match text.as_ref().and_then(as_strings) {
            Some(s) => {
                let mut b = ColBuilder::new(ty, s.len());
                for (row, v) in s.iter().enumerate() {
                    match convert_text(v.unwrap_or(""), ty) {
                        Ok(p) => b.append(&p),
                        Err((k, m)) => {
                            bad.push((row, k, m));
                            b.append(&Parsed::Null);
                        }
                    }
                }
                Ok(b.finish())
            }
            None => cast_with_options(
                arr,
                target,
                &CastOptions {
                    safe: false,
                    ..Default::default()
                },
            )
            .map_err(cast_err),
        },
    }
}

fn scan_parquet(
    spec: &ScanSpec<'_>,
    emit: &mut dyn FnMut(RecordBatch) -> bool,
) -> Result<(), ScanEnd> {
    let perr = |e: datafusion::parquet::errors::ParquetError| {
        ScanEnd::Error(SourceError::at(
            spec.path,
            None,
            format!("cannot read Parquet: {e}"),
        ))
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(open(spec.path)?).map_err(perr)?;
    let file_schema = builder.schema().clone();
    let mut roots: Vec<usize> =
        spec.out
            .iter()
            .filter_map(|(n, _)| {
                file_schema.index_of(n).ok().or_else(|| {
                    time_alias(spec.table, n).and_then(|a| file_schema.index_of(a).ok())
                })
            })
            .collect();
    roots.sort_unstable();
    roots.dedup();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let mut builder = builder.with_projection(mask).with_batch_size(BATCH_SIZE);
    // Row numbers for messages: rows before the first row group read.
    let mut first_row = 0usize;
    if let Some(rgs) = spec.row_groups {
        let md = builder.metadata();
        first_row = rgs
            .first()
            .map(|f| (0..*f).map(|i| md.row_group(i).num_rows() as usize).sum())
            .unwrap_or(0);
        builder = builder.with_row_groups(rgs.to_vec());
    }
    let reader = builder.build().map_err(perr)?;
    for batch in reader {
        let batch = batch.map_err(|e| {
            ScanEnd::Error(SourceError::at(
                spec.path,
                None,
                format!("cannot read Parquet: {e}"),
            ))
        })?;
        let n = batch.num_rows();
        let mut bad = Vec::new();
        let mut cols = Vec::with_capacity(spec.out.len());
        for (i, (name, ty)) in spec.out.iter().enumerate() {
            let target = spec.schema.field(i).data_type();
            let col = match batch
                .column_by_name(name)
                .or_else(|| time_alias(spec.table, name).and_then(|a| batch.column_by_name(a)))
            {
                Some(a) => convert_parquet_column(a, *ty, target, &mut bad).map_err(|m| {
                    ScanEnd::Error(SourceError::at(spec.path, None, format!("{name}: {m}")))
                })?,
                None if matches!(ty, ScalarType::String | ScalarType::Guid) => {
                    Arc::new(StringArray::from_iter_values(std::iter::repeat_n("", n)))
                }
                None => new_null_array(target, n),
            };
            cols.push(col);
        }
        let mut batch = make_batch(&spec.schema, cols, n)
            .map_err(|m| ScanEnd::Error(SourceError::at(spec.path, None, m)))?;
        if !bad.is_empty() {
            let mut keep = vec![true; n];
            bad.sort_by_key(|b| b.0);
            for (row, kind, msg) in &bad {
                if keep[*row] {
                    keep[*row] = false;
                    let line = (first_row + row + 1) as u64;
                    if spec.skip_bad_rows {
                        spec.report.record(spec.path, *kind, line);
                    } else {
                        return Err(ScanEnd::Error(SourceError::at(
                            spec.path,
                            Some(line),
                            format!("{kind} in row {line}: {msg}"),
                        )));
                    }
                }
            }
            let mask = BooleanArray::from(keep);
            let cols = batch
                .columns()
                .iter()
                .map(|c| filter(c.as_ref(), &mask))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ScanEnd::Error(SourceError::at(spec.path, None, e.to_string())))?;
            let rows = n - bad
                .iter()
                .map(|b| b.0)
                .collect::<std::collections::HashSet<_>>()
                .len();
            batch = make_batch(&spec.schema, cols, rows)
                .map_err(|m| ScanEnd::Error(SourceError::at(spec.path, None, m)))?;
        }
        first_row += n;
        if batch.num_rows() > 0 && !emit(batch) {
            return Err(ScanEnd::Stopped);
        }
    }
    Ok(())
}
