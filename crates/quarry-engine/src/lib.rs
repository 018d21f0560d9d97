//! The KQL engine: semantics (name and type resolution), planning onto DataFusion
//! `LogicalPlan`s, the KQL function library, and execution.
//!
//! ```text
//! query text ──quarry_syntax::parse──▶ AST ──plan::Planner──▶ LogicalPlan + KQL column types
//!            ──DataFusion (optimise, execute)──▶ stream of Arrow record batches
//! ```

pub mod catalog;
pub mod datetime;
pub mod format;
pub mod functions;
pub mod plan;
pub mod session;
pub mod suggest;

pub use catalog::Catalog;
pub use datafusion;
pub use plan::{ColumnInfo, PlanOptions, PlannedQuery};
pub use quarry_sources::types;
pub use session::{Engine, QueryError};
