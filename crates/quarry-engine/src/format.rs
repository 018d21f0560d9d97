//! Value formatting: the text form of KQL values (CSV cells, `tostring()`) and their JSON form.
//!
//! Everything here is pure and total: no value, Arrow type or malformed text makes these
//! functions panic. Columns are expected in the Arrow types of
//! [`quarry_sources::types::arrow_type`], but other encodings of the same values are accepted
//! (`Utf8View`/`LargeUtf8` strings, any integer width, timestamps of any unit or zone,
//! dictionaries, decimals, nested lists/structs for `dynamic`...).
//!
//! Formats (Kusto behaviour they follow, from the Microsoft documentation):
//!
//! * **datetime** – ISO 8601 in UTC with a `Z` suffix, `2024-03-01T10:00:00Z`. Kusto datetimes
//!   are 100 ns ticks; the fraction is printed as exactly 7 digits when it is non-zero
//!   (`2024-03-01T10:00:00.1234567Z`) and omitted otherwise. Finer nanoseconds are truncated
//!   (towards the earlier tick, also before 1970).
//! * **timespan** – the .NET "constant" (`c`) TimeSpan format Kusto prints:
//!   `[-][d.]hh:mm:ss[.fffffff]` (docs: *Scalar data types / timespan*, *format_timespan()*,
//!   .NET *Standard TimeSpan format strings*, `c` specifier).
//! * **real** – .NET `double.ToString()` (Kusto's engine is .NET), i.e. the *shortest
//!   round-trip* digits, written in fixed notation when the decimal exponent `e`
//!   (`x = d.ddd × 10^e`) satisfies `-5 < e < 17`, otherwise in scientific notation with an
//!   upper-case `E`, a sign and at least two exponent digits (`1E+21`, `1.5E-05`). See .NET
//!   *Standard numeric format strings*, "G"/"R" specifiers: fixed point is used while the
//!   exponent is ≥ -5 and below the precision, which for the round-trip format of a double is
//!   17 digits in current .NET. Special values use the invariant-culture symbols `NaN`,
//!   `Infinity`, `-Infinity`; `-0.0` prints as `-0`.
//! * **bool** – `true` / `false`. **int/long** – decimal digits.
//! * **string/guid** – the text itself. **dynamic** – compact JSON text.
//!
//! In JSON, numbers are JSON numbers, `NaN`/`±Infinity` (not representable in JSON) become the
//! strings `"NaN"`, `"Infinity"`, `"-Infinity"`, datetime/timespan are their text above, and a
//! dynamic value is embedded as JSON (text that is not valid JSON becomes a JSON string).

use std::fmt::Write as _;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Float16Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, Time32MillisecondType, Time32SecondType,
    Time64MicrosecondType, Time64NanosecondType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use quarry_sources::types::{ScalarType, arrow_type, kql_type_of, kql_type_of_arrow};
use serde_json::Value;

const NANOS_PER_SEC: i64 = 1_000_000_000;
const NANOS_PER_TICK: u32 = 100;
const SECS_PER_DAY: i64 = 86_400;

// ---------------------------------------------------------------------------------------------
// Scalar formatting
// ---------------------------------------------------------------------------------------------

/// A datetime (nanoseconds since the Unix epoch, UTC) as Kusto prints it:
/// `2024-03-01T10:00:00Z`, or with exactly 7 fractional digits when the 100 ns tick part is
/// non-zero (`2024-03-01T10:00:00.1234567Z`). Nanoseconds below a tick are truncated.
pub fn format_datetime(ns: i64) -> String {
    let secs = ns.div_euclid(NANOS_PER_SEC);
    // rem_euclid is in 0..1e9, so the conversion cannot fail.
    let sub = u32::try_from(ns.rem_euclid(NANOS_PER_SEC)).unwrap_or(0);
    datetime_from_parts(secs, sub)
}

/// A timespan (nanoseconds) as Kusto prints it: `[-][d.]hh:mm:ss[.fffffff]`, e.g. `01:00:00`,
/// `1.02:03:04.5000000`, `-00:00:01`, `00:00:00.0000001`. Nanoseconds below a 100 ns tick are
/// truncated (towards zero).
pub fn format_timespan(ns: i64) -> String {
    timespan_from_nanos(i128::from(ns))
}

