//! Writing query results: terminal table, CSV, JSON array, NDJSON.
//!
//! Values are formatted by [`quarry_engine::format`] (the same text `tostring()` gives), so
//! every output format agrees on how a datetime, timespan, real or dynamic value looks.
//!
//! * `csv` – RFC 4180 quoting (only fields that need it are quoted), a header row always (also
//!   for zero rows), an empty field for null, `\n` line ends. A record with a single empty
//!   field is written as `""` (the csv crate does this so the line is not blank).
//! * `json` – one array of row objects keyed by column name in column order, streamed:
//!   `[` first, `,\n` between rows, `]` and a newline at the end; zero rows give `[]`.
//! * `ndjson` – one row object per line.
//! * `table` – a terminal table (comfy-table). It has to hold the rows it shows, so it shows at
//!   most [`DEFAULT_MAX_TABLE_ROWS`] (see [`ResultWriter::with_max_table_rows`]) and then says
//!   how many were left out; a last line gives the row count (`(N rows)`, `(1 row)`).

use std::io::{self, BufWriter, Write};

use clap::ValueEnum;
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use quarry_engine::format::{cell_json, cell_text, normalize_column};
use quarry_sources::types::ScalarType;

/// How many rows the table format shows before it stops and points at the other formats.
pub const DEFAULT_MAX_TABLE_ROWS: usize = 10_000;

/// The result output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// A readable table for the terminal (at most 10000 rows shown).
    #[default]
    Table,
    /// Comma-separated values with a header row (RFC 4180).
    Csv,
    /// One JSON array of row objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// Streams result batches to an output in one [`OutputFormat`].
///
/// Call [`write_batch`](Self::write_batch) for each batch, then [`finish`](Self::finish), which
/// writes the closing parts and flushes. Output is buffered.
pub struct ResultWriter {
    columns: Vec<(String, ScalarType)>,
    rows: u64,
    started: bool,
    sink: Sink,
}

enum Sink {
    Csv(Box<csv::Writer<Box<dyn Write>>>),
    Json {
        out: BufWriter<Box<dyn Write>>,
        ndjson: bool,
    },
    Table {
        out: BufWriter<Box<dyn Write>>,
        shown: Vec<Vec<String>>,
        max_rows: usize,
    },
}

impl ResultWriter {
    /// A writer for results with these columns (name, KQL type), in batch column order.
    pub fn new(
        format: OutputFormat,
        columns: Vec<(String, ScalarType)>,
        out: Box<dyn Write>,
    ) -> ResultWriter {
        let sink = match format {
            OutputFormat::Csv => Sink::Csv(Box::new(
                csv::WriterBuilder::new()
                    .flexible(false)
                    .quote_style(csv::QuoteStyle::Necessary)
                    .from_writer(out),
            )),
            OutputFormat::Json | OutputFormat::Ndjson => Sink::Json {
                out: BufWriter::new(out),
                ndjson: format == OutputFormat::Ndjson,
            },
            OutputFormat::Table => Sink::Table {
                out: BufWriter::new(out),
                shown: Vec::new(),
                max_rows: DEFAULT_MAX_TABLE_ROWS,
            },
        };
        ResultWriter {
            columns,
            rows: 0,
            started: false,
            sink,
        }
    }

    /// Changes how many rows the table format shows (other formats write every row).
    #[cfg(test)]
    pub fn with_max_table_rows(mut self, n: usize) -> ResultWriter {
        if let Sink::Table { max_rows, .. } = &mut self.sink {
            *max_rows = n;
        }
        self
    }

