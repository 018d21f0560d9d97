//! KQL functions that DataFusion has no exact equivalent for, as UDF kernels.

pub mod aggs;
pub mod arrays;
pub mod bags;
pub mod bin;
pub mod convert;
pub mod datetime;
pub mod dcount;
pub mod dynamic;
pub mod encoding;
pub mod expand;
pub mod fnargs;
pub mod ip;
pub mod kv;
pub mod math;
pub mod misc;
pub mod parsing;
pub mod registry;
pub mod serial;
pub mod series;
pub mod series_math;
pub mod strings;
pub mod text;
pub mod timefns;
pub mod tz;
pub mod udf;
pub mod units;