/// A real as Kusto (.NET `double.ToString()`) prints it; see the module docs.
/// `1.5`, `100`, `0.0001`, `1E-05`, `1E+21`, `NaN`, `Infinity`, `-Infinity`.
pub fn format_real(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e-7", "1e21".
    let sci = format!("{x:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => match e.parse::<i32>() {
            Ok(e) => (m, e),
            Err(_) => return format!("{x}"),
        },
        None => return format!("{x}"),
    };
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    let max_fixed_exp = i32::try_from(digits.len()).unwrap_or(17).max(17);
    if exp > -5 && exp < max_fixed_exp {
        if exp >= 0 {
            let int_len = usize::try_from(exp).unwrap_or(0) + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            let zeros = usize::try_from(-exp - 1).unwrap_or(0);
            out.extend(std::iter::repeat_n('0', zeros));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "E{sign}{:02}", exp.unsigned_abs());
    }
    out
}

/// Datetime text from whole seconds since the epoch and a sub-second part in `0..1e9` ns.
fn datetime_from_parts(secs: i64, sub_nanos: u32) -> String {
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let mut s = String::with_capacity(28);
    let _ = write!(
        s,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    let ticks = sub_nanos / NANOS_PER_TICK;
    if ticks != 0 {
        let _ = write!(s, ".{ticks:07}");
    }
    s.push('Z');
    s
}

/// Proleptic Gregorian (year, month, day) of a day number relative to 1970-01-01
/// (H. Hinnant's `civil_from_days`; exact for the whole i64 seconds range).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Timespan text from a (possibly wider than i64) nanosecond count.
fn timespan_from_nanos(ns: i128) -> String {
    let abs = ns.unsigned_abs();
    let ticks_total = abs / u128::from(NANOS_PER_TICK);
    let negative = ns < 0 && ticks_total != 0;
    let frac_ticks = ticks_total % 10_000_000;
    let total_secs = ticks_total / 10_000_000;
    let days = total_secs / 86_400;
    let h = total_secs / 3600 % 24;
    let m = total_secs / 60 % 60;
    let s = total_secs % 60;
    let mut out = String::with_capacity(24);
    if negative {
        out.push('-');
    }
    if days > 0 {
        let _ = write!(out, "{days}.");
    }
    let _ = write!(out, "{h:02}:{m:02}:{s:02}");
    if frac_ticks != 0 {
        let _ = write!(out, ".{frac_ticks:07}");
    }
    out
}

/// Removes JSON whitespace outside string literals (the caller has checked the text is JSON).
fn strip_json_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in s.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

/// Whether JSON text has whitespace outside string literals.
fn has_json_whitespace(s: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for b in s.bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            return true;
        }
    }
    false
}

/// The compact form of stored dynamic text. Valid JSON loses its insignificant whitespace
/// (numbers and strings are kept byte for byte); anything else is returned unchanged.
fn compact_dynamic_text(s: &str) -> String {
    if has_json_whitespace(s) && serde_json::from_str::<Value>(s).is_ok() {
        strip_json_whitespace(s)
    } else {
        s.to_string()
    }
}

fn real_json(x: f64) -> Value {
    if x.is_finite() {
        Value::from(x)
    } else {
        Value::String(format_real(x))
    }
}

// ---------------------------------------------------------------------------------------------
// Cells
// ---------------------------------------------------------------------------------------------

/// One non-null cell value, decoded from whatever Arrow encoding it arrived in.
enum Cell<'a> {
    Bool(bool),
    Int(i128),
    Real(f64),
    Str(&'a str),
    Owned(String),
    DateTime { secs: i64, nanos: u32 },
    TimeSpan(i128),
    Json(Value),
}

impl Cell<'_> {
    fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Bool(b) => Cell::Bool(b),
            Cell::Int(i) => Cell::Int(i),
            Cell::Real(x) => Cell::Real(x),
            Cell::Str(s) => Cell::Owned(s.to_string()),
            Cell::Owned(s) => Cell::Owned(s),
            Cell::DateTime { secs, nanos } => Cell::DateTime { secs, nanos },
            Cell::TimeSpan(n) => Cell::TimeSpan(n),
            Cell::Json(v) => Cell::Json(v),
        }
    }
}

/// Splits a count of `per_sec` units into (seconds, nanoseconds).
fn split_time(v: i64, per_sec: i64) -> (i64, u32) {
    let secs = v.div_euclid(per_sec);
    let sub = v.rem_euclid(per_sec);
    let nanos = i128::from(sub) * i128::from(NANOS_PER_SEC / per_sec);
    (secs, u32::try_from(nanos).unwrap_or(0))
}

fn nanos_per_unit(unit: TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// An integer cell, read as nanoseconds when the column is a datetime or timespan.
fn int_cell(v: i128, ty: ScalarType) -> Cell<'static> {
    match ty {
        ScalarType::DateTime => match i64::try_from(v) {
            Ok(ns) => {
                let (secs, nanos) = split_time(ns, NANOS_PER_SEC);
                Cell::DateTime { secs, nanos }
            }
            Err(_) => Cell::Int(v),
        },
        ScalarType::TimeSpan => Cell::TimeSpan(v),
        _ => Cell::Int(v),
    }
}

