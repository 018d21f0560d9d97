//! `datetime_local_to_utc(local, tz)` and `datetime_utc_to_local(utc, tz)` with the IANA time
//! zone database (`chrono-tz`). An unknown zone gives null. A local time in a daylight-saving
//! gap is read with the offset after the transition (the reference's Europe/Brussels example:
//! local 02:00 on 2022-03-27 is 00:00 UTC); an ambiguous local time (the repeated hour) is
//! read as standard time.

use super::fnargs::{batch_len, str_at, strs};
use super::registry::{Simple, ret};
use chrono::{LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, TimestampNanosecondArray};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use std::sync::Arc;

fn naive(ns: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp(
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000) as u32,
    )
    .map(|d| d.naive_utc())
}

fn ns_of(d: NaiveDateTime) -> Option<i64> {
    d.and_utc().timestamp_nanos_opt()
}

fn local_to_utc(ns: i64, tz: Tz) -> Option<i64> {
    let local = naive(ns)?;
    let offset_secs = match tz.offset_from_local_datetime(&local) {
        LocalResult::Single(o) => o.fix().local_minus_utc(),
        // Standard time is the smaller offset.
        LocalResult::Ambiguous(a, b) => a.fix().local_minus_utc().min(b.fix().local_minus_utc()),
        LocalResult::None => {
            // In a gap: the offset in force just after it.
            let later = local + chrono::Duration::hours(3);
            match tz.offset_from_local_datetime(&later) {
                LocalResult::Single(o) => o.fix().local_minus_utc(),
                LocalResult::Ambiguous(a, _) => a.fix().local_minus_utc(),
                LocalResult::None => return None,
            }
        }
    };
    ns.checked_sub(i64::from(offset_secs) * 1_000_000_000)
}

fn utc_to_local(ns: i64, tz: Tz) -> Option<i64> {
    let utc = naive(ns)?;
    ns_of(tz.from_utc_datetime(&utc).naive_local())
}

fn convert(args: &[ColumnarValue], rows: usize, f: fn(i64, Tz) -> Option<i64>) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let a = &super::datetime::ts_array(args, 0, n)?;
    let zones = strs(args, 1, n)?;
    let mut cached: Option<(String, Option<Tz>)> = None;
    let out: TimestampNanosecondArray = (0..n)
        .map(|i| {
            if a.is_null(i) {
                return None;
            }
            let name = str_at(&zones, i);
            if cached.as_ref().is_none_or(|(c, _)| c != name) {
                cached = Some((name.to_string(), name.parse::<Tz>().ok()));
            }
            let tz = cached.as_ref()?.1?;
            f(a.value(i), tz)
        })
        .collect();
    Ok(Arc::new(out.with_timezone("UTC")))
}

fn datetime_local_to_utc(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    convert(args, rows, local_to_utc)
}

fn datetime_utc_to_local(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    convert(args, rows, utc_to_local)
}

pub const FUNCTIONS: &[Simple] = &[
    Simple {
        name: "datetime_local_to_utc",
        args: (2, 2),
        ret: ret::datetime,
        kernel: datetime_local_to_utc,
    },
    Simple {
        name: "datetime_utc_to_local",
        args: (2, 2),
        ret: ret::datetime,
        kernel: datetime_utc_to_local,
    },
];
