//! The table provider and its execution plan: one partition per file (per group of row groups
//! for Parquet), each streamed from a blocking reader thread through a bounded channel.

use crate::error::{ReadOptions, SkipReport, SourceError};
use crate::format::Format;
use crate::scan::{ScanEnd, ScanSpec, scan_file};
use crate::types::{ScalarType, kql_type_of};
use async_trait::async_trait;
use datafusion::arrow::array::{Array, BooleanArray, TimestampNanosecondArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{
    Between, BinaryExpr, Expr, Operator, TableProviderFilterPushDown, TableType,
};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A file accepted for a table.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub path: PathBuf,
    pub format: Format,
    pub row_groups: usize,
}

/// One partition's work: a file, or some consecutive row groups of a Parquet file.
#[derive(Debug, Clone)]
struct Part {
    file: usize,
    row_groups: Option<Vec<usize>>,
}

/// Row groups of one Parquet file are split into at most this many partitions.
fn parquet_splits() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2)
}

fn plan_parts(files: &[FileEntry]) -> Vec<Part> {
    let mut parts = Vec::new();
    for (i, f) in files.iter().enumerate() {
        if f.format == Format::Parquet && f.row_groups > 1 {
            let k = parquet_splits().min(f.row_groups);
            let (base, extra) = (f.row_groups / k, f.row_groups % k);
            let mut start = 0;
            for j in 0..k {
                let len = base + usize::from(j < extra);
                parts.push(Part {
                    file: i,
                    row_groups: Some((start..start + len).collect()),
                });
                start += len;
            }
        } else {
            parts.push(Part {
                file: i,
                row_groups: None,
            });
        }
    }
    parts
}

/// A table read from files.
#[derive(Debug)]
pub struct FileTable {
    table: String,
    schema: SchemaRef,
    files: Arc<Vec<FileEntry>>,
    opts: ReadOptions,
    report: Arc<SkipReport>,
}

impl FileTable {
    pub fn new(
        table: &str,
        schema: SchemaRef,
        files: Vec<FileEntry>,
        opts: ReadOptions,
        report: Arc<SkipReport>,
    ) -> Self {
        Self {
            table: table.to_string(),
            schema,
            files: Arc::new(files),
            opts,
            report,
        }
    }

    /// The files read, in order.
    pub fn files(&self) -> Vec<PathBuf> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }

    /// The execution plan reading the given columns (indices into the table schema).
    pub fn scan_plan(&self, projection: Option<&Vec<usize>>) -> Result<Arc<FileScanExec>> {
        self.scan_plan_in(projection, FULL_RANGE)
    }

    /// The table's time column when some of its files can skip records by time.
    fn prunable_time_column(&self) -> Option<&'static str> {
        if !self
            .files
            .iter()
            .any(|f| matches!(f.format, Format::Windows(_)))
        {
            return None;
        }
        ["TimeGenerated", "Timestamp"]
            .into_iter()
            .find(|c| self.schema.index_of(c).is_ok())
    }

    /// Like [`FileTable::scan_plan`], reading only records whose time is in `range` where the
    /// format allows (the filters stay above the scan: pruning is a shortcut, not the filter).
    pub fn scan_plan_in(
        &self,
        projection: Option<&Vec<usize>>,
        time_range: (i64, i64),
    ) -> Result<Arc<FileScanExec>> {
        let indices: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let projected = Arc::new(self.schema.project(&indices)?);
        // The `--since`/`--until` window: readers prune on it where they can (Windows events),
        // and every batch is filtered on the time column, read even when not projected.
        let mut read_indices = indices.clone();
        let mut time_range = time_range;
        let mut window = None;
        let tw = self.opts.time_window;
        if tw.is_bounded()
            && let Some(ti) = ["TimeGenerated", "Timestamp"]
                .into_iter()
                .find_map(|c| self.schema.index_of(c).ok())
        {
            let bounds = tw.inclusive();
            time_range = (time_range.0.max(bounds.0), time_range.1.min(bounds.1));
            let column = match read_indices.iter().position(|&i| i == ti) {
                Some(p) => p,
                None => {
                    read_indices.push(ti);
                    read_indices.len() - 1
                }
            };
            window = Some(WindowFilter {
                column,
                bounds,
                keep: indices.len(),
            });
        }
        let read_schema = Arc::new(self.schema.project(&read_indices)?);
        let cols = |f: &datafusion::arrow::datatypes::Field| (f.name().clone(), kql_type_of(f));
        let out = read_schema.fields().iter().map(|f| cols(f)).collect();
        let check = self
            .schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(i, _)| !read_indices.contains(i))
            .map(|(_, f)| cols(f))
            .filter(|(_, t)| {
                !matches!(
                    t,
                    ScalarType::String | ScalarType::Guid | ScalarType::Dynamic
                )
            })
            .collect();
        let parts = plan_parts(&self.files);
        let props = PlanProperties::new(
            EquivalenceProperties::new(projected.clone()),
            Partitioning::UnknownPartitioning(parts.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(Arc::new(FileScanExec {
            table: self.table.clone(),
            schema: projected,
            read_schema,
            window,
            out: Arc::new(out),
            check: Arc::new(check),
            files: self.files.clone(),
            parts,
            opts: self.opts,
            report: self.report.clone(),
            props: Arc::new(props),
            time_range,
        }))
    }
}