    /// Writes what comes before the first row (CSV header, JSON `[`), once.
    fn start(&mut self) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        match &mut self.sink {
            Sink::Csv(w) => w.write_record(self.columns.iter().map(|(name, _)| name.as_str()))?,
            Sink::Json { out, ndjson: false } => out.write_all(b"[")?,
            Sink::Json { ndjson: true, .. } | Sink::Table { .. } => {}
        }
        Ok(())
    }

    /// Writes one batch; its columns must be the writer's columns, in order.
    pub fn write_batch(&mut self, batch: &RecordBatch) -> io::Result<()> {
        if batch.num_columns() != self.columns.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "result batch has {} columns, expected {}",
                    batch.num_columns(),
                    self.columns.len()
                ),
            ));
        }
        self.start()?;
        let arrays: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .zip(&self.columns)
            .map(|(a, (_, ty))| normalize_column(a, *ty))
            .collect();
        let n = batch.num_rows();
        match &mut self.sink {
            Sink::Csv(w) => {
                let mut record = csv::StringRecord::with_capacity(64, arrays.len());
                for row in 0..n {
                    record.clear();
                    for (a, (_, ty)) in arrays.iter().zip(&self.columns) {
                        record.push_field(cell_text(a, row, *ty).as_deref().unwrap_or(""));
                    }
                    w.write_record(&record)?;
                }
            }
            Sink::Json { out, ndjson } => {
                for row in 0..n {
                    if *ndjson {
                        write_json_row(out, &self.columns, &arrays, row)?;
                        out.write_all(b"\n")?;
                    } else {
                        if self.rows > 0 || row > 0 {
                            out.write_all(b",\n")?;
                        }
                        write_json_row(out, &self.columns, &arrays, row)?;
                    }
                }
            }
            Sink::Table {
                shown, max_rows, ..
            } => {
                let room = max_rows.saturating_sub(shown.len()).min(n);
                for row in 0..room {
                    shown.push(
                        arrays
                            .iter()
                            .zip(&self.columns)
                            .map(|(a, (_, ty))| cell_text(a, row, *ty).unwrap_or_default())
                            .collect(),
                    );
                }
            }
        }
        self.rows += n as u64;
        Ok(())
    }

    /// Writes the end of the output, flushes, and returns the number of rows in the result.
    pub fn finish(mut self) -> io::Result<u64> {
        self.start()?;
        let rows = self.rows;
        match self.sink {
            Sink::Csv(mut w) => w.flush()?,
            Sink::Json { mut out, ndjson } => {
                if !ndjson {
                    out.write_all(b"]\n")?;
                }
                out.flush()?;
            }
            Sink::Table { mut out, shown, .. } => {
                let hidden = rows.saturating_sub(shown.len() as u64);
                let table = build_table(&self.columns, shown);
                writeln!(out, "{table}")?;
                if hidden > 0 {
                    writeln!(
                        out,
                        "... {hidden} more rows (use --format csv or --output to see all)"
                    )?;
                }
                let noun = if rows == 1 { "row" } else { "rows" };
                writeln!(out, "({rows} {noun})")?;
                out.flush()?;
            }
        }
        Ok(rows)
    }
}

/// `{"col":value,...}` for one row, columns in order.
fn write_json_row(
    out: &mut impl Write,
    columns: &[(String, ScalarType)],
    arrays: &[ArrayRef],
    row: usize,
) -> io::Result<()> {
    out.write_all(b"{")?;
    for (i, (a, (name, ty))) in arrays.iter().zip(columns).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, name)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, &cell_json(a, row, *ty))?;
    }
    out.write_all(b"}")
}

