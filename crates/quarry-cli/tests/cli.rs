//! End-to-end tests of the `quarry` binary: the seed hunt against reference answers, the
//! generator in every format, a differential test against the DuckDB oracle, and bad input.
//!
//! Data is generated at test time into temporary directories with
//! `../shared/tools/gen_logons.py`; the reference answers come from
//! `../shared/tools/oracle_duckdb.py`. Both need the pinned Python environment that
//! `scripts/test.sh` creates (found through `QUARRY_PYTHON`); without it these tests fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared() -> PathBuf {
    repo().join("../shared")
}

fn python() -> PathBuf {
    let p = std::env::var_os("QUARRY_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/quarry-venv/bin/python"))
        })
        .expect("QUARRY_PYTHON or HOME must be set");
    assert!(
        p.exists(),
        "the oracle's Python ({}) is missing: run the tests through scripts/test.sh",
        p.display()
    );
    p
}

fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run quarry")
}

fn ok_stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "quarry failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

/// Runs the generator with `args` into `out`; returns its manifest.
fn generate(args: &[String], out: &Path) -> serde_json::Value {
    let status = Command::new(python())
        .arg(shared().join("tools/gen_logons.py"))
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("-q")
        .status()
        .expect("run gen_logons.py");
    assert!(status.success(), "gen_logons.py failed");
    let manifest = std::fs::read_to_string(format!("{}.manifest.json", out.display()))
        .expect("manifest written");
    serde_json::from_str(&manifest).expect("manifest is JSON")
}

fn oracle(input: &Path, variant: &str, extra: &[&str]) -> String {
    let out = Command::new(python())
        .arg(shared().join("tools/oracle_duckdb.py"))
        .arg(input)
        .args(["--variant", variant])
        .args(extra)
        .output()
        .expect("run oracle_duckdb.py");
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// CSV text → header and rows (via the csv crate, so quoted fields round-trip).
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("record").iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Compares two hunt results as multisets (Kusto leaves the order of ties undefined) and
/// checks that ours is ordered by TotalLogons descending.
fn assert_same_result(ours: &str, expected: &str, what: &str) {
    let (h1, r1) = parse_csv(ours);
    let (h2, r2) = parse_csv(expected);
    assert_eq!(h1, h2, "{what}: columns differ");
    let total = h1
        .iter()
        .position(|c| c == "TotalLogons")
        .expect("TotalLogons column");
    let totals: Vec<i64> = r1.iter().map(|r| r[total].parse().unwrap_or(-1)).collect();
    assert!(
        totals.windows(2).all(|w| w[0] >= w[1]),
        "{what}: TotalLogons is not non-increasing: {totals:?}"
    );
    let count = |rows: &[Vec<String>]| {
        let mut m: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        for r in rows {
            *m.entry(r.clone()).or_default() += 1;
        }
        m
    };
    let (a, b) = (count(&r1), count(&r2));
    if a != b {
        let only_ours: Vec<_> = a.keys().filter(|k| !b.contains_key(*k)).take(5).collect();
        let only_expected: Vec<_> = b.keys().filter(|k| !a.contains_key(*k)).take(5).collect();
        panic!(
            "{what}: results differ ({} vs {} rows)\nonly in ours: {only_ours:?}\nonly in expected: {only_expected:?}",
            r1.len(),
            r2.len()
        );
    }
}

const SEED: &str = "../shared/seed/service_account_interactive_logon.kql";
const RULE: &str = "rules/service-account-interactive-logon.kql";

fn run_hunt(query_file: &str, table: &Path, extra: &[&str]) -> String {
    let binding = format!("DeviceLogonEvents={}", table.display());
    let mut args = vec![
        "query", "-f", query_file, "--table", &binding, "--format", "csv",
    ];
    args.extend_from_slice(extra);
    ok_stdout(&quarry(&args))
}

/// The fixture's generator arguments, without --out and -q.
fn fixture_args() -> Vec<String> {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared().join("data/synthetic/small_logons.csv.manifest.json"))
            .expect("fixture manifest"),
    )
    .expect("JSON");
    let argv: Vec<String> = manifest["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        match argv[i].as_str() {
            "--out" => i += 2,
            "-q" => i += 1,
            a => {
                out.push(a.to_string());
                i += 1;
            }
        }
    }
    out
}

