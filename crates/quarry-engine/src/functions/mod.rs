//! KQL functions that DataFusion has no exact equivalent for, as UDF kernels.

pub mod arrays;
pub mod bin;
pub mod convert;
pub mod datetime;
pub mod dcount;
pub mod dynamic;
pub mod registry;
pub mod strings;
pub mod udf;