fn build_table(columns: &[(String, ScalarType)], rows: Vec<Vec<String>>) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(columns.iter().map(|(name, _)| name.as_str()));
    for row in rows {
        table.add_row(row);
    }
    for (i, (_, ty)) in columns.iter().enumerate() {
        let numeric = matches!(
            ty,
            ScalarType::Int | ScalarType::Long | ScalarType::Real | ScalarType::Decimal
        );
        if numeric && let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        BooleanArray, DurationNanosecondArray, Float64Array, Int32Array, Int64Array, StringArray,
        StringViewArray, TimestampNanosecondArray,
    };
    use datafusion::arrow::datatypes::Schema;
    use quarry_sources::types::field;
    use std::sync::{Arc, Mutex};

    const SEC: i64 = 1_000_000_000;
    /// 2024-03-01T10:00:00Z in ns.
    const T0: i64 = 1_709_287_200 * SEC;

    /// A `Write` whose bytes the test can read after the writer is consumed.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            match self.0.lock() {
                Ok(mut v) => {
                    v.extend_from_slice(buf);
                    Ok(buf.len())
                }
                Err(_) => Err(io::Error::other("poisoned")),
            }
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            let bytes = self.0.lock().map(|v| v.clone()).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }

    fn all_columns() -> Vec<(String, ScalarType)> {
        [
            ("b", ScalarType::Bool),
            ("i", ScalarType::Int),
            ("l", ScalarType::Long),
            ("r", ScalarType::Real),
            ("s", ScalarType::String),
            ("t", ScalarType::DateTime),
            ("d", ScalarType::TimeSpan),
            ("g", ScalarType::Guid),
            ("dyn", ScalarType::Dynamic),
        ]
        .into_iter()
        .map(|(n, t)| (n.to_string(), t))
        .collect()
    }

    /// Three rows: plain values, awkward values, all nulls.
    fn all_batch() -> RecordBatch {
        let cols = all_columns();
        let schema = Arc::new(Schema::new(
            cols.iter().map(|(n, t)| field(n, *t)).collect::<Vec<_>>(),
        ));
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
            Arc::new(Int32Array::from(vec![Some(1), Some(-2), None])),
            Arc::new(Int64Array::from(vec![Some(10_000_000_000), Some(0), None])),
            Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN), None])),
            Arc::new(StringArray::from(vec![
                Some("plain"),
                Some("a,b \"q\"\nline2"),
                None,
            ])),
            Arc::new(
                TimestampNanosecondArray::from(vec![Some(T0), Some(T0 + 123_456_700), None])
                    .with_timezone("UTC"),
            ),
            Arc::new(DurationNanosecondArray::from(vec![
                Some(3600 * SEC),
                Some(-SEC),
                None,
            ])),
            Arc::new(StringArray::from(vec![
                Some("74be27de-1e4e-49d9-b579-fe0b331d3642"),
                Some("00000000-0000-0000-0000-000000000000"),
                None,
            ])),
            Arc::new(StringArray::from(vec![
                Some(r#"{"a":[1,2],"b":"x"}"#),
                Some("[1, \"two\" ]"),
                None,
            ])),
        ];
        match RecordBatch::try_new(schema, arrays) {
            Ok(b) => b,
            Err(e) => panic!("test batch: {e}"),
        }
    }

    fn render(format: OutputFormat, batches: &[RecordBatch]) -> (String, u64) {
        render_with(format, all_columns(), batches, None)
    }

    fn render_with(
        format: OutputFormat,
        columns: Vec<(String, ScalarType)>,
        batches: &[RecordBatch],
        max_rows: Option<usize>,
    ) -> (String, u64) {
        let sink = Shared::default();
        let mut w = ResultWriter::new(format, columns, Box::new(sink.clone()));
        if let Some(m) = max_rows {
            w = w.with_max_table_rows(m);
        }
        for b in batches {
            if let Err(e) = w.write_batch(b) {
                panic!("write_batch: {e}");
            }
        }
        let rows = match w.finish() {
            Ok(r) => r,
            Err(e) => panic!("finish: {e}"),
        };
        (sink.text(), rows)
    }

    fn empty_batch() -> RecordBatch {
        all_batch().slice(0, 0)
    }

    #[test]
    fn csv_all_types_nulls_and_quoting() {
        let (text, rows) = render(OutputFormat::Csv, &[all_batch()]);
        assert_eq!(rows, 3);
        let expected = "b,i,l,r,s,t,d,g,dyn\n\
            true,1,10000000000,1.5,plain,2024-03-01T10:00:00Z,01:00:00,\
            74be27de-1e4e-49d9-b579-fe0b331d3642,\"{\"\"a\"\":[1,2],\"\"b\"\":\"\"x\"\"}\"\n\
            false,-2,0,NaN,\"a,b \"\"q\"\"\nline2\",2024-03-01T10:00:00.1234567Z,-00:00:01,\
            00000000-0000-0000-0000-000000000000,\"[1,\"\"two\"\"]\"\n\
            ,,,,,,,,\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn csv_zero_rows_still_has_header() {
        let (text, rows) = render(OutputFormat::Csv, &[]);
        assert_eq!((text.as_str(), rows), ("b,i,l,r,s,t,d,g,dyn\n", 0));
        let (text, rows) = render(OutputFormat::Csv, &[empty_batch()]);
        assert_eq!((text.as_str(), rows), ("b,i,l,r,s,t,d,g,dyn\n", 0));
    }

    #[test]
    fn csv_quotes_header_names_when_needed() {
        let cols = vec![("a,b".to_string(), ScalarType::Long)];
        let schema = Arc::new(Schema::new(vec![field("a,b", ScalarType::Long)]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![7]))]);
        let batch = match batch {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        let (text, _) = render_with(OutputFormat::Csv, cols, &[batch], None);
        assert_eq!(text, "\"a,b\"\n7\n");
    }

    #[test]
    fn json_array_of_objects_in_column_order() {
        let (text, rows) = render(OutputFormat::Json, &[all_batch()]);
        assert_eq!(rows, 3);
        let expected = concat!(
            r#"[{"b":true,"i":1,"l":10000000000,"r":1.5,"s":"plain","t":"2024-03-01T10:00:00Z","d":"01:00:00","g":"74be27de-1e4e-49d9-b579-fe0b331d3642","dyn":{"a":[1,2],"b":"x"}}"#,
            ",\n",
            r#"{"b":false,"i":-2,"l":0,"r":"NaN","s":"a,b \"q\"\nline2","t":"2024-03-01T10:00:00.1234567Z","d":"-00:00:01","g":"00000000-0000-0000-0000-000000000000","dyn":[1,"two"]}"#,
            ",\n",
            r#"{"b":null,"i":null,"l":null,"r":null,"s":null,"t":null,"d":null,"g":null,"dyn":null}"#,
            "]\n"
        );
        assert_eq!(text, expected);
        // And it is one valid JSON document.
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(parsed.as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn json_across_batches_and_zero_rows() {
        let b = all_batch();
        let (text, rows) = render(
            OutputFormat::Json,
            &[b.slice(0, 1), empty_batch(), b.slice(1, 2)],
        );
        assert_eq!(rows, 3);
        assert_eq!(text.matches(",\n").count(), 2);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(parsed.as_array().map(Vec::len), Some(3));

        assert_eq!(render(OutputFormat::Json, &[]), ("[]\n".to_string(), 0));
        assert_eq!(
            render(OutputFormat::Json, &[empty_batch()]),
            ("[]\n".to_string(), 0)
        );
    }

    #[test]
    fn ndjson_one_object_per_line() {
        let (text, rows) = render(OutputFormat::Ndjson, &[all_batch()]);
        assert_eq!(rows, 3);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(text.ends_with("}\n"));
        for line in &lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            assert!(v.is_object(), "{line}");
        }
        assert!(lines[0].starts_with(r#"{"b":true,"i":1,"#));
        assert!(lines[1].contains(r#""s":"a,b \"q\"\nline2""#));
        assert_eq!(render(OutputFormat::Ndjson, &[]), (String::new(), 0));
    }

    #[test]
    fn table_shows_raw_values_and_row_count() {
        let (text, rows) = render(OutputFormat::Table, &[all_batch()]);
        assert_eq!(rows, 3);
        for needle in [
            "dyn",
            "plain",
            "2024-03-01T10:00:00.1234567Z",
            "-00:00:01",
            r#"{"a":[1,2],"b":"x"}"#,
            r#"[1,"two"]"#,
            "a,b \"q\"",
            "NaN",
        ] {
            assert!(text.contains(needle), "missing {needle}:\n{text}");
        }
        assert!(text.ends_with("(3 rows)\n"), "{text}");
        assert!(!text.contains("more rows"));
    }

    #[test]
    fn table_caps_rows() {
        let cols = vec![("n".to_string(), ScalarType::Long)];
        let schema = Arc::new(Schema::new(vec![field("n", ScalarType::Long)]));
        let mk = |v: Vec<i64>| match RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from(v)) as ArrayRef],
        ) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        let batches = [mk(vec![101, 102, 103]), mk(vec![104, 105, 106, 107])];
        let (text, rows) = render_with(OutputFormat::Table, cols, &batches, Some(5));
        assert_eq!(rows, 7);
        assert!(text.contains("105") && !text.contains("106"), "{text}");
        assert!(
            text.ends_with("... 2 more rows (use --format csv or --output to see all)\n(7 rows)\n"),
            "{text}"
        );
    }

    #[test]
    fn table_zero_rows_and_one_row() {
        let (text, rows) = render(OutputFormat::Table, &[]);
        assert_eq!(rows, 0);
        assert!(text.contains("dyn"), "{text}");
        assert!(text.ends_with("(0 rows)\n"), "{text}");

        let (text, rows) = render(OutputFormat::Table, &[all_batch().slice(0, 1)]);
        assert_eq!(rows, 1);
        assert!(text.ends_with("(1 row)\n"), "{text}");
    }

    #[test]
    fn lenient_input_types_and_wrong_width() {
        // int delivered as Int64, string as Utf8View.
        let cols = vec![
            ("i".to_string(), ScalarType::Int),
            ("s".to_string(), ScalarType::String),
        ];
        let batch = RecordBatch::try_from_iter(vec![
            (
                "i",
                Arc::new(Int64Array::from(vec![Some(3), None])) as ArrayRef,
            ),
            (
                "s",
                Arc::new(StringViewArray::from(vec![Some("x\"y"), None])) as ArrayRef,
            ),
        ]);
        let batch = match batch {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        let (text, _) = render_with(
            OutputFormat::Csv,
            cols.clone(),
            std::slice::from_ref(&batch),
            None,
        );
        assert_eq!(text, "i,s\n3,\"x\"\"y\"\n,\n");

        // A batch with the wrong number of columns is an error, not a panic.
        let sink = Shared::default();
        let mut w = ResultWriter::new(OutputFormat::Json, cols[..1].to_vec(), Box::new(sink));
        assert!(w.write_batch(&batch).is_err());
    }

    #[test]
    fn csv_single_null_column() {
        let cols = vec![("s".to_string(), ScalarType::String)];
        let batch = RecordBatch::try_from_iter(vec![(
            "s",
            Arc::new(StringArray::from(vec![None, Some("v")])) as ArrayRef,
        )]);
        let batch = match batch {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        let (text, _) = render_with(OutputFormat::Csv, cols, &[batch], None);
        // The csv crate writes a lone empty field as `""` so the record is not a blank line.
        assert_eq!(text, "s\n\"\"\nv\n");
    }
}
