//! How KQL scalar types are stored in Arrow.
//!
//! | KQL | Arrow | note |
//! |---|---|---|
//! | bool | Boolean | |
//! | int | Int32 | |
//! | long | Int64 | |
//! | real | Float64 | |
//! | decimal | Float64 | decimal maps to real for now |
//! | string | Utf8 | Kusto strings are never null: readers store a missing value as `""` |
//! | datetime | Timestamp(ns, "UTC") | covers 1677–2262 (Kusto: 0001–9999) |
//! | timespan | Duration(ns) | |
//! | guid | Utf8 + metadata `kql.type=guid` | |
//! | dynamic | Utf8 + metadata `kql.type=dynamic` | compact JSON text; null is SQL null |
//!
//! The metadata key lets the type survive Parquet round trips and plan boundaries.

use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
pub use quarry_syntax::ast::ScalarType;
use std::collections::HashMap;

/// Field metadata key carrying the KQL type when the Arrow type alone is ambiguous.
pub const KQL_TYPE_KEY: &str = "kql.type";

/// The Arrow type that stores values of a KQL type.
pub fn arrow_type(ty: ScalarType) -> DataType {
    match ty {
        ScalarType::Bool => DataType::Boolean,
        ScalarType::Int => DataType::Int32,
        ScalarType::Long => DataType::Int64,
        ScalarType::Real | ScalarType::Decimal => DataType::Float64,
        ScalarType::String | ScalarType::Guid | ScalarType::Dynamic => DataType::Utf8,
        ScalarType::DateTime => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        ScalarType::TimeSpan => DataType::Duration(TimeUnit::Nanosecond),
    }
}

/// An Arrow field for a KQL column (always nullable; see the module docs for strings).
pub fn field(name: &str, ty: ScalarType) -> Field {
    let f = Field::new(name, arrow_type(ty), true);
    match ty {
        ScalarType::Guid | ScalarType::Dynamic => f.with_metadata(HashMap::from([(
            KQL_TYPE_KEY.to_string(),
            ty.name().to_string(),
        )])),
        _ => f,
    }
}

/// The KQL type of an Arrow field: its `kql.type` metadata if any, else from the Arrow type.
/// Arrow types with no KQL counterpart map to the nearest one (any integer → long, any
/// float → real, any timestamp → datetime, any string/binary → string, nested → dynamic).
pub fn kql_type_of(field: &Field) -> ScalarType {
    if let Some(t) = field.metadata().get(KQL_TYPE_KEY)
        && let Some(ty) = ScalarType::from_name(t)
    {
        return ty;
    }
    kql_type_of_arrow(field.data_type())
}

/// The KQL type for an Arrow data type, ignoring metadata.
pub fn kql_type_of_arrow(dt: &DataType) -> ScalarType {
    match dt {
        DataType::Boolean => ScalarType::Bool,
        DataType::Int32 | DataType::Int16 | DataType::Int8 | DataType::UInt8 | DataType::UInt16 => {
            ScalarType::Int
        }
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => ScalarType::Long,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => ScalarType::Real,
        DataType::Decimal128(..) | DataType::Decimal256(..) => ScalarType::Real,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => ScalarType::DateTime,
        DataType::Duration(_) | DataType::Interval(_) => ScalarType::TimeSpan,
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..) => ScalarType::Dynamic,
        _ => ScalarType::String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_and_guid_round_trip_through_metadata() {
        for ty in [
            ScalarType::Bool,
            ScalarType::Int,
            ScalarType::Long,
            ScalarType::Real,
            ScalarType::String,
            ScalarType::DateTime,
            ScalarType::TimeSpan,
            ScalarType::Guid,
            ScalarType::Dynamic,
        ] {
            assert_eq!(kql_type_of(&field("c", ty)), ty);
        }
    }
}
