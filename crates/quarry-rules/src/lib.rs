//! Detection rules for Quarry.
//!
//! * [`rule`]: the rule model and its file formats — `.kql` files with a metadata comment
//!   block (`docs/rule-format.md`) and Microsoft Sentinel analytic-rule / hunting-query YAML.
//! * [`builtin`]: the rule pack compiled into the binary.
//! * [`params`]: parameter types, defaults and `--param` validation.
//! * [`window`]: preparing a rule for a hunt — parameters, the `--since/--until/--now` time
//!   window, Sentinel's `{{StartTimeISO}}`/`{{EndTimeISO}}` placeholders.
//! * [`lint`]: the static checks (`QL0001`…) over the AST.
//!
//! Nothing here executes queries; `quarry-cli` runs prepared rules on the engine.

pub mod builtin;
pub mod lint;
pub mod params;
pub mod rule;
mod walk;
pub mod window;

pub use lint::{lint_query, lint_rule};
pub use rule::{Rule, RuleFormat, RuleSeverity, load_rule, load_rule_file};
