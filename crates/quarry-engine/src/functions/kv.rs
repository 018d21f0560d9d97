//! The extraction behind `parse-kv` (parse-kv operator reference). Three modes:
//!
//! - specified delimiters (`pair_delimiter`, `kv_delimiter`, optional `quote`s, `escape`s,
//!   `greedy`): the text is split into pairs; a quoted key or value may contain delimiters;
//!   in greedy mode an unquoted value runs until the next listed key (or the end);
//! - no delimiters: any non-alphanumeric character is a delimiter; each listed key is found as
//!   a word followed by delimiter characters, and its value is the following alphanumeric run
//!   (or a quoted string);
//! - `regex`: a pattern with two groups, key and value.
//!
//! Only listed keys are extracted, the first appearance wins, and leading/trailing white space
//! of keys and values is ignored.

use super::fnargs::{batch_len, str_at, strs};
use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The operator's configuration, passed to the kernel as a JSON constant.
#[derive(Debug, Default)]
pub struct KvConfig {
    pub pair: Option<String>,
    pub kv: Option<String>,
    pub quotes: Vec<(char, char)>,
    pub escapes: Vec<char>,
    pub greedy: bool,
    pub regex: Option<regex::Regex>,
    pub keys: Vec<String>,
}

impl KvConfig {
    pub fn to_json(
        pair: Option<&str>,
        kv: Option<&str>,
        quotes: &[String],
        escapes: &[String],
        greedy: bool,
        regex: Option<&str>,
        keys: &[String],
    ) -> String {
        serde_json::json!({
            "pair": pair, "kv": kv, "quotes": quotes, "escapes": escapes,
            "greedy": greedy, "regex": regex, "keys": keys,
        })
        .to_string()
    }

    fn from_json(text: &str) -> KvConfig {
        let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let strs = |k: &str| -> Vec<String> {
            v[k].as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let quotes = strs("quotes")
            .iter()
            .filter_map(|q| {
                let mut c = q.chars();
                let open = c.next()?;
                Some((open, c.next().unwrap_or(open)))
            })
            .collect();
        KvConfig {
            pair: v["pair"].as_str().map(String::from),
            kv: v["kv"].as_str().map(String::from),
            quotes,
            escapes: strs("escapes")
                .iter()
                .filter_map(|e| e.chars().next())
                .collect(),
            greedy: v["greedy"].as_bool().unwrap_or(false),
            regex: v["regex"].as_str().and_then(|r| regex::Regex::new(r).ok()),
            keys: strs("keys"),
        }
    }
}

/// Reads a quoted string starting at `pos` (the opening quote); returns the unescaped text
/// and the position after the closing quote.
fn read_quoted(s: &[char], pos: usize, close: char, escapes: &[char]) -> (String, usize) {
    let mut out = String::new();
    let mut i = pos + 1;
    while i < s.len() {
        let c = s[i];
        if escapes.contains(&c) && i + 1 < s.len() {
            out.push(s[i + 1]);
            i += 2;
            continue;
        }
        if c == close {
            return (out, i + 1);
        }
        out.push(c);
        i += 1;
    }
    (out, i)
}

fn starts_at(s: &[char], pos: usize, pat: &[char]) -> bool {
    !pat.is_empty() && pos + pat.len() <= s.len() && s[pos..pos + pat.len()] == *pat
}

fn find_from(s: &[char], pos: usize, pat: &[char]) -> Option<usize> {
    (pos..s.len()).find(|&i| starts_at(s, i, pat))
}

fn specified(text: &str, c: &KvConfig, pair: &str, kv: &str) -> HashMap<String, String> {
    let s: Vec<char> = text.chars().collect();
    let pair: Vec<char> = pair.chars().collect();
    let kv: Vec<char> = kv.chars().collect();
    let mut out = HashMap::new();
    let mut i = 0;
    while i < s.len() {
        while i < s.len() && s[i].is_whitespace() && !starts_at(&s, i, &pair) {
            i += 1;
        }
        // Key.
        let key = match c.quotes.iter().find(|q| s.get(i) == Some(&q.0)) {
            Some(q) => {
                let (k, next) = read_quoted(&s, i, q.1, &c.escapes);
                i = next;
                k
            }
            None => {
                let start = i;
                while i < s.len() && !starts_at(&s, i, &kv) && !starts_at(&s, i, &pair) {
                    i += 1;
                }
                s[start..i].iter().collect()
            }
        };
        while i < s.len()
            && s[i].is_whitespace()
            && !starts_at(&s, i, &kv)
            && !starts_at(&s, i, &pair)
        {
            i += 1;
        }
        if !starts_at(&s, i, &kv) {
            // No value: skip to the next pair.
            match find_from(&s, i, &pair) {
                Some(p) => {
                    i = p + pair.len();
                    continue;
                }
                None => break,
            }
        }
        i += kv.len();
        while i < s.len() && s[i].is_whitespace() && !starts_at(&s, i, &pair) {
            i += 1;
        }
        // Value.
        let value = match c.quotes.iter().find(|q| s.get(i) == Some(&q.0)) {
            Some(q) => {
                let (v, next) = read_quoted(&s, i, q.1, &c.escapes);
                i = find_from(&s, next, &pair).map_or(s.len(), |p| p + pair.len());
                v
            }
            None => {
                let start = i;
                let end = if c.greedy {
                    // Until a pair delimiter followed by a listed key and the kv delimiter.
                    let mut j = i;
                    loop {
                        match find_from(&s, j, &pair) {
                            None => break s.len(),
                            Some(p) => {
                                let after = p + pair.len();
                                let rest: String = s[after..].iter().collect();
                                let rest = rest.trim_start();
                                let next_key = c.keys.iter().any(|k| {
                                    rest.strip_prefix(k.as_str()).is_some_and(|r| {
                                        r.trim_start().starts_with(&kv.iter().collect::<String>())
                                    })
                                });
                                if next_key {
                                    break p;
                                }
                                j = after;
                            }
                        }
                    }
                } else {
                    find_from(&s, i, &pair).unwrap_or(s.len())
                };
                i = if end < s.len() {
                    end + pair.len()
                } else {
                    s.len()
                };
                s[start..end].iter().collect()
            }
        };
        let key = key.trim().to_string();
        if !key.is_empty() {
            out.entry(key).or_insert_with(|| value.trim().to_string());
        }
    }
    out
}

/// No delimiters given: each listed key, as a word followed by non-alphanumeric characters.
fn unspecified(text: &str, c: &KvConfig) -> HashMap<String, String> {
    let s: Vec<char> = text.chars().collect();
    let mut out = HashMap::new();
    for key in &c.keys {
        let k: Vec<char> = key.chars().collect();
        let mut from = 0;
        while let Some(p) = find_from(&s, from, &k) {
            from = p + 1;
            let before_ok = p == 0 || !s[p - 1].is_alphanumeric();
            let mut i = p + k.len();
            if !before_ok || i >= s.len() || s[i].is_alphanumeric() {
                continue;
            }
            // Delimiter run (stopping at a quote).
            while i < s.len() && !s[i].is_alphanumeric() && !c.quotes.iter().any(|q| q.0 == s[i]) {
                i += 1;
            }
            let value = match c.quotes.iter().find(|q| s.get(i) == Some(&q.0)) {
                Some(q) => read_quoted(&s, i, q.1, &c.escapes).0,
                None => {
                    let start = i;
                    while i < s.len() && s[i].is_alphanumeric() {
                        i += 1;
                    }
                    s[start..i].iter().collect()
                }
            };
            out.insert(key.clone(), value.trim().to_string());
            break;
        }
    }
    out
}

fn by_regex(text: &str, re: &regex::Regex) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for caps in re.captures_iter(text) {
        if let (Some(k), Some(v)) = (caps.get(1), caps.get(2)) {
            out.entry(k.as_str().trim().to_string())
                .or_insert_with(|| v.as_str().trim().to_string());
        }
    }
    out
}

