//! KQL functions that DataFusion has no exact equivalent for, as UDF kernels.

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
pub mod hasany;
pub mod ip;
pub mod math;
pub mod parsing;
pub mod re2;
pub mod registry;
pub mod series;
pub mod strings;
pub mod text;
pub mod timefns;
pub mod udf;