#[test]
fn seed_verbatim_and_corrected_rule_match_the_reference_answers() {
    let data = shared().join("data/synthetic/small_logons.csv");
    let expected_verbatim =
        std::fs::read_to_string(shared().join("data/synthetic/small_expected_verbatim.csv"))
            .unwrap();
    let expected_corrected =
        std::fs::read_to_string(shared().join("data/synthetic/small_expected_corrected.csv"))
            .unwrap();
    assert_same_result(
        &run_hunt(SEED, &data, &[]),
        &expected_verbatim,
        "seed verbatim",
    );
    assert_same_result(
        &run_hunt(RULE, &data, &[]),
        &expected_corrected,
        "corrected rule",
    );
    // The shipped copy of the seed is the verbatim text.
    assert_eq!(
        std::fs::read_to_string(repo().join("examples/seed-verbatim.kql")).unwrap(),
        std::fs::read_to_string(repo().join(SEED)).unwrap()
    );
}

#[test]
fn fixture_in_every_format_gives_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let expected_verbatim =
        std::fs::read_to_string(shared().join("data/synthetic/small_expected_verbatim.csv"))
            .unwrap();
    let expected_corrected =
        std::fs::read_to_string(shared().join("data/synthetic/small_expected_corrected.csv"))
            .unwrap();
    for (name, extra) in [
        ("small.jsonl", vec![]),
        (
            "small.stream.jsonl",
            vec!["-f".to_string(), "envelope".to_string()],
        ),
        ("small.parquet", vec![]),
    ] {
        let path = dir.path().join(name);
        let mut args = fixture_args();
        args.extend(extra);
        generate(&args, &path);
        assert_same_result(&run_hunt(SEED, &path, &[]), &expected_verbatim, name);
        assert_same_result(&run_hunt(RULE, &path, &[]), &expected_corrected, name);
    }
}

#[test]
fn differential_against_the_duckdb_oracle_in_four_formats() {
    let dir = tempfile::tempdir().unwrap();
    let base: Vec<String> = ["--rows", "100000", "--seed", "20261203", "--days", "7"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (name, extra) in [
        ("d.csv", vec![]),
        ("d.parquet", vec![]),
        ("d.jsonl", vec![]),
        (
            "d.stream.jsonl",
            vec!["-f".to_string(), "envelope".to_string()],
        ),
    ] {
        let path = dir.path().join(name);
        let mut args = base.clone();
        args.extend(extra);
        generate(&args, &path);
        let fmt = if name.ends_with(".stream.jsonl") {
            vec!["--format", "envelope"]
        } else {
            vec![]
        };
        for (query, variant) in [(SEED, "verbatim"), (RULE, "corrected")] {
            assert_same_result(
                &run_hunt(query, &path, &[]),
                &oracle(&path, variant, &fmt),
                &format!("{name} {variant}"),
            );
        }
    }
}

#[test]
fn dirty_input_fails_with_location_or_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let base: Vec<String> = [
        "--rows", "20000", "--seed", "99", "--days", "2", "--dirty", "0.01",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (name, extra) in [
        ("dirty.csv", vec![]),
        ("dirty.jsonl", vec![]),
        (
            "dirty.stream.jsonl",
            vec!["-f".to_string(), "envelope".to_string()],
        ),
    ] {
        let path = dir.path().join(name);
        let mut args = base.clone();
        args.extend(extra);
        let manifest = generate(&args, &path);
        let injected = &manifest["injected"];
        let expected_skips = [
            "wrong_column_count_lines",
            "invalid_json_lines",
            "bad_timestamp_rows",
        ]
        .iter()
        .map(|k| injected[k].as_u64().unwrap_or(0))
        .sum::<u64>();
        assert!(expected_skips > 0, "{name}: the generator injected nothing");

        // Without --skip-bad-rows: an error naming the file and a line.
        let binding = format!("DeviceLogonEvents={}", path.display());
        let out = quarry(&["query", "-f", RULE, "--table", &binding, "--format", "csv"]);
        assert!(
            !out.status.success(),
            "{name}: dirty input must fail by default"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(name) && err.contains(':'),
            "{name}: error must name the file and line: {err}"
        );

        // With it: the oracle's answer on the clean rows, and an exact skip count.
        let out = quarry(&[
            "query",
            "-f",
            RULE,
            "--table",
            &binding,
            "--format",
            "csv",
            "--skip-bad-rows",
        ]);
        let ours = ok_stdout(&out);
        let fmt: Vec<&str> = if name.ends_with(".stream.jsonl") {
            vec!["--format", "envelope", "--bad-ts", "drop"]
        } else {
            vec!["--bad-ts", "drop"]
        };
        assert_same_result(&ours, &oracle(&path, "corrected", &fmt), name);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("skipped {expected_skips} bad row(s) in total")),
            "{name}: expected {expected_skips} skipped rows to be reported, stderr was:\n{err}"
        );
    }
}

