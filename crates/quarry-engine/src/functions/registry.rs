//! The table of "simple" KQL scalar functions: those whose arguments are ordinary values,
//! evaluated once per row and handed to a kernel. Each family of functions lives in its own
//! module and contributes a `FUNCTIONS` list; adding a function is adding an entry there.
//!
//! Functions that need the planner (aggregates, `iff`/`case`, constant folding, regex checks
//! at plan time, `toscalar`, ...) are handled in `plan/calls.rs` instead.

use super::udf::Kernel;
use quarry_syntax::ast::ScalarType;

/// A scalar function: arity, result type from the argument types, and its kernel.
pub struct Simple {
    pub name: &'static str,
    /// Minimum and maximum number of arguments.
    pub args: (usize, usize),
    /// The result type for these argument types, or why they are not accepted.
    pub ret: fn(&[ScalarType]) -> Result<ScalarType, String>,
    pub kernel: Kernel,
}

/// Every family's list; searched in order.
fn families() -> [&'static [Simple]; 13] {
    [
        super::series_math::FUNCTIONS,
        super::tz::FUNCTIONS,
        super::aggs::FUNCTIONS,
        super::units::FUNCTIONS,
        super::misc::FUNCTIONS,
        super::arrays::FUNCTIONS,
        super::bags::FUNCTIONS,
        super::text::FUNCTIONS,
        super::encoding::FUNCTIONS,
        super::ip::FUNCTIONS,
        super::math::FUNCTIONS,
        super::parsing::FUNCTIONS,
        super::timefns::FUNCTIONS,
    ]
}

pub fn lookup(name: &str) -> Option<&'static Simple> {
    families()
        .into_iter()
        .flat_map(|f| f.iter())
        .find(|f| f.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    families()
        .into_iter()
        .flat_map(|f| f.iter())
        .map(|f| f.name)
}

/// Helpers for `ret` functions.
pub mod ret {
    use super::ScalarType;
    pub fn string(_: &[ScalarType]) -> Result<ScalarType, String> {
        Ok(ScalarType::String)
    }
    pub fn long(_: &[ScalarType]) -> Result<ScalarType, String> {
        Ok(ScalarType::Long)
    }
    pub fn int(_: &[ScalarType]) -> Result<ScalarType, String> {
        Ok(ScalarType::Int)
    }
    pub fn real(_: &[ScalarType]) -> Result<ScalarType, String> {
        Ok(ScalarType::Real)
    }
    pub fn bool(_: &[ScalarType]) -> Result<ScalarType, String> {
        Ok(ScalarType::Bool)
    }
    pub fn dynamic(_: &[ScalarType]) -> Result<ScalarType, String> {
        Ok(ScalarType::Dynamic)
    }
    pub fn datetime(_: &[ScalarType]) -> Result<ScalarType, String> {
        Ok(ScalarType::DateTime)
    }
    pub fn timespan(_: &[ScalarType]) -> Result<ScalarType, String> {
        Ok(ScalarType::TimeSpan)
    }
    pub fn guid(_: &[ScalarType]) -> Result<ScalarType, String> {
        Ok(ScalarType::Guid)
    }
    /// The type of the first argument (e.g. `abs`, `array_sort_asc`).
    pub fn first(args: &[ScalarType]) -> Result<ScalarType, String> {
        args.first()
            .copied()
            .ok_or_else(|| "needs an argument".to_string())
    }
}