/// Whether [`cell`] decodes this Arrow type directly (without a cast).
fn is_direct(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Null
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Timestamp(..)
            | DataType::Date32
            | DataType::Date64
            | DataType::Duration(_)
            | DataType::Time32(_)
            | DataType::Time64(_)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::Struct(_)
            | DataType::Map(..)
    )
}

macro_rules! prim {
    ($array:expr, $t:ty, $row:expr) => {
        $array.as_primitive_opt::<$t>().map(|a| a.value($row))
    };
}

/// Decodes one cell; `None` for null (or an out-of-range row).
fn cell(array: &dyn Array, row: usize, ty: ScalarType) -> Option<Cell<'_>> {
    if row >= array.len() || array.is_null(row) {
        return None;
    }
    let c = match array.data_type() {
        DataType::Null => return None,
        DataType::Boolean => Cell::Bool(array.as_boolean_opt()?.value(row)),
        DataType::Int8 => int_cell(prim!(array, Int8Type, row)?.into(), ty),
        DataType::Int16 => int_cell(prim!(array, Int16Type, row)?.into(), ty),
        DataType::Int32 => int_cell(prim!(array, Int32Type, row)?.into(), ty),
        DataType::Int64 => int_cell(prim!(array, Int64Type, row)?.into(), ty),
        DataType::UInt8 => int_cell(prim!(array, UInt8Type, row)?.into(), ty),
        DataType::UInt16 => int_cell(prim!(array, UInt16Type, row)?.into(), ty),
        DataType::UInt32 => int_cell(prim!(array, UInt32Type, row)?.into(), ty),
        DataType::UInt64 => int_cell(prim!(array, UInt64Type, row)?.into(), ty),
        DataType::Float16 => Cell::Real(prim!(array, Float16Type, row)?.to_f64()),
        DataType::Float32 => Cell::Real(prim!(array, Float32Type, row)?.into()),
        DataType::Float64 => Cell::Real(prim!(array, Float64Type, row)?),
        DataType::Utf8 => Cell::Str(array.as_string_opt::<i32>()?.value(row)),
        DataType::LargeUtf8 => Cell::Str(array.as_string_opt::<i64>()?.value(row)),
        DataType::Utf8View => Cell::Str(array.as_string_view_opt()?.value(row)),
        DataType::Timestamp(unit, _) => {
            // Arrow timestamps count from the Unix epoch in UTC whatever the zone says.
            let (secs, nanos) = match unit {
                TimeUnit::Second => (prim!(array, TimestampSecondType, row)?, 0),
                TimeUnit::Millisecond => {
                    split_time(prim!(array, TimestampMillisecondType, row)?, 1_000)
                }
                TimeUnit::Microsecond => {
                    split_time(prim!(array, TimestampMicrosecondType, row)?, 1_000_000)
                }
                TimeUnit::Nanosecond => {
                    split_time(prim!(array, TimestampNanosecondType, row)?, NANOS_PER_SEC)
                }
            };
            Cell::DateTime { secs, nanos }
        }
        DataType::Date32 => {
            let days = i64::from(prim!(array, Date32Type, row)?);
            Cell::DateTime {
                secs: days * SECS_PER_DAY,
                nanos: 0,
            }
        }
        DataType::Date64 => {
            let (secs, nanos) = split_time(prim!(array, Date64Type, row)?, 1_000);
            Cell::DateTime { secs, nanos }
        }
        DataType::Duration(unit) => {
            let v = match unit {
                TimeUnit::Second => prim!(array, DurationSecondType, row)?,
                TimeUnit::Millisecond => prim!(array, DurationMillisecondType, row)?,
                TimeUnit::Microsecond => prim!(array, DurationMicrosecondType, row)?,
                TimeUnit::Nanosecond => prim!(array, DurationNanosecondType, row)?,
            };
            Cell::TimeSpan(i128::from(v) * nanos_per_unit(*unit))
        }
        DataType::Time32(unit) => {
            let v = match unit {
                TimeUnit::Second => prim!(array, Time32SecondType, row)?,
                TimeUnit::Millisecond => prim!(array, Time32MillisecondType, row)?,
                _ => return fallback(array, row, ty),
            };
            Cell::TimeSpan(i128::from(v) * nanos_per_unit(*unit))
        }
        DataType::Time64(unit) => {
            let v = match unit {
                TimeUnit::Microsecond => prim!(array, Time64MicrosecondType, row)?,
                TimeUnit::Nanosecond => prim!(array, Time64NanosecondType, row)?,
                _ => return fallback(array, row, ty),
            };
            Cell::TimeSpan(i128::from(v) * nanos_per_unit(*unit))
        }
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..) => Cell::Json(nested_json(array, row)),
        _ => return fallback(array, row, ty),
    };
    Some(c)
}

