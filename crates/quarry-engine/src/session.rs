//! Running queries: parse, plan, and execute on a DataFusion session tuned for KQL.

use crate::catalog::Catalog;
use crate::plan::{PlanOptions, PlannedQuery, Planner};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use quarry_syntax::Diagnostic;
use std::sync::Arc;

/// Why a query did not produce results.
#[derive(Debug)]
pub enum QueryError {
    /// Syntax or semantic errors, with spans into the query text.
    Diagnostics(Vec<Diagnostic>),
    /// A failure while executing (bad input rows, resource limits, ...).
    Execution(datafusion::error::DataFusionError),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Diagnostics(d) => {
                for x in d {
                    writeln!(f, "error[{}]: {}", x.code, x.message)?;
                }
                Ok(())
            }
            QueryError::Execution(e) => write!(f, "{}", execution_message(e)),
        }
    }
}

/// The innermost, user-facing message of an execution error (our own source errors carry
/// file and line; DataFusion wraps them in context layers).
pub fn execution_message(e: &datafusion::error::DataFusionError) -> String {
    use datafusion::error::DataFusionError as E;
    match e {
        E::External(inner) => inner.to_string(),
        E::Context(_, inner) => execution_message(inner),
        E::Shared(inner) => execution_message(inner),
        E::ArrowError(inner, _) => match inner.as_ref() {
            datafusion::arrow::error::ArrowError::ExternalError(x) => x.to_string(),
            other => other.to_string(),
        },
        other => other.strip_backtrace(),
    }
}

/// Options for an engine instance.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Memory the query may hold before operators spill to disk.
    pub memory_limit: usize,
    pub target_partitions: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            memory_limit: 512 * 1024 * 1024,
            target_partitions: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// A KQL engine over a catalog of tables.
pub struct Engine {
    ctx: SessionContext,
    catalog: Catalog,
}

impl Engine {
    pub fn new(catalog: Catalog, options: EngineOptions) -> Result<Engine, QueryError> {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(options.memory_limit)))
            .build_arc()
            .map_err(QueryError::Execution)?;
        let config = SessionConfig::new()
            .with_target_partitions(options.target_partitions)
            .with_batch_size(8192)
            .with_information_schema(false);
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        Ok(Engine { ctx, catalog })
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Parses and plans every query statement of `text`.
    pub fn plan(&self, text: &str, options: &PlanOptions) -> Result<Vec<PlannedQuery>, QueryError> {
        let parsed = quarry_syntax::parse(text);
        if !parsed.diagnostics.is_empty() {
            return Err(QueryError::Diagnostics(parsed.diagnostics));
        }
        let mut planner = Planner::new(&self.catalog, options.now_ns);
        planner
            .plan_script(&parsed.script, options)
            .map_err(QueryError::Diagnostics)
    }

    /// Optimises and starts executing a planned query.
    pub async fn execute(&self, q: &PlannedQuery) -> Result<SendableRecordBatchStream, QueryError> {
        let df = self
            .ctx
            .execute_logical_plan(q.plan.clone())
            .await
            .map_err(QueryError::Execution)?;
        df.execute_stream().await.map_err(QueryError::Execution)
    }
}
