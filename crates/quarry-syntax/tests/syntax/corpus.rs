//! Robustness over the shared hunting-query corpus: no panics, and a parse-rate report.
//!
//! The corpus lives outside the repository (`../shared/conformance/hunting_queries.jsonl`
//! relative to the repo root, present in CI); these tests fail when it is missing.

use quarry_syntax::{dump_script, parse};
use std::collections::BTreeMap;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/hunting_queries.jsonl"
);

/// Extracts the `"query"` string field from one JSON line (tiny hand-rolled JSON string decoder).
fn query_field(line: &str) -> Option<String> {
    let key = "\"query\": \"";
    let start = line.find(key)? + key.len();
    let mut out = String::new();
    let mut chars = line.get(start..)?.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let mut code = u32::from_str_radix(&hex, 16).ok()?;
                    if (0xD800..0xDC00).contains(&code) {
                        // Surrogate pair.
                        let rest: String = chars.by_ref().take(6).collect();
                        let low = u32::from_str_radix(rest.get(2..)?, 16).ok()?;
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    }
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

fn corpus() -> Vec<String> {
    match std::fs::read_to_string(CORPUS) {
        Ok(text) => text.lines().filter_map(query_field).collect(),
        Err(e) => panic!("the hunting corpus {CORPUS} cannot be read: {e}"),
    }
}

#[test]
fn hunting_corpus_parses_without_panic() {
    let queries = corpus();
    assert!(
        queries.len() > 1000,
        "the corpus at {CORPUS} looks truncated"
    );
    let started = std::time::Instant::now();
    let mut clean = 0usize;
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples: BTreeMap<String, String> = BTreeMap::new();
    for q in &queries {
        let r = parse(q);
        if r.diagnostics.is_empty() {
            clean += 1;
            continue;
        }
        let d = &r.diagnostics[0];
        let key = if d.code == "KQL0003" {
            d.message.clone()
        } else {
            format!("{}: {}", d.code, d.message)
        };
        *reasons.entry(key.clone()).or_default() += 1;
        examples
            .entry(key)
            .or_insert_with(|| d.render("query.kql", q));
    }
    let rate = clean as f64 / queries.len() as f64;
    // Many corpus texts hold several alternative queries without `;` between them (the Log
    // Analytics editor runs the one under the cursor). Count those as parsing when every part
    // does, by inserting `;` where the parser reports a new query at the start of a line.
    let split_clean = queries.iter().filter(|q| parses_when_split(q)).count();
    let split_rate = split_clean as f64 / queries.len() as f64;
    let bytes: usize = queries.iter().map(String::len).sum();
    eprintln!(
        "parsed {} queries ({} KiB) in {:?}",
        queries.len(),
        bytes / 1024,
        started.elapsed()
    );
    eprintln!(
        "hunting corpus: {clean}/{} parsed with no diagnostics ({:.1}%)",
        queries.len(),
        rate * 100.0
    );
    let mut by_count: Vec<_> = reasons.into_iter().collect();
    by_count.sort_by_key(|b| std::cmp::Reverse(b.1));
    for (reason, n) in by_count.iter().take(40) {
        eprintln!("{n:5}  {reason}");
    }
    if std::env::var("QUARRY_SHOW_EXAMPLES").is_ok() {
        for (reason, _) in by_count.iter().take(60) {
            if let Some(ex) = examples.get(reason) {
                eprintln!("---- {reason}\n{ex}");
            }
        }
    }
    eprintln!(
        "hunting corpus, several queries per text split at `;`-less line starts: {split_clean}/{} ({:.1}%)",
        queries.len(),
        split_rate * 100.0
    );
    // Guard against regressions; raise as operators are added. The rest (about 22 texts) are
    // invalid KQL: fragments starting with `|`, prose, unbalanced parentheses, `where x = 1`...
    assert!(rate > 0.955, "parse rate fell to {rate}");
    assert!(split_rate > 0.99, "split parse rate fell to {split_rate}");
}

/// True when `q` parses cleanly, possibly after inserting `;` before tokens that the parser
/// flags as "expected `|` ... after the operator" at the start of a line.
fn parses_when_split(q: &str) -> bool {
    let mut q = q.to_string();
    for _ in 0..64 {
        let r = parse(&q);
        let Some(d) = r.diagnostics.first() else {
            return true;
        };
        let at = d.span.start as usize;
        let line_start = q[..at].rfind('\n').map_or(0, |i| i + 1);
        let starts_line = at > 0 && q[line_start..at].trim().is_empty();
        if !(starts_line && d.message.contains("after the `")) {
            return false;
        }
        q.insert(at, ';');
    }
    false
}

/// Parses and also renders every diagnostic and dumps the AST: none of it may panic.
fn exercise(src: &str) {
    let r = parse(src);
    for d in &r.diagnostics {
        let _ = d.render("query.kql", src);
    }
    let _ = dump_script(&r.script);
}

/// A tiny deterministic LCG (no `rand` dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn mutated_corpus_never_panics() {
    let queries = corpus();
    let mut rng = Lcg(0x5eed);
    let mut parsed = 0usize;
    for q in queries
        .iter()
        .step_by((queries.len() / 300).max(1))
        .take(300)
    {
        let bytes = q.as_bytes();
        // Prefixes at ~20 cut points (on char boundaries).
        for i in 1..=20 {
            let mut cut = bytes.len() * i / 20;
            while !q.is_char_boundary(cut) {
                cut -= 1;
            }
            exercise(&q[..cut]);
            parsed += 1;
        }
        // Byte-flipped variants, re-validated as UTF-8 (lossy).
        for _ in 0..10 {
            let mut b = bytes.to_vec();
            if b.is_empty() {
                break;
            }
            for _ in 0..1 + rng.next() % 4 {
                let i = (rng.next() as usize) % b.len();
                let choices = b"()[]{}|;,.'\"`@!=<>~*-+/ \n0aZ$\\h";
                b[i] = match rng.next() % 3 {
                    0 => choices[(rng.next() as usize) % choices.len()],
                    1 => b[i] ^ (1 << (rng.next() % 8)),
                    _ => b' ',
                };
            }
            let s = String::from_utf8_lossy(&b);
            exercise(&s);
            // Also delete a random range.
            let i = (rng.next() as usize) % bytes.len();
            let j = (i + (rng.next() as usize) % 40).min(bytes.len());
            let mut d = bytes[..i].to_vec();
            d.extend_from_slice(&bytes[j..]);
            exercise(&String::from_utf8_lossy(&d));
            parsed += 2;
        }
    }
    eprintln!("mutation test: {parsed} variants parsed without panic");
}
