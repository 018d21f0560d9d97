//! The built-in rule pack: the `.kql` files of the repository's `rules/` folder, compiled into
//! the binary so `quarry hunt` works without a rules folder. The corrected seed rule is first.

use crate::rule::{LoadError, Rule, load_rule};

/// (file name, text) of every built-in rule, in run order.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "service-account-interactive-logon.kql",
        include_str!("../../../rules/service-account-interactive-logon.kql"),
    ),
    (
        "failed-logon-burst.kql",
        include_str!("../../../rules/failed-logon-burst.kql"),
    ),
    (
        "rdp-logon-from-public-ip.kql",
        include_str!("../../../rules/rdp-logon-from-public-ip.kql"),
    ),
    (
        "logon-attempt-disabled-account.kql",
        include_str!("../../../rules/logon-attempt-disabled-account.kql"),
    ),
    (
        "windows-failed-logon-burst.kql",
        include_str!("../../../rules/windows-failed-logon-burst.kql"),
    ),
];

/// The built-in rules, loaded. Origins read `builtin:<file name>`.
pub fn builtin_rules() -> Vec<Result<Rule, LoadError>> {
    BUILTIN
        .iter()
        .map(|(name, text)| load_rule(&format!("builtin:{name}"), text))
        .collect()
}
