//! File-backed tables: CSV, JSON (array, lines, Advanced Hunting API response, streaming-API
//! envelope), Parquet and Windows event logs (EVTX and JSON renderings of events, see
//! [`windows`]), read as streams of Arrow record batches with the documented KQL types of
//! known tables.

mod bind;
mod error;
mod exec;
pub mod external;
mod format;
mod json;
mod scan;
pub mod schemas;
pub mod types;
mod values;
pub mod windows;

pub use bind::{BoundTable, bind_table};
pub use error::{
    BadRowKind, FileStats, Progress, ReadOptions, SkipCount, SkipReport, SourceError, TimeWindow,
};
pub use exec::{FileScanExec, FileTable};
pub use format::Format;
pub use scan::BATCH_SIZE;
pub use values::{parse_datetime, parse_timespan};

pub use datafusion;
