//! The syntax crate's integration tests, in one binary: parser snapshots and diagnostics
//! (`parse`), and the hunting-corpus parse rate plus mutation robustness (`corpus`).

mod corpus;
mod parse;
