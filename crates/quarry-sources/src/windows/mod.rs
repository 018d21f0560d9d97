//! Windows event logs as hunting tables.
//!
//! Raw Windows events — `.evtx` files, and JSON renderings of them (OTRF/Mordor flattened
//! NXLog rows, Winlogbeat documents, Sentinel `SecurityEvent`/`Event` exports, `evtx_dump`
//! output) — become rows of `SecurityEvent`, `DeviceLogonEvents`, `DeviceProcessEvents`,
//! `DeviceNetworkEvents`, `WindowsEvent` and `Event`, with those tables' published columns
//! (`schemas/*.schema`; where each value comes from: `docs/tables.md`).
//!
//! One job per module:
//! - `event`: [`WinEvent`], the normalised event, and reading the XML rendering of a record;
//! - `layouts`: the JSON layouts → [`WinEvent`];
//! - `reader`: recognising files by content and streaming their events; EVTX records are
//!   rendered, parsed and converted to rows on the `evtx` crate's rayon workers, per chunk;
//! - `tables`: which events feed which table, and each column's value ([`WinTable`], [`Row`]);
//! - `lookups`: fixed translations (logon type names, failure reasons, IP classes, …).
//!
//! The conversion is independent of the query engine: [`read`] with a [`Convert`] that calls
//! [`WinTable::feeds`] / [`fill`] is all an `ingest` command needs to write the same rows to
//! Parquet. The table provider side is [`scan`], used by the file scan for these formats.

mod event;
mod layouts;
mod lookups;
mod reader;
mod tables;

pub use event::{WinEvent, parse_int};
pub use layouts::{Layout, classify, from_json};
pub use lookups::{failure_reason, ip_type, logon_type_name};
pub use reader::{Convert, Item, Sniff, WinFormat, read, sniff};
pub use tables::{Columns, Row, WinTable, fill};

use crate::error::{BadRowKind, SourceError};
use crate::json::Flow;
use crate::scan::{ScanEnd, ScanSpec, Sink};
use crate::values::Parsed;
use datafusion::arrow::record_batch::RecordBatch;
use std::sync::Arc;

/// A datetime (ns since the epoch) as ISO 8601 UTC with 7 fractional digits.
pub fn format_time(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let sub = ns.rem_euclid(1_000_000_000);
    match chrono::DateTime::from_timestamp(secs, sub as u32) {
        Some(t) => format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), sub / 100),
        None => String::new(),
    }
}

/// How many unreadable chunks/records of one file are described one by one in the notes.
const NOTED_PER_FILE: u64 = 3;

/// Scans one Windows event file into batches of `spec.table` (one of [`WinTable`]).
pub(crate) fn scan(
    spec: &ScanSpec<'_>,
    format: WinFormat,
    emit: &mut dyn FnMut(RecordBatch) -> bool,
) -> Result<(), ScanEnd> {
    let Some(table) = WinTable::from_name(spec.table) else {
        return Err(ScanEnd::Error(SourceError::at(
            spec.path,
            None,
            format!("{} rows cannot be read from Windows events", spec.table),
        )));
    };
    let cols = Arc::new(Columns::new(spec.out));
    let (lo, hi) = spec.time_range;
    let convert: Convert<Vec<Parsed<'static>>> = Arc::new(move |ev: WinEvent| {
        if !table.feeds(&ev) {
            return None;
        }
        // Time pruning on the event's own time (System/TimeCreated); events without one are
        // kept (the query's filter, which stays above the scan, decides).
        if let Some(t) = ev.time_ns
            && (t < lo || t > hi)
        {
            return None;
        }
        let mut row = Row::new(&cols);
        fill(table, &ev, &mut row);
        Some(row.finish())
    });
    let mut sink = Sink::new(spec, emit);
    let (mut read_n, mut bad_n) = (0u64, 0u64);
    let path = spec.path;
    read(
        path,
        format,
        convert,
        &mut |item| -> Result<Flow, ScanEnd> {
            match item {
                Item::Record(Some(cells)) => {
                    read_n += 1;
                    sink.push(&cells)?;
                }
                Item::Record(None) => read_n += 1,
                Item::Bad {
                    location,
                    number,
                    message,
                } => {
                    if !spec.skip_bad_rows {
                        return Err(ScanEnd::Error(SourceError::at(
                            path,
                            None,
                            format!(
                                "{} {location}: {message} (--skip-bad-rows skips unreadable records and counts them)",
                                format.name()
                            ),
                        )));
                    }
                    bad_n += 1;
                    spec.report.record(path, BadRowKind::BadEvent, number);
                    if bad_n <= NOTED_PER_FILE {
                        spec.report
                            .note(format!("{}: skipped {location}: {message}", path.display()));
                    }
                }
            }
            Ok(Flow::Continue)
        },
        &ScanEnd::Error,
    )?;
    if bad_n > 0 {
        spec.report.note(format!(
            "{}: read {read_n} event(s), skipped {bad_n} unreadable chunk(s)/record(s)",
            path.display()
        ));
    }
    sink.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_text() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(
            format_time(1_636_813_858_226_925_000),
            "2021-11-13T14:30:58.2269250Z"
        );
    }
}