pub fn extract(text: &str, c: &KvConfig) -> HashMap<String, String> {
    if let Some(re) = &c.regex {
        return by_regex(text, re);
    }
    match (&c.pair, &c.kv) {
        (Some(p), Some(k)) if !p.is_empty() && !k.is_empty() => specified(text, c, p, k),
        _ => unspecified(text, c),
    }
}

/// `parse_kv_value(text, config, key)`: the text of `key`'s value, or null.
pub fn parse_kv_value(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let text = strs(args, 0, n)?;
    let config = strs(args, 1, n)?;
    let key = strs(args, 2, n)?;
    let mut parsed: Option<(String, KvConfig)> = None;
    let out: StringArray = (0..n)
        .map(|i| {
            let ct = str_at(&config, i);
            if parsed.as_ref().is_none_or(|(t, _)| t != ct) {
                parsed = Some((ct.to_string(), KvConfig::from_json(ct)));
            }
            let c = &parsed.as_ref()?.1;
            extract(str_at(&text, i), c).remove(str_at(&key, i))
        })
        .collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pair: &str, kv: &str, quotes: &[&str], greedy: bool, keys: &[&str]) -> KvConfig {
        KvConfig::from_json(&KvConfig::to_json(
            (!pair.is_empty()).then_some(pair),
            (!kv.is_empty()).then_some(kv),
            &quotes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &["\\".to_string()],
            greedy,
            None,
            &keys.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        ))
    }

    #[test]
    fn modes() {
        let c = cfg(" ", "=", &[], false, &["name", "phone", "city"]);
        let m = extract("name=John Doe phone=555 5555 city=New York", &c);
        assert_eq!(m["name"], "John");
        assert_eq!(m["city"], "New");
        let c = cfg(" ", "=", &[], true, &["name", "phone", "city"]);
        let m = extract("name=John Doe phone=555 5555 city=New York", &c);
        assert_eq!(m["name"], "John Doe");
        assert_eq!(m["phone"], "555 5555");
        assert_eq!(m["city"], "New York");
        let c = cfg("", "", &["'"], false, &["Text", "ThreadId"]);
        let m = extract(
            "2021-01-01T10:00:34 [INFO] ThreadId:458745723, Text: 'The service \\' is up'",
            &c,
        );
        assert_eq!(m["Text"], "The service ' is up");
        assert_eq!(m["ThreadId"], "458745723");
    }
}