/// The Arrow type a column not decoded directly is cast to.
fn cast_target(dt: &DataType, ty: ScalarType) -> DataType {
    match dt {
        DataType::Dictionary(_, values) => values.as_ref().clone(),
        DataType::RunEndEncoded(_, values) => values.data_type().clone(),
        _ => arrow_type(ty),
    }
}

/// Cells of other Arrow types: cast the one value to a type decoded directly, else Arrow's
/// display text.
fn fallback(array: &dyn Array, row: usize, ty: ScalarType) -> Option<Cell<'static>> {
    let target = cast_target(array.data_type(), ty);
    if &target != array.data_type() {
        let one = array.slice(row, 1);
        let opts = CastOptions {
            safe: false,
            ..Default::default()
        };
        if let Ok(cast) = cast_with_options(&one, &target, &opts) {
            return cell(cast.as_ref(), 0, ty).map(Cell::into_owned);
        }
    }
    let text = ArrayFormatter::try_new(array, &FormatOptions::default())
        .map(|f| f.value(row).to_string())
        .unwrap_or_default();
    Some(Cell::Owned(text))
}

/// A nested Arrow value (list, struct, map) as JSON; leaves use [`cell_json`] rules.
fn nested_json(array: &dyn Array, row: usize) -> Value {
    if row >= array.len() || array.is_null(row) {
        return Value::Null;
    }
    fn items(values: &dyn Array, item_ty: ScalarType) -> Value {
        Value::Array(
            (0..values.len())
                .map(|i| json_of(values, i, item_ty))
                .collect(),
        )
    }
    match array.data_type() {
        DataType::List(f) => match array.as_list_opt::<i32>() {
            Some(l) => items(l.value(row).as_ref(), kql_type_of(f)),
            None => Value::Null,
        },
        DataType::LargeList(f) => match array.as_list_opt::<i64>() {
            Some(l) => items(l.value(row).as_ref(), kql_type_of(f)),
            None => Value::Null,
        },
        DataType::FixedSizeList(f, _) => match array.as_fixed_size_list_opt() {
            Some(l) => items(l.value(row).as_ref(), kql_type_of(f)),
            None => Value::Null,
        },
        DataType::Struct(fields) => match array.as_struct_opt() {
            Some(s) => Value::Object(
                fields
                    .iter()
                    .zip(s.columns())
                    .map(|(f, col)| (f.name().clone(), json_of(col.as_ref(), row, kql_type_of(f))))
                    .collect(),
            ),
            None => Value::Null,
        },
        DataType::Map(..) => match array.as_map_opt() {
            Some(m) => {
                let entries = m.value(row);
                let keys = entries.column(0);
                let values = entries.column(1);
                let key_ty = kql_type_of_arrow(keys.data_type());
                let value_ty = match entries.fields().get(1) {
                    Some(f) => kql_type_of(f),
                    None => kql_type_of_arrow(values.data_type()),
                };
                Value::Object(
                    (0..entries.len())
                        .map(|i| {
                            let k = text_of(keys.as_ref(), i, key_ty).unwrap_or_default();
                            (k, json_of(values.as_ref(), i, value_ty))
                        })
                        .collect(),
                )
            }
            None => Value::Null,
        },
        dt => json_of(array, row, kql_type_of_arrow(dt)),
    }
}

fn text_of(array: &dyn Array, row: usize, ty: ScalarType) -> Option<String> {
    Some(match cell(array, row, ty)? {
        Cell::Bool(b) => b.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Real(x) => format_real(x),
        Cell::Str(s) if ty == ScalarType::Dynamic => compact_dynamic_text(s),
        Cell::Str(s) => s.to_string(),
        Cell::Owned(s) if ty == ScalarType::Dynamic => compact_dynamic_text(&s),
        Cell::Owned(s) => s,
        Cell::DateTime { secs, nanos } => datetime_from_parts(secs, nanos),
        Cell::TimeSpan(ns) => timespan_from_nanos(ns),
        Cell::Json(v) => v.to_string(),
    })
}