/// The bytes of `file` that a part reading `row_groups` covers (all of it without row groups).
fn part_bytes(file: &FileEntry, row_groups: Option<&[usize]>) -> u64 {
    let size = std::fs::metadata(&file.path).map_or(0, |m| m.len());
    match row_groups {
        Some(rg) if file.row_groups > 0 => size * rg.len() as u64 / file.row_groups as u64,
        _ => size,
    }
}

/// No time bounds.
pub const FULL_RANGE: (i64, i64) = (i64::MIN, i64::MAX);

/// A timestamp literal in ns.
fn timestamp_ns(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(v, _) => match v {
            ScalarValue::TimestampNanosecond(Some(x), _) => Some(*x),
            ScalarValue::TimestampMicrosecond(Some(x), _) => x.checked_mul(1_000),
            ScalarValue::TimestampMillisecond(Some(x), _) => x.checked_mul(1_000_000),
            ScalarValue::TimestampSecond(Some(x), _) => x.checked_mul(1_000_000_000),
            _ => None,
        },
        Expr::Cast(c) => timestamp_ns(&c.expr),
        Expr::TryCast(c) => timestamp_ns(&c.expr),
        _ => None,
    }
}

fn is_column(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Column(c) => c.name == name,
        Expr::Cast(c) => is_column(&c.expr, name),
        _ => false,
    }
}

/// The inclusive time bounds a filter puts on `col`, if it is a comparison of the column with
/// a timestamp literal, a `between`, or an `and` of such.
fn time_bounds(e: &Expr, col: &str) -> Option<(i64, i64)> {
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            if *op == Operator::And {
                let (a, b) = (time_bounds(left, col), time_bounds(right, col));
                return match (a, b) {
                    (Some(a), Some(b)) => Some((a.0.max(b.0), a.1.min(b.1))),
                    (Some(a), None) | (None, Some(a)) => Some(a),
                    (None, None) => None,
                };
            }
            let (op, t) = if is_column(left, col) {
                (*op, timestamp_ns(right)?)
            } else if is_column(right, col) {
                (op.swap()?, timestamp_ns(left)?)
            } else {
                return None;
            };
            match op {
                Operator::Gt => Some((t.saturating_add(1), i64::MAX)),
                Operator::GtEq => Some((t, i64::MAX)),
                Operator::Lt => Some((i64::MIN, t.saturating_sub(1))),
                Operator::LtEq => Some((i64::MIN, t)),
                Operator::Eq => Some((t, t)),
                _ => None,
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if is_column(expr, col) => Some((timestamp_ns(low)?, timestamp_ns(high)?)),
        _ => None,
    }
}