#[test]
fn dirty_parquet_keeps_null_timestamps_and_skips_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dirty.parquet");
    let args: Vec<String> = [
        "--rows", "20000", "--seed", "99", "--days", "2", "--dirty", "0.01",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    generate(&args, &path);
    let binding = format!("DeviceLogonEvents={}", path.display());
    let out = quarry(&["query", "-f", RULE, "--table", &binding, "--format", "csv"]);
    let ours = ok_stdout(&out);
    assert_same_result(&ours, &oracle(&path, "corrected", &[]), "dirty.parquet");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("skipped"));
}

#[test]
fn params_override_lets_with_type_checks() {
    let data = shared().join("data/synthetic/small_logons.csv");
    let all = run_hunt(RULE, &data, &[]);
    let only_sa = run_hunt(
        RULE,
        &data,
        &["--param", r#"ServiceAccountPatterns=["sa_"]"#],
    );
    let (_, all_rows) = parse_csv(&all);
    let (_, sa_rows) = parse_csv(&only_sa);
    assert!(!sa_rows.is_empty());
    assert!(sa_rows.iter().all(|r| r[1].starts_with("sa_")));
    let expected: Vec<_> = all_rows
        .iter()
        .filter(|r| r[1].starts_with("sa_"))
        .collect();
    assert_eq!(sa_rows.len(), expected.len());

    // Case-insensitive matching adds exactly the upper/mixed-case look-alikes.
    let ci = run_hunt(RULE, &data, &["--param", "CaseSensitive=false"]);
    let (_, ci_rows) = parse_csv(&ci);
    assert!(ci_rows.len() >= all_rows.len());
    for r in &ci_rows {
        let lower = r[1].to_lowercase();
        assert!(
            ["svc_", "service_", "sa_"]
                .iter()
                .any(|p| lower.starts_with(p))
        );
    }

    // A wrongly typed value is a clear error.
    let binding = format!("DeviceLogonEvents={}", data.display());
    let out = quarry(&[
        "query",
        "-f",
        RULE,
        "--table",
        &binding,
        "--param",
        "Lookback=yesterday",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Lookback") && err.contains("timespan"),
        "{err}"
    );
    let out = quarry(&[
        "query", "-f", RULE, "--table", &binding, "--param", "Nope=1",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no top-level `let Nope`"));
}

#[test]
fn output_formats() {
    let data = shared().join("data/synthetic/small_logons.csv");
    let binding = format!("DeviceLogonEvents={}", data.display());
    let q = "DeviceLogonEvents | where AccountName == 'sa_' | summarize n = count(), first = min(Timestamp) by AccountName";
    let json = ok_stdout(&quarry(&[
        "query", q, "--table", &binding, "--format", "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v[0]["AccountName"], "sa_");
    assert!(v[0]["n"].as_i64().unwrap() > 0);
    assert!(v[0]["first"].as_str().unwrap().ends_with('Z'));
    let nd = ok_stdout(&quarry(&[
        "query", q, "--table", &binding, "--format", "ndjson",
    ]));
    assert_eq!(nd.lines().count(), 1);
    let table = ok_stdout(&quarry(&["query", q, "--table", &binding]));
    assert!(table.contains("AccountName") && table.contains("sa_"));
}

#[test]
fn query_errors_show_a_caret_under_the_span() {
    let data = shared().join("data/synthetic/small_logons.csv");
    let binding = format!("DeviceLogonEvents={}", data.display());
    let out = quarry(&[
        "query",
        "DeviceLogonEvents | where AcountName == 'x'",
        "--table",
        &binding,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[KQL1001]"), "{err}");
    assert!(err.contains("                         ^^^^^^^^^^"), "{err}");
    assert!(err.contains("did you mean `AccountName`?"), "{err}");

    let out = quarry(&["query", "DeviceLogonEvents | take 1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--table DeviceLogonEvents=PATH"));

    let out = quarry(&["query", "x", "--table", "T=/nonexistent/file.csv"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/file.csv"));
}