fn json_of(array: &dyn Array, row: usize, ty: ScalarType) -> Value {
    let text_json = |s: &str| {
        if ty == ScalarType::Dynamic {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
        } else {
            Value::String(s.to_string())
        }
    };
    match cell(array, row, ty) {
        None => Value::Null,
        Some(Cell::Bool(b)) => Value::Bool(b),
        Some(Cell::Int(i)) => {
            if let Ok(v) = i64::try_from(i) {
                Value::from(v)
            } else if let Ok(v) = u64::try_from(i) {
                Value::from(v)
            } else {
                Value::String(i.to_string())
            }
        }
        Some(Cell::Real(x)) => real_json(x),
        Some(Cell::Str(s)) => text_json(s),
        Some(Cell::Owned(s)) => text_json(&s),
        Some(Cell::DateTime { secs, nanos }) => Value::String(datetime_from_parts(secs, nanos)),
        Some(Cell::TimeSpan(ns)) => Value::String(timespan_from_nanos(ns)),
        Some(Cell::Json(v)) => v,
    }
}

/// The text of one cell, as CSV output and `tostring()` show it; `None` for null.
///
/// bool → `true`/`false`; int/long → digits; real → [`format_real`]; datetime →
/// [`format_datetime`]; timespan → [`format_timespan`]; string/guid → the text as is;
/// dynamic → compact JSON text (stored text with insignificant whitespace is compacted).
pub fn cell_text(array: &ArrayRef, row: usize, ty: ScalarType) -> Option<String> {
    text_of(array.as_ref(), row, ty)
}

/// The JSON value of one cell: `null`; bool; int/long as numbers; real as a number (`NaN` and
/// infinities as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`); datetime/timespan as their
/// text; string/guid as strings; dynamic as the parsed JSON (invalid JSON text → a string).
pub fn cell_json(array: &ArrayRef, row: usize, ty: ScalarType) -> Value {
    json_of(array.as_ref(), row, ty)
}