#[async_trait]
impl TableProvider for FileTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut range = FULL_RANGE;
        if let Some(col) = self.prunable_time_column() {
            for f in filters {
                if let Some((lo, hi)) = time_bounds(f, col) {
                    range = (range.0.max(lo), range.1.min(hi));
                }
            }
        }
        Ok(self.scan_plan_in(projection, range)?)
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        let col = self.prunable_time_column();
        Ok(filters
            .iter()
            .map(|f| match col {
                Some(c) if time_bounds(f, c).is_some() => TableProviderFilterPushDown::Inexact,
                _ => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }
}

/// The `--since`/`--until` filter applied to every batch a reader builds.
#[derive(Debug, Clone, Copy)]
struct WindowFilter {
    /// Index of the time column in the read batch.
    column: usize,
    /// Inclusive bounds in ns.
    bounds: (i64, i64),
    /// How many leading columns of the read batch the plan outputs.
    keep: usize,
}

impl WindowFilter {
    /// The rows of `batch` inside the window, with the output columns only; `None` when no
    /// row is left.
    fn apply(&self, batch: RecordBatch) -> Result<Option<RecordBatch>> {
        let (lo, hi) = self.bounds;
        let times = batch.column(self.column);
        let Some(times) = times.as_any().downcast_ref::<TimestampNanosecondArray>() else {
            return Err(DataFusionError::Internal(format!(
                "the time column has type {}, not a datetime",
                times.data_type()
            )));
        };
        let keep: BooleanArray = times
            .iter()
            .map(|t| Some(t.is_some_and(|t| t >= lo && t <= hi)))
            .collect();
        let filtered = filter_record_batch(&batch, &keep)?;
        if filtered.num_rows() == 0 {
            return Ok(None);
        }
        let cols: Vec<usize> = (0..self.keep).collect();
        Ok(Some(filtered.project(&cols)?))
    }
}

/// Scans the files of a [`FileTable`].
#[derive(Debug)]
pub struct FileScanExec {
    table: String,
    schema: SchemaRef,
    /// What the readers build: the output columns, then the time column when a window
    /// needs it and it is not among them.
    read_schema: SchemaRef,
    window: Option<WindowFilter>,
    out: Arc<Vec<(String, ScalarType)>>,
    check: Arc<Vec<(String, ScalarType)>>,
    files: Arc<Vec<FileEntry>>,
    parts: Vec<Part>,
    opts: ReadOptions,
    report: Arc<SkipReport>,
    props: Arc<PlanProperties>,
    time_range: (i64, i64),
}

impl FileScanExec {
    /// Names of the columns this plan builds.
    pub fn columns(&self) -> Vec<String> {
        self.out.iter().map(|(n, _)| n.clone()).collect()
    }
}

impl DisplayAs for FileScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "QuarryFileScan: table={}, files={}, partitions={}, columns=[{}]",
            self.table,
            self.files.len(),
            self.parts.len(),
            self.columns().join(", ")
        )?;
        if self.time_range != FULL_RANGE {
            write!(
                f,
                ", time_range=[{}, {}]",
                self.time_range.0, self.time_range.1
            )?;
        }
        Ok(())
    }
}

impl ExecutionPlan for FileScanExec {
    fn name(&self) -> &str {
        "QuarryFileScan"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal(
                "QuarryFileScan has no children".into(),
            ))
        }
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = self.schema.clone();
        let Some(part) = self.parts.get(partition).cloned() else {
            // No files (cannot happen through bind_table): one empty partition.
            return Ok(Box::pin(RecordBatchStreamAdapter::new(
                schema,
                futures::stream::empty(),
            )));
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<RecordBatch>>(2);
        let files = self.files.clone();
        let (out, check) = (self.out.clone(), self.check.clone());
        let (table, opts, report) = (self.table.clone(), self.opts, self.report.clone());
        let time_range = self.time_range;
        let batch_schema = self.read_schema.clone();
        let window = self.window;
        let work = move || {
            let Some(file) = files.get(part.file) else {
                return;
            };
            let started = std::time::Instant::now();
            let mut rows = 0u64;
            let spec = ScanSpec {
                path: &file.path,
                format: file.format,
                table: &table,
                out: &out,
                check: &check,
                schema: batch_schema,
                row_groups: part.row_groups.as_deref(),
                skip_bad_rows: opts.skip_bad_rows,
                report: &report,
                time_range,
            };
            let mut send = |b: RecordBatch| {
                let b = match window {
                    None => b,
                    Some(w) => match w.apply(b) {
                        Ok(Some(b)) => b,
                        Ok(None) => return true,
                        Err(e) => {
                            let _ = tx.blocking_send(Err(e));
                            return false;
                        }
                    },
                };
                rows += b.num_rows() as u64;
                report.add_rows(b.num_rows() as u64);
                tx.blocking_send(Ok(b)).is_ok()
            };
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                scan_file(&spec, &mut send)
            }));
            let bytes = part_bytes(file, part.row_groups.as_deref());
            report.finish_part(&table, &file.path, rows, started.elapsed(), bytes);
            let err = match run {
                Ok(Ok(())) | Ok(Err(ScanEnd::Stopped)) => return,
                Ok(Err(ScanEnd::Error(e))) => e,
                Err(_) => SourceError::at(&file.path, None, "internal error: the reader panicked"),
            };
            let _ = tx.blocking_send(Err(DataFusionError::External(Box::new(err))));
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn_blocking(work);
            }
            Err(_) => {
                std::thread::spawn(work);
            }
        }
        let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}
