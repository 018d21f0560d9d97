//! Kusto regular expressions are RE2. Rust's `regex` crate is close to RE2 but stricter in
//! two places real hunting rules hit, so patterns are rewritten before compiling:
//!
//! * `{` that does not start a valid repetition (`{n}`, `{n,}`, `{n,m}`) is a literal in RE2
//!   (`\w+{.*}`, `[0-9]{1-3}`); Rust rejects it. It is escaped.
//! * Inside a character class RE2 takes `[` literally unless it starts `[:name:]` (`@'[[]'`);
//!   Rust reads it as a nested class. It is escaped, as are `&&`, `--` and `~~`, Rust's class
//!   set operators, which RE2 reads as plain characters.

use regex::Regex;
use std::borrow::Cow;

/// The pattern in the syntax the `regex` crate reads with RE2's meaning.
pub fn translate(p: &str) -> Cow<'_, str> {
    if !p.contains(['{', '[']) {
        return Cow::Borrowed(p);
    }
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.push(c);
            if let Some(n) = chars.get(i + 1) {
                out.push(*n);
            }
            i += 2;
            continue;
        }
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(c);
                }
                '[' if chars.get(i + 1) == Some(&':') => {
                    // `[:alpha:]`: copy through its closing `:]`.
                    let rest: String = chars[i..].iter().collect();
                    if let Some(end) = rest.find(":]") {
                        out.push_str(&rest[..end + 2]);
                        i += rest[..end + 2].chars().count();
                        continue;
                    }
                    out.push_str("\\[");
                }
                '[' => out.push_str("\\["),
                '&' | '~' if chars.get(i + 1) == Some(&c) => {
                    out.push('\\');
                    out.push(c);
                }
                '-' if chars.get(i + 1) == Some(&'-') => out.push_str("\\-"),
                _ => out.push(c),
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push(c);
                // `[]...]` and `[^]...]`: a `]` first in the class is a literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '{' => {
                let rest: String = chars[i + 1..].iter().take(24).collect();
                if valid_repeat(&rest) {
                    out.push('{');
                } else {
                    out.push_str("\\{");
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// `n}`, `n,}` or `n,m}` at the start of `s` (what follows a `{`).
fn valid_repeat(s: &str) -> bool {
    let Some(close) = s.find('}') else {
        return false;
    };
    let body = &s[..close];
    let mut parts = body.splitn(2, ',');
    let lo = parts.next().unwrap_or("");
    let hi = parts.next();
    let digits = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
    digits(lo) && hi.is_none_or(|h| h.is_empty() || digits(h))
}

/// Compiles a Kusto (RE2) pattern.
pub fn compile(p: &str) -> Result<Regex, regex::Error> {
    Regex::new(&translate(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re2_literals_the_regex_crate_rejects() {
        assert_eq!(translate("[[]"), "[\\[]");
        assert_eq!(translate(r"\d+_[0-9]{1-3}+"), r"\d+_[0-9]\{1-3}+");
        assert_eq!(translate(r"\w+{.*}"), r"\w+\{.*}");
        assert_eq!(translate("a{2,3}b{4}c{5,}"), "a{2,3}b{4}c{5,}");
        assert_eq!(translate("[[:alpha:]x]"), "[[:alpha:]x]");
        assert_eq!(translate("[]a]"), "[\\]a]");
        assert_eq!(translate("[a&&b]"), "[a\\&&b]");
        assert!(compile("[[]").is_ok_and(|r| r.is_match("a[b")));
        assert!(compile(r"x{1-3}").is_ok_and(|r| r.is_match("x{1-3}")));
    }
}