/// Rewrites a column whose Arrow encoding [`cell_text`]/[`cell_json`] would have to cast cell
/// by cell (dictionary, run-end encoded, decimal...) into a directly readable type, once for
/// the whole column. Other columns (and columns that fail to cast) are returned as they are.
/// Purely an optimisation: the cell functions give the same result either way.
pub fn normalize_column(array: &ArrayRef, ty: ScalarType) -> ArrayRef {
    let mut current = array.clone();
    // Dictionary of decimals etc. may need two steps; bounded in case of odd nesting.
    for _ in 0..3 {
        if is_direct(current.data_type()) {
            break;
        }
        let target = cast_target(current.data_type(), ty);
        if &target == current.data_type() {
            break;
        }
        let opts = CastOptions {
            safe: false,
            ..Default::default()
        };
        match cast_with_options(&current, &target, &opts) {
            Ok(c) => current = c,
            Err(_) => break,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        BooleanArray, DictionaryArray, DurationNanosecondArray, Float64Array, Int32Array,
        Int64Array, LargeStringArray, ListArray, StringArray, StringViewArray, StructArray,
        TimestampMicrosecondArray, TimestampNanosecondArray, TimestampSecondArray,
    };
    use datafusion::arrow::datatypes::{Field, Int32Type as I32};
    use serde_json::json;
    use std::sync::Arc;

    const SEC: i64 = 1_000_000_000;
    /// 2024-03-01T10:00:00Z in ns.
    const T0: i64 = 1_709_287_200 * SEC;

    fn arr(a: impl Array + 'static) -> ArrayRef {
        Arc::new(a)
    }

    // Kusto prints datetimes as ISO 8601 UTC with `Z` (docs: "The datetime data type"; results
    // show e.g. `2024-03-01T10:00:00Z`, and 7 fractional digits = 100 ns ticks when present).
    #[test]
    fn datetime_whole_seconds_has_no_fraction() {
        assert_eq!(format_datetime(T0), "2024-03-01T10:00:00Z");
        assert_eq!(format_datetime(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn datetime_fraction_is_seven_digits_truncated() {
        assert_eq!(
            format_datetime(T0 + 123_456_700),
            "2024-03-01T10:00:00.1234567Z"
        );
        // Finer than a tick: truncated.
        assert_eq!(
            format_datetime(T0 + 123_456_789),
            "2024-03-01T10:00:00.1234567Z"
        );
        assert_eq!(format_datetime(T0 + 100), "2024-03-01T10:00:00.0000001Z");
        assert_eq!(
            format_datetime(T0 + 500_000_000),
            "2024-03-01T10:00:00.5000000Z"
        );
        // Below one tick: no fraction at all.
        assert_eq!(format_datetime(T0 + 99), "2024-03-01T10:00:00Z");
    }

    #[test]
    fn datetime_before_1970_and_extremes() {
        assert_eq!(format_datetime(-SEC), "1969-12-31T23:59:59Z");
        assert_eq!(format_datetime(-100), "1969-12-31T23:59:59.9999999Z");
        assert_eq!(format_datetime(-86_400 * SEC * 365), "1969-01-01T00:00:00Z");
        // 1900-03-01 (not a leap year in 1900).
        assert_eq!(
            format_datetime(-2_203_891_200 * SEC),
            "1900-03-01T00:00:00Z"
        );
        assert_eq!(format_datetime(951_782_400 * SEC), "2000-02-29T00:00:00Z");
        // pandas: Timestamp.min == 1677-09-21 00:12:43.145224192, max == 2262-04-11 23:47:16.854775807
        assert_eq!(format_datetime(i64::MIN), "1677-09-21T00:12:43.1452241Z");
        assert_eq!(format_datetime(i64::MAX), "2262-04-11T23:47:16.8547758Z");
    }

    // Kusto prints timespans in the .NET constant format `[-][d.]hh:mm:ss[.fffffff]`
    // (docs: "The timespan data type", format_timespan(); .NET "c" format specifier).
    #[test]
    fn timespan_formats() {
        assert_eq!(format_timespan(3600 * SEC), "01:00:00");
        assert_eq!(
            format_timespan(((26 * 60 + 3) * 60 + 4) * SEC + SEC / 2),
            "1.02:03:04.5000000"
        );
        assert_eq!(format_timespan(-SEC), "-00:00:01");
        assert_eq!(format_timespan(100), "00:00:00.0000001");
        assert_eq!(format_timespan(0), "00:00:00");
        assert_eq!(format_timespan(10 * 86_400 * SEC), "10.00:00:00");
        assert_eq!(
            format_timespan(-(86_400 * SEC + 1_500)),
            "-1.00:00:00.0000015"
        );
        // Less than a tick truncates to zero (and loses its sign).
        assert_eq!(format_timespan(99), "00:00:00");
        assert_eq!(format_timespan(-99), "00:00:00");
        assert_eq!(format_timespan(i64::MIN), "-106751.23:47:16.8547758");
        assert_eq!(format_timespan(i64::MAX), "106751.23:47:16.8547758");
    }

    // Kusto (.NET double.ToString, shortest round-trip "R"/"G" semantics): fixed notation for
    // decimal exponents -5 < e < 17, else `d.dddE±XX`; NaN / Infinity / -Infinity symbols.
    #[test]
    fn real_formats() {
        assert_eq!(format_real(1.5), "1.5");
        assert_eq!(format_real(2.0), "2");
        assert_eq!(format_real(-60.0), "-60");
        assert_eq!(format_real(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_real(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(format_real(0.0001), "0.0001");
        assert_eq!(format_real(0.00001), "1E-05");
        assert_eq!(format_real(-1.5e-7), "-1.5E-07");
        assert_eq!(format_real(1e15), "1000000000000000");
        assert_eq!(format_real(1e16), "10000000000000000");
        assert_eq!(format_real(1e17), "1E+17");
        assert_eq!(format_real(1e21), "1E+21");
        assert_eq!(format_real(1.2345e300), "1.2345E+300");
        assert_eq!(format_real(f64::MAX), "1.7976931348623157E+308");
        assert_eq!(format_real(5e-324), "5E-324");
        assert_eq!(format_real(123_456_789.125), "123456789.125");
        assert_eq!(format_real(0.0), "0");
        assert_eq!(format_real(-0.0), "-0");
        assert_eq!(format_real(f64::NAN), "NaN");
        assert_eq!(format_real(f64::INFINITY), "Infinity");
        assert_eq!(format_real(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn real_text_round_trips() {
        for x in [
            0.1,
            1.0 / 3.0,
            1e-5,
            2.5e-300,
            6.02214076e23,
            9_007_199_254_740_993.0,
            -123.456,
            f64::MIN_POSITIVE,
        ] {
            let parsed: f64 = format_real(x).parse().unwrap_or(f64::NAN);
            assert_eq!(parsed, x, "{x}");
        }
    }

    #[test]
    fn cell_text_each_type() {
        let b = arr(BooleanArray::from(vec![Some(true), Some(false), None]));
        assert_eq!(cell_text(&b, 0, ScalarType::Bool).as_deref(), Some("true"));
        assert_eq!(cell_text(&b, 1, ScalarType::Bool).as_deref(), Some("false"));
        assert_eq!(cell_text(&b, 2, ScalarType::Bool), None);

        let i = arr(Int32Array::from(vec![Some(-7), None]));
        assert_eq!(cell_text(&i, 0, ScalarType::Int).as_deref(), Some("-7"));
        assert_eq!(cell_text(&i, 1, ScalarType::Int), None);

        let l = arr(Int64Array::from(vec![i64::MIN]));
        assert_eq!(
            cell_text(&l, 0, ScalarType::Long).as_deref(),
            Some("-9223372036854775808")
        );

        let r = arr(Float64Array::from(vec![1.25, f64::NAN]));
        assert_eq!(cell_text(&r, 0, ScalarType::Real).as_deref(), Some("1.25"));
        assert_eq!(cell_text(&r, 1, ScalarType::Real).as_deref(), Some("NaN"));

        let s = arr(StringArray::from(vec![Some("a,\"b\"\n"), Some(""), None]));
        assert_eq!(
            cell_text(&s, 0, ScalarType::String).as_deref(),
            Some("a,\"b\"\n")
        );
        assert_eq!(cell_text(&s, 1, ScalarType::String).as_deref(), Some(""));
        assert_eq!(cell_text(&s, 2, ScalarType::String), None);

        let g = arr(StringArray::from(vec![
            "74be27de-1e4e-49d9-b579-fe0b331d3642",
        ]));
        assert_eq!(
            cell_text(&g, 0, ScalarType::Guid).as_deref(),
            Some("74be27de-1e4e-49d9-b579-fe0b331d3642")
        );

        let dt = arr(TimestampNanosecondArray::from(vec![T0]).with_timezone("UTC"));
        assert_eq!(
            cell_text(&dt, 0, ScalarType::DateTime).as_deref(),
            Some("2024-03-01T10:00:00Z")
        );

        let ts = arr(DurationNanosecondArray::from(vec![Some(-SEC), None]));
        assert_eq!(
            cell_text(&ts, 0, ScalarType::TimeSpan).as_deref(),
            Some("-00:00:01")
        );
        assert_eq!(cell_text(&ts, 1, ScalarType::TimeSpan), None);

        // Out-of-range rows are treated as null, not a panic.
        assert_eq!(cell_text(&ts, 99, ScalarType::TimeSpan), None);
    }

    #[test]
    fn dynamic_text_is_compact_json() {
        let d = arr(StringArray::from(vec![
            Some(r#"{"a":1,"b":[1,2]}"#),
            Some("{ \"a\" : 1.50,\n \"s\": \"x y\" }"),
            Some("not json at all"),
            Some("[1, 2"),
            None,
        ]));
        let t = |row| cell_text(&d, row, ScalarType::Dynamic);
        assert_eq!(t(0).as_deref(), Some(r#"{"a":1,"b":[1,2]}"#));
        // Whitespace between tokens goes; number text and string contents stay.
        assert_eq!(t(1).as_deref(), Some(r#"{"a":1.50,"s":"x y"}"#));
        assert_eq!(t(2).as_deref(), Some("not json at all"));
        assert_eq!(t(3).as_deref(), Some("[1, 2"));
        assert_eq!(t(4), None);
    }

    #[test]
    fn cell_json_each_type() {
        let b = arr(BooleanArray::from(vec![Some(true), None]));
        assert_eq!(cell_json(&b, 0, ScalarType::Bool), json!(true));
        assert_eq!(cell_json(&b, 1, ScalarType::Bool), Value::Null);

        let i = arr(Int32Array::from(vec![42]));
        assert_eq!(cell_json(&i, 0, ScalarType::Int), json!(42));
        let l = arr(Int64Array::from(vec![i64::MAX]));
        assert_eq!(cell_json(&l, 0, ScalarType::Long), json!(i64::MAX));

        let r = arr(Float64Array::from(vec![
            0.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]));
        assert_eq!(cell_json(&r, 0, ScalarType::Real), json!(0.5));
        assert_eq!(cell_json(&r, 1, ScalarType::Real), json!("NaN"));
        assert_eq!(cell_json(&r, 2, ScalarType::Real), json!("Infinity"));
        assert_eq!(cell_json(&r, 3, ScalarType::Real), json!("-Infinity"));

        let dt = arr(TimestampNanosecondArray::from(vec![T0 + 100]).with_timezone("UTC"));
        assert_eq!(
            cell_json(&dt, 0, ScalarType::DateTime),
            json!("2024-03-01T10:00:00.0000001Z")
        );
        let ts = arr(DurationNanosecondArray::from(vec![3600 * SEC]));
        assert_eq!(cell_json(&ts, 0, ScalarType::TimeSpan), json!("01:00:00"));

        let s = arr(StringArray::from(vec![r#"{"a":1}"#]));
        assert_eq!(cell_json(&s, 0, ScalarType::String), json!(r#"{"a":1}"#));
        assert_eq!(cell_json(&s, 0, ScalarType::Guid), json!(r#"{"a":1}"#));
    }

    #[test]
    fn dynamic_json_is_embedded() {
        let d = arr(StringArray::from(vec![
            Some(r#"{"a":[1,"x",null],"b":{"c":true}}"#),
            Some("[1, 2"),
            Some("null"),
            Some("\"str\""),
            None,
        ]));
        assert_eq!(
            cell_json(&d, 0, ScalarType::Dynamic),
            json!({"a": [1, "x", null], "b": {"c": true}})
        );
        assert_eq!(cell_json(&d, 1, ScalarType::Dynamic), json!("[1, 2"));
        assert_eq!(cell_json(&d, 2, ScalarType::Dynamic), Value::Null);
        assert_eq!(cell_json(&d, 3, ScalarType::Dynamic), json!("str"));
        assert_eq!(cell_json(&d, 4, ScalarType::Dynamic), Value::Null);
    }

    #[test]
    fn lenient_arrow_types() {
        // Strings in other encodings.
        let v = arr(StringViewArray::from(vec!["view"]));
        assert_eq!(
            cell_text(&v, 0, ScalarType::String).as_deref(),
            Some("view")
        );
        let lg = arr(LargeStringArray::from(vec!["[ 1 ]"]));
        assert_eq!(
            cell_text(&lg, 0, ScalarType::Dynamic).as_deref(),
            Some("[1]")
        );
        // int stored as Int64.
        let l = arr(Int64Array::from(vec![5]));
        assert_eq!(cell_text(&l, 0, ScalarType::Int).as_deref(), Some("5"));
        // Timestamps in other units / zones / no zone.
        let s = arr(TimestampSecondArray::from(vec![T0 / SEC]));
        assert_eq!(
            cell_text(&s, 0, ScalarType::DateTime).as_deref(),
            Some("2024-03-01T10:00:00Z")
        );
        let us = arr(TimestampMicrosecondArray::from(vec![-1]).with_timezone("+02:00"));
        assert_eq!(
            cell_text(&us, 0, ScalarType::DateTime).as_deref(),
            Some("1969-12-31T23:59:59.9999990Z")
        );
        // Raw integers in a datetime / timespan column are nanoseconds.
        let n = arr(Int64Array::from(vec![T0]));
        assert_eq!(
            cell_text(&n, 0, ScalarType::DateTime).as_deref(),
            Some("2024-03-01T10:00:00Z")
        );
        assert_eq!(
            cell_json(&arr(Int64Array::from(vec![SEC])), 0, ScalarType::TimeSpan),
            json!("00:00:01")
        );
        // Dictionary-encoded strings.
        let dict: DictionaryArray<I32> = vec![Some("x"), None, Some("x")].into_iter().collect();
        let dict = arr(dict);
        assert_eq!(
            cell_text(&dict, 2, ScalarType::String).as_deref(),
            Some("x")
        );
        assert_eq!(cell_text(&dict, 1, ScalarType::String), None);
        let norm = normalize_column(&dict, ScalarType::String);
        assert_eq!(norm.data_type(), &DataType::Utf8);
        assert_eq!(
            cell_text(&norm, 0, ScalarType::String).as_deref(),
            Some("x")
        );
        // Decimals read as reals.
        let dec = arr(
            datafusion::arrow::array::Decimal128Array::from(vec![12_345])
                .with_precision_and_scale(10, 2)
                .unwrap_or_else(|_| datafusion::arrow::array::Decimal128Array::from(vec![0])),
        );
        assert_eq!(
            cell_text(&dec, 0, ScalarType::Real).as_deref(),
            Some("123.45")
        );
        assert_eq!(cell_json(&dec, 0, ScalarType::Real), json!(123.45));
    }

    #[test]
    fn nested_arrow_values_are_dynamic_json() {
        let list = arr(ListArray::from_iter_primitive::<I32, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            None,
        ]));
        assert_eq!(
            cell_json(&list, 0, ScalarType::Dynamic),
            json!([1, null, 3])
        );
        assert_eq!(
            cell_text(&list, 0, ScalarType::Dynamic).as_deref(),
            Some("[1,null,3]")
        );
        assert_eq!(cell_json(&list, 1, ScalarType::Dynamic), Value::Null);

        let st = arr(StructArray::from(vec![
            (
                Arc::new(Field::new("name", DataType::Utf8, true)),
                arr(StringArray::from(vec!["n"])),
            ),
            (
                Arc::new(Field::new("v", DataType::Float64, true)),
                arr(Float64Array::from(vec![f64::NAN])),
            ),
        ]));
        assert_eq!(
            cell_text(&st, 0, ScalarType::Dynamic).as_deref(),
            Some(r#"{"name":"n","v":"NaN"}"#)
        );
    }
}
