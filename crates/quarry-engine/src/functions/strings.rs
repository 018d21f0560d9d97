//! KQL's string predicates: `has` (whole-term match), `hasprefix`, `hassuffix`, `contains`,
//! `startswith`, `endswith` and `=~`, each case-insensitive unless `_cs`.
//!
//! Kusto indexes strings as *terms*: maximal runs of alphanumeric characters. `has "abc"` is
//! true when `abc` occurs with a non-alphanumeric character (or the string edge) on both sides;
//! `hasprefix` needs the boundary only before, `hassuffix` only after. Where the needle itself
//! starts or ends with a non-alphanumeric character, that side needs no boundary.
//! Kusto strings are never null; a null cell is treated as the empty string.

use super::udf::{arg_scalar, scalar_str, string_array};
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Test {
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
    Equals,
}

fn is_term_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Byte offsets of every occurrence of `needle` in `hay` (`hay` already case-folded when needed).
fn occurrences<'a>(hay: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    hay.match_indices(needle).map(|(i, _)| i)
}

fn term_match(hay: &str, needle: &str, test: Test) -> bool {
    if needle.is_empty() {
        return true;
    }
    let need_start = needle.chars().next().is_some_and(is_term_char);
    let need_end = needle.chars().next_back().is_some_and(is_term_char);
    occurrences(hay, needle).any(|start| {
        let end = start + needle.len();
        let before_ok = !need_start
            || hay[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !is_term_char(c));
        let after_ok = !need_end || hay[end..].chars().next().is_none_or(|c| !is_term_char(c));
        match test {
            Test::Has => before_ok && after_ok,
            Test::HasPrefix => before_ok,
            Test::HasSuffix => after_ok,
            _ => unreachable!("term_match is only called for term tests"),
        }
    })
}

fn eval(test: Test, hay: &str, needle: &str) -> bool {
    match test {
        Test::Has | Test::HasPrefix | Test::HasSuffix => term_match(hay, needle, test),
        Test::Contains => hay.contains(needle),
        Test::StartsWith => hay.starts_with(needle),
        Test::EndsWith => hay.ends_with(needle),
        Test::Equals => hay == needle,
    }
}

/// Case folding used by the case-insensitive operators. ASCII-only text (the common case)
/// avoids the full Unicode mapping.
pub fn fold(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().all(|b| !b.is_ascii_uppercase() && b < 0x80) {
        std::borrow::Cow::Borrowed(s)
    } else if s.is_ascii() {
        std::borrow::Cow::Owned(s.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Owned(s.to_lowercase())
    }
}

fn run(args: &[ColumnarValue], rows: usize, test: Test, case_sensitive: bool) -> Result<ArrayRef> {
    let hay = string_array(args, 0, rows)?;
    // The needle is nearly always a constant: fold it once.
    if let Some(needle) = arg_scalar(args, 1) {
        let needle = scalar_str(needle).unwrap_or("");
        let needle = if case_sensitive {
            std::borrow::Cow::Borrowed(needle)
        } else {
            fold(needle)
        };
        let out: BooleanArray = (0..hay.len())
            .map(|i| {
                let h = if hay.is_null(i) { "" } else { hay.value(i) };
                Some(if case_sensitive {
                    eval(test, h, &needle)
                } else {
                    eval(test, &fold(h), &needle)
                })
            })
            .collect();
        return Ok(Arc::new(out));
    }
    let needles = string_array(args, 1, rows)?;
    let out: BooleanArray = (0..hay.len())
        .map(|i| {
            let h = if hay.is_null(i) { "" } else { hay.value(i) };
            let n = if needles.is_null(i) {
                ""
            } else {
                needles.value(i)
            };
            Some(if case_sensitive {
                eval(test, h, n)
            } else {
                eval(test, &fold(h), &fold(n))
            })
        })
        .collect();
    Ok(Arc::new(out))
}

macro_rules! kernels {
    ($($name:ident => $test:expr, $cs:expr;)*) => {
        $(pub fn $name(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
            run(args, rows, $test, $cs)
        })*
    };
}

kernels! {
    has => Test::Has, false;
    has_cs => Test::Has, true;
    hasprefix => Test::HasPrefix, false;
    hasprefix_cs => Test::HasPrefix, true;
    hassuffix => Test::HasSuffix, false;
    hassuffix_cs => Test::HasSuffix, true;
    contains => Test::Contains, false;
    contains_cs => Test::Contains, true;
    startswith => Test::StartsWith, false;
    startswith_cs => Test::StartsWith, true;
    endswith => Test::EndsWith, false;
    endswith_cs => Test::EndsWith, true;
    equals_ci => Test::Equals, false;
}

/// `has` on plain text (case-insensitive), for kernels outside this module.
pub fn has_text(hay: &str, needle: &str) -> bool {
    eval(Test::Has, &fold(hay), &fold(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_ci(h: &str, n: &str) -> bool {
        term_match(&fold(h), &fold(n), Test::Has)
    }

    #[test]
    fn has_matches_whole_terms_only() {
        // Microsoft's `has` reference: "North America" has "america" (case-insensitive term).
        assert!(has_ci("North America", "america"));
        assert!(!has_ci("North America", "amer"));
        assert!(has_ci("svc_backup", "svc"));
        assert!(!has_ci("svcbackup", "svc"));
        assert!(has_ci("a.b.c", "b.c"));
        assert!(has_ci("anything", ""));
    }

    #[test]
    fn prefix_and_suffix_need_one_boundary() {
        assert!(term_match("north america", "amer", Test::HasPrefix));
        assert!(!term_match("north america", "merica", Test::HasPrefix));
        assert!(term_match("north america", "rica", Test::HasSuffix));
        assert!(!term_match("north america", "ame", Test::HasSuffix));
    }

    #[test]
    fn fold_handles_unicode() {
        assert_eq!(fold("ÄÖÜ"), "äöü");
        assert_eq!(fold("abc"), "abc");
        assert_eq!(fold("ABC"), "abc");
    }
}
