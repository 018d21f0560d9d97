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
    // ... reported once: the lets that use the bad parameter do not add "unknown name" errors.
    let out = quarry(&[
        "query",
        "--no-lint",
        "-f",
        RULE,
        "--table",
        &binding,
        "--param",
        "CaseSensitive=maybe",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("error[").count(), 1, "{err}");
    assert!(err.contains("`maybe` is not a valid bool value"), "{err}");
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

// ---- Windows event logs (EVTX, Mordor/Winlogbeat/Sentinel JSON) as hunting tables ----

fn data(rel: &str) -> String {
    shared().join("data").join(rel).display().to_string()
}

/// All real Windows-event samples bound to `table` (three directories).
fn sample_bindings(table: &str) -> Vec<String> {
    [
        "sbousseaden-evtx-attack-samples",
        "hayabusa-sample-evtx",
        "otrf-security-datasets",
    ]
    .iter()
    .map(|d| format!("{table}={}", data(d)))
    .collect()
}

fn query_csv(query_args: &[&str], bindings: &[String]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut args: Vec<&str> = query_args.to_vec();
    for b in bindings {
        args.push("--table");
        args.push(b);
    }
    args.extend(["--format", "csv"]);
    parse_csv(&ok_stdout(&quarry(&args)))
}

#[test]
fn seed_hunt_over_the_real_windows_samples_is_empty() {
    // The public samples have no svc_/service_/sa_ account with an Interactive or
    // RemoteInteractive logon (../shared/data/README.md), so Kusto's answer is no rows.
    for q in [SEED, RULE] {
        let (h, rows) = query_csv(&["query", "-f", q], &sample_bindings("DeviceLogonEvents"));
        assert_eq!(
            h,
            [
                "Timestamp",
                "AccountName",
                "LogonType",
                "TotalLogons",
                "SuccessfulLogons",
                "FailedAttempts",
                "UniqueDevices"
            ]
        );
        assert!(rows.is_empty(), "{q}: {rows:?}");
    }
    // The same input does hold interactive logons, so the empty answer is the hunt's.
    let (_, rows) = query_csv(
        &[
            "query",
            "DeviceLogonEvents | where LogonType in ('Interactive', 'RemoteInteractive') | count",
        ],
        &sample_bindings("DeviceLogonEvents"),
    );
    // README: 4624 LT2 15, 4625 LT2 17, 4624 LT10 3.
    assert_eq!(rows, [["35"]]);
}

/// One Mordor-layout (flattened NXLog) 4624/4625 line.
fn mordor_logon(
    time: &str,
    host: &str,
    id: u32,
    account: &str,
    logon_type: u32,
    channel: &str,
) -> serde_json::Value {
    serde_json::json!({
        "@timestamp": time, "EventID": id, "Channel": channel, "Hostname": host,
        "SourceName": "Microsoft-Windows-Security-Auditing",
        "Keywords": if id == 4625 { -9218868437227405312i64 } else { -9214364837600034816i64 },
        "TargetUserName": account, "TargetDomainName": "CORP", "TargetUserSid": "S-1-5-21-1-2-3-1001",
        "TargetLogonId": "0x1234", "LogonType": logon_type.to_string(), "IpAddress": "10.0.0.5",
        "IpPort": "50000", "WorkstationName": "WS01", "LogonProcessName": "User32",
        "AuthenticationPackageName": "Negotiate", "Status": if id == 4625 { "0xc000006d" } else { "0x0" },
        "SubStatus": if id == 4625 { "0xc000006a" } else { "0x0" },
        "SubjectUserName": "HOST$", "SubjectDomainName": "CORP", "ProcessName": "C:\\Windows\\System32\\winlogon.exe",
    })
}

/// Labelled positives and negatives for the service-account hunt, built here (the public
/// samples have none): Mordor flattened lines plus one Winlogbeat line.
fn write_service_account_fixture(dir: &Path) -> PathBuf {
    let mut lines = vec![
        // positives
        mordor_logon(
            "2024-03-01T10:05:00Z",
            "HOST1",
            4624,
            "svc_backup",
            2,
            "Security",
        ),
        mordor_logon(
            "2024-03-01T10:20:00Z",
            "HOST2",
            4625,
            "svc_backup",
            2,
            "security",
        ),
        mordor_logon(
            "2024-03-01T11:30:00Z",
            "HOST1",
            4624,
            "svc_backup",
            10,
            "Security",
        ),
        mordor_logon(
            "2024-03-01T10:00:00Z",
            "HOST3",
            4624,
            "sa_sql",
            10,
            "Security",
        ),
        mordor_logon(
            "2024-03-01T10:59:59Z",
            "HOST3",
            4625,
            "service_web",
            10,
            "Security",
        ),
        // negatives: network/service/cached logons, other prefixes, case, other events
        mordor_logon(
            "2024-03-01T10:10:00Z",
            "HOST1",
            4624,
            "svc_backup",
            3,
            "Security",
        ),
        mordor_logon(
            "2024-03-01T10:10:00Z",
            "HOST1",
            4624,
            "svc_batch",
            5,
            "Security",
        ),
        mordor_logon(
            "2024-03-01T10:10:00Z",
            "HOST1",
            4624,
            "svc_cache",
            11,
            "Security",
        ),
        mordor_logon(
            "2024-03-01T10:10:00Z",
            "HOST1",
            4624,
            "SVC_upper",
            2,
            "Security",
        ),
        mordor_logon(
            "2024-03-01T10:10:00Z",
            "HOST1",
            4624,
            "alice",
            2,
            "Security",
        ),
        mordor_logon(
            "2024-03-01T10:10:00Z",
            "HOST1",
            4634,
            "svc_backup",
            2,
            "Security",
        ),
    ];
    lines.push(serde_json::json!({
        "@timestamp": "2024-03-01T12:00:01Z", "event_id": 4624, "log_name": "Security",
        "computer_name": "HOST4", "source_name": "Microsoft-Windows-Security-Auditing",
        "keywords": ["Audit Success"],
        "event_data": {"TargetUserName": "svc_wlb", "TargetDomainName": "CORP", "LogonType": "2"}
    }));
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let p = dir.join("labelled_logons.json");
    std::fs::write(&p, text).expect("write fixture");
    p
}

#[test]
fn seed_hunt_finds_labelled_service_account_logons_in_mordor_json() {
    let dir = tempfile::TempDir::new().expect("tmp");
    let p = write_service_account_fixture(dir.path());
    let binding = vec![format!("DeviceLogonEvents={}", p.display())];
    let sorted = |mut rows: Vec<Vec<String>>| {
        rows.sort();
        rows
    };
    let row = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // The seed verbatim: its success/failure counts read LogonType, so they are always 0.
    let (_, rows) = query_csv(&["query", "-f", SEED], &binding);
    assert_eq!(
        sorted(rows),
        sorted(vec![
            row(&[
                "2024-03-01T10:00:00Z",
                "sa_sql",
                "RemoteInteractive",
                "1",
                "0",
                "0",
                "1"
            ]),
            row(&[
                "2024-03-01T10:00:00Z",
                "service_web",
                "RemoteInteractive",
                "1",
                "0",
                "0",
                "1"
            ]),
            row(&[
                "2024-03-01T10:00:00Z",
                "svc_backup",
                "Interactive",
                "2",
                "0",
                "0",
                "2"
            ]),
            row(&[
                "2024-03-01T11:00:00Z",
                "svc_backup",
                "RemoteInteractive",
                "1",
                "0",
                "0",
                "1"
            ]),
            row(&[
                "2024-03-01T12:00:00Z",
                "svc_wlb",
                "Interactive",
                "1",
                "0",
                "0",
                "1"
            ]),
        ])
    );
    // The corrected rule counts outcomes from ActionType.
    let (_, rows) = query_csv(&["query", "-f", RULE], &binding);
    assert_eq!(
        sorted(rows),
        sorted(vec![
            row(&[
                "2024-03-01T10:00:00Z",
                "sa_sql",
                "RemoteInteractive",
                "1",
                "1",
                "0",
                "1"
            ]),
            row(&[
                "2024-03-01T10:00:00Z",
                "service_web",
                "RemoteInteractive",
                "1",
                "0",
                "1",
                "1"
            ]),
            row(&[
                "2024-03-01T10:00:00Z",
                "svc_backup",
                "Interactive",
                "2",
                "1",
                "1",
                "2"
            ]),
            row(&[
                "2024-03-01T11:00:00Z",
                "svc_backup",
                "RemoteInteractive",
                "1",
                "1",
                "0",
                "1"
            ]),
            row(&[
                "2024-03-01T12:00:00Z",
                "svc_wlb",
                "Interactive",
                "1",
                "1",
                "0",
                "1"
            ]),
        ])
    );
    // The same positives mixed into the real samples give the same answer.
    let mut all = sample_bindings("DeviceLogonEvents");
    all.extend(binding);
    let (_, mixed) = query_csv(&["query", "-f", RULE], &all);
    assert_eq!(mixed.len(), 5);
}

#[test]
fn security_event_4624_joins_4688_on_logon_id() {
    // runas: hack1's interactive logon 0xa6f5fc2 then the processes it started.
    let (h, rows) = query_csv(
        &[
            "query",
            "SecurityEvent | where EventID == 4624 \
             | project Computer, LogonId = TargetLogonId, TargetUserName, LogonType \
             | join kind=inner (SecurityEvent | where EventID == 4688 \
                 | project Computer, LogonId = SubjectLogonId, NewProcessName) on Computer, LogonId \
             | project Computer, LogonId, TargetUserName, LogonType, NewProcessName \
             | order by NewProcessName asc",
        ],
        &sample_bindings("SecurityEvent"),
    );
    assert_eq!(
        h,
        [
            "Computer",
            "LogonId",
            "TargetUserName",
            "LogonType",
            "NewProcessName"
        ]
    );
    assert_eq!(
        rows,
        [
            [
                "FS03.offsec.lan",
                "0xa6f5fc2",
                "hack1",
                "2",
                r"C:\Windows\System32\conhost.exe"
            ],
            [
                "FS03.offsec.lan",
                "0xa6f5fc2",
                "hack1",
                "2",
                r"C:\Windows\System32\ctfmon.exe"
            ],
        ]
    );
    // The same files feed two tables in one query: each RDP logon row of DeviceLogonEvents
    // meets the SecurityEvent rows of its host and time.
    let mut b = sample_bindings("SecurityEvent");
    b.extend(sample_bindings("DeviceLogonEvents"));
    let (_, rows) = query_csv(
        &[
            "query",
            "DeviceLogonEvents | where LogonType == 'RemoteInteractive' | project DeviceName, Timestamp \
             | join kind=inner (SecurityEvent | where EventID == 4624 \
                 | project DeviceName = Computer, Timestamp = TimeGenerated, LogonTypeName) \
                 on DeviceName, Timestamp \
             | where LogonTypeName == '10 - RemoteInteractive' | count",
        ],
        &b,
    );
    // PC02's RDP logon meets itself; WORKSTATION5's two RDP logons share their second
    // (NXLog times have second precision), so each meets both: 1 + 2 × 2.
    assert_eq!(rows, [["5"]]);
}

#[test]
fn device_process_events_from_sysmon_and_4688() {
    // Independent expectation: plain JSON parsing of the OTRF files and the EVTX 4688 count.
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for e in std::fs::read_dir(shared().join("data/otrf-security-datasets")).expect("dir") {
        let p = e.expect("entry").path();
        if p.to_string_lossy().contains("m365d") {
            continue;
        }
        for line in std::fs::read_to_string(&p).expect("read").lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            let id = v.get("EventID").and_then(|x| x.as_i64());
            let chan = v.get("Channel").and_then(|x| x.as_str()).unwrap_or("");
            let image = match (id, chan) {
                (Some(1), "Microsoft-Windows-Sysmon/Operational") => v.get("Image"),
                (Some(4688), c) if c.eq_ignore_ascii_case("security") => v.get("NewProcessName"),
                _ => None,
            };
            if let Some(img) = image.and_then(|x| x.as_str()) {
                let name = img.rsplit('\\').next().unwrap_or(img).to_string();
                *expected.entry(name).or_default() += 1;
            }
        }
    }
    assert!(expected.contains_key("net.exe"), "{expected:?}");
    let (_, rows) = query_csv(
        &[
            "query",
            "DeviceProcessEvents | summarize n = count() by FileName | order by FileName asc",
        ],
        &[format!(
            "DeviceProcessEvents={}",
            data("otrf-security-datasets")
        )],
    );
    let ours: BTreeMap<String, u64> = rows
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().expect("n")))
        .collect();
    assert_eq!(ours, expected);
    // Sysmon 1 columns: parent, command line, hashes.
    let (_, rows) = query_csv(
        &[
            "query",
            "DeviceProcessEvents | where FileName == 'net.exe' \
             | project AccountDomain, AccountName, InitiatingProcessFileName, SHA1, ProcessCommandLine | take 1",
        ],
        &[format!(
            "DeviceProcessEvents={}",
            data("otrf-security-datasets/empire_samr_domain_admins_full.json")
        )],
    );
    assert_eq!(
        rows,
        [[
            "THESHIRE",
            "sbeavers",
            "powershell.exe",
            "5b9ea3c45a11d4aeb1b1ac0f72c4c19308fc7d0b",
            r#""C:\windows\system32\net.exe" group "Domain Admins" /domain"#
        ]]
    );
}

#[test]
fn device_network_events_from_sysmon_3() {
    let (_, rows) = query_csv(
        &[
            "query",
            "DeviceNetworkEvents | summarize n = count() by ActionType, Protocol | order by ActionType asc",
        ],
        &[format!(
            "DeviceNetworkEvents={}",
            data("otrf-security-datasets/covenant_sharpsc_query_full.json")
        )],
    );
    let total: u64 = rows.iter().map(|r| r[2].parse::<u64>().expect("n")).sum();
    assert_eq!(total, 12, "{rows:?}"); // README: 12 Sysmon event 3 records
}

#[test]
fn tables_and_schema_commands() {
    let out = ok_stdout(&quarry(&["tables"]));
    for t in [
        "DeviceLogonEvents",
        "SecurityEvent",
        "DeviceProcessEvents",
        "DeviceNetworkEvents",
        "WindowsEvent",
        "Event",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{t}\t"))),
            "{out}"
        );
    }
    let out = ok_stdout(&quarry(&["schema", "SecurityEvent"]));
    assert!(out.lines().any(|l| l == "LogonType:int"), "{out}");
    assert!(out.lines().any(|l| l == "TimeGenerated:datetime"), "{out}");
    let out = quarry(&["schema", "NoSuchTable"]);
    assert!(!out.status.success());
}

#[test]
fn corrupt_evtx_stops_with_file_and_chunk_or_is_skipped_with_counts() {
    let dir = tempfile::TempDir::new().expect("tmp");
    let src = shared().join("data/hayabusa-sample-evtx/smb-password-guessing-security.evtx");
    let mut bytes = std::fs::read(src).expect("read");
    bytes.truncate(4096 + 65536 + 5000);
    let p = dir.path().join("cut.evtx");
    std::fs::write(&p, bytes).expect("write");
    let binding = format!("SecurityEvent={}", p.display());
    let out = quarry(&["query", "SecurityEvent | count", "--table", &binding]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cut.evtx") && err.contains("chunk 1"), "{err}");
    let out = quarry(&[
        "query",
        "SecurityEvent | count",
        "--table",
        &binding,
        "--skip-bad-rows",
        "--format",
        "csv",
    ]);
    let text = ok_stdout(&out);
    let (_, rows) = parse_csv(&text);
    assert!(rows[0][0].parse::<u64>().expect("count") > 100);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.evtx: read") && err.contains("skipped 1"),
        "{err}"
    );
}

// ---- quarry lint / quarry hunt (issue 5) ----

/// Runs `quarry hunt` with extra arguments; returns (status ok, stdout, stderr).
fn hunt_run(args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["hunt"];
    all.extend_from_slice(args);
    let out = quarry(&all);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `Row` objects of one rule's ndjson alerts, as CSV text with `header`'s columns (for
/// `assert_same_result`).
fn hunt_rows_csv(ndjson: &str, rule_id: &str, header: &[&str]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("header");
    for line in ndjson.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("ndjson alert");
        if v["RuleId"] != rule_id {
            continue;
        }
        let rec: Vec<String> = header
            .iter()
            .map(|c| match &v["Row"][c] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect();
        w.write_record(&rec).expect("row");
    }
    String::from_utf8(w.into_inner().expect("csv")).expect("utf-8")
}

const EXPECTED_HEADER: [&str; 7] = [
    "Timestamp",
    "AccountName",
    "LogonType",
    "TotalLogons",
    "SuccessfulLogons",
    "FailedAttempts",
    "UniqueDevices",
];

#[test]
fn lint_reports_the_seeds_mistakes_and_nothing_on_the_rules() {
    let out = quarry(&["lint", SEED]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings make the exit status 1"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "warning[QL0001]: `ServiceAccountPatterns` is declared but never used",
        "hint[QL0005]",
        "warning[QL0002]: `countif` predicate is never true here",
        "this `where` limits `LogonType` to \"Interactive\", \"RemoteInteractive\"",
        "  --> ../shared/seed/service_account_interactive_logon.kql:11:30",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
    let out = quarry(&["lint", "--format", "json", SEED]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let found: Vec<(String, u64, u64)> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("QL0001".to_string(), 2, 5),
            ("QL0005".to_string(), 6, 33),
            ("QL0002".to_string(), 11, 30),
            ("QL0002".to_string(), 12, 32),
        ]
    );
    assert_eq!(v[2]["labels"][0]["span"]["line"], 5);
    assert_eq!(v[2]["severity"], "warning");
    assert_eq!(v[1]["severity"], "hint");

    // The built-in pack and the Sentinel fixtures' clean files: nothing, exit 0.
    let out = quarry(&["lint", "rules/"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty());
    let out = quarry(&["lint", "--format", "json", "rules/"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    // An unreadable path is exit 2.
    assert_eq!(
        quarry(&["lint", "/nonexistent/x.kql"]).status.code(),
        Some(2)
    );
}

#[test]
fn query_prints_lint_warnings_unless_told_not_to() {
    let data = shared().join("data/synthetic/small_logons.csv");
    let binding = format!("DeviceLogonEvents={}", data.display());
    let out = quarry(&["query", "-f", SEED, "--table", &binding, "--format", "csv"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning[QL0002]") && err.contains("warning[QL0001]"),
        "{err}"
    );
    let out = quarry(&[
        "query",
        "-f",
        SEED,
        "--table",
        &binding,
        "--format",
        "csv",
        "--no-lint",
    ]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("QL0"));
}

#[test]
fn hunt_builtin_pack_reproduces_the_reference_answer_and_tunes() {
    let data = shared().join("data/synthetic/small_logons.csv");
    let binding = format!("DeviceLogonEvents={}", data.display());
    let expected =
        std::fs::read_to_string(shared().join("data/synthetic/small_expected_corrected.csv"))
            .expect("expected");
    let window = [
        "--since",
        "2024-03-01T00:00:00Z",
        "--until",
        "2024-03-02T00:00:00Z",
    ];
    let mut args = vec!["--table", binding.as_str(), "--format", "ndjson"];
    args.extend(window);
    let (ok, all, err) = hunt_run(&args);
    assert!(ok, "{err}");
    assert!(
        err.contains("hunt summary: 4 rule(s) run, 1 skipped, 0 failed"),
        "{err}"
    );
    assert!(err.contains("needs table SecurityEvent"), "{err}");
    let ours = hunt_rows_csv(&all, "quarry-0001", &EXPECTED_HEADER);
    assert_same_result(&ours, &expected, "hunt, built-in pack, quarry-0001");
    // Every alert carries the rule's metadata and its entities.
    let first: serde_json::Value =
        serde_json::from_str(all.lines().next().expect("an alert")).expect("json");
    assert_eq!(first["RuleId"], "quarry-0001");
    assert_eq!(first["Severity"], "medium");
    assert_eq!(first["Techniques"][0], "T1078");
    assert_eq!(first["Entities"]["account"], first["Row"]["AccountName"]);
    let (_, cs_rows) = parse_csv(&ours);

    // The service-account list narrows the alerts to exactly the sa_ ones.
    let mut narrowed = args.clone();
    narrowed.extend(["--param", r#"ServiceAccountPatterns=["sa_"]"#]);
    let (ok, out, err) = hunt_run(&narrowed);
    assert!(ok, "{err}");
    let (_, sa_rows) = parse_csv(&hunt_rows_csv(&out, "quarry-0001", &EXPECTED_HEADER));
    let mut want: Vec<_> = cs_rows
        .iter()
        .filter(|r| r[1].starts_with("sa_"))
        .cloned()
        .collect();
    let mut got = sa_rows.clone();
    want.sort();
    got.sort();
    assert!(!got.is_empty());
    assert_eq!(got, want);

    // Case-insensitive matching adds exactly the upper/mixed-case look-alikes.
    let mut ci = args.clone();
    ci.extend(["--param", "CaseSensitive=false"]);
    let (ok, out, err) = hunt_run(&ci);
    assert!(ok, "{err}");
    let (_, ci_rows) = parse_csv(&hunt_rows_csv(&out, "quarry-0001", &EXPECTED_HEADER));
    let prefixes = ["svc_", "service_", "sa_"];
    let extra: Vec<_> = ci_rows.iter().filter(|r| !cs_rows.contains(r)).collect();
    assert!(!extra.is_empty(), "the fixture has upper-case look-alikes");
    for r in &extra {
        let name = &r[1];
        assert!(!prefixes.iter().any(|p| name.starts_with(p)), "{name}");
        assert!(
            prefixes.iter().any(|p| name.to_lowercase().starts_with(p)),
            "{name}"
        );
    }
    assert!(cs_rows.iter().all(|r| ci_rows.contains(r)));

    // A bad value is a clear error before anything runs; an unknown name too.
    let mut bad = args.clone();
    bad.extend(["--param", "Lookback=yesterday"]);
    let (ok, _, err) = hunt_run(&bad);
    assert!(
        !ok && err.contains("Lookback") && err.contains("timespan"),
        "{err}"
    );
    let mut bad = args.clone();
    bad.extend(["--param", "Nope=1"]);
    let (ok, _, err) = hunt_run(&bad);
    assert!(
        !ok && err.contains("no rule has a top-level `let Nope`"),
        "{err}"
    );
}

#[test]
fn hunt_since_until_cut_and_lookback_is_never_silent() {
    let data = shared().join("data/synthetic/small_logons.csv");
    let binding = format!("DeviceLogonEvents={}", data.display());
    let expected =
        std::fs::read_to_string(shared().join("data/synthetic/small_expected_corrected.csv"))
            .expect("expected");
    let (ok, out, err) = hunt_run(&[
        "--table",
        &binding,
        "--rule",
        "quarry-0001",
        "--since",
        "2024-03-01T10:00:00Z",
        "--until",
        "2024-03-01T12:00:00Z",
        "--format",
        "ndjson",
    ]);
    assert!(ok, "{err}");
    // Hour bins entirely inside the window are exactly the reference's rows of those hours.
    let (h, rows) = parse_csv(&expected);
    let mut want = vec![h.join(",")];
    for r in &rows {
        if r[0].as_str() >= "2024-03-01T10:00:00Z" && r[0].as_str() < "2024-03-01T12:00:00Z" {
            want.push(r.join(","));
        }
    }
    assert_eq!(want.len(), 4);
    assert_same_result(
        &hunt_rows_csv(&out, "quarry-0001", &EXPECTED_HEADER),
        &(want.join("\n") + "\n"),
        "since/until",
    );

    // A look-back that misses the evidence is reported, not silent.
    let (ok, out, err) = hunt_run(&[
        "--table",
        &binding,
        "--rule",
        "quarry-0001",
        "--now",
        "2024-03-10T00:00:00Z",
        "--param",
        "Lookback=1d",
        "--format",
        "ndjson",
    ]);
    assert!(ok, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("0 alerts") && err.contains("lies entirely outside the rule's window"),
        "{err}"
    );
    // --since/--until replace that look-back.
    let (ok, out, err) = hunt_run(&[
        "--table",
        &binding,
        "--rule",
        "quarry-0001",
        "--since",
        "2024-03-01T00:00:00Z",
        "--param",
        "Lookback=1d",
        "--now",
        "2024-03-10T00:00:00Z",
        "--format",
        "ndjson",
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().count(),
        0,
        "an explicit Lookback param wins: {err}"
    );
    let (ok, out, _) = hunt_run(&[
        "--table",
        &binding,
        "--rule",
        "quarry-0001",
        "--since",
        "2024-03-01T00:00:00Z",
        "--now",
        "2024-03-10T00:00:00Z",
        "--format",
        "ndjson",
    ]);
    assert!(ok);
    assert_eq!(out.lines().count(), 26);
}

#[test]
fn hunt_reports_broken_rules_and_runs_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = repo().join(RULE);
    std::fs::copy(&good, dir.path().join("0-good.kql")).expect("copy");
    std::fs::write(
        dir.path().join("1-syntax.kql"),
        "DeviceLogonEvents | where (AccountName == 'x'\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("2-column.kql"),
        "DeviceLogonEvents | where AcountName == 'x'\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("3-param.kql"),
        "// ---\n// id: bad-param\n// title: t\n// parameters:\n//   Threshold: {type: long, default: ten}\n// ---\nlet Threshold = 1;\nDeviceLogonEvents | take Threshold\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("4-nolet.kql"),
        "// ---\n// id: no-let\n// title: t\n// parameters:\n//   Threshold: {type: long, default: 1}\n// ---\nDeviceLogonEvents | take 1\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("5-yaml.yaml"), "id: [\nquery: T\n").expect("write");
    let data = shared().join("data/synthetic/small_logons.csv");
    let binding = format!("DeviceLogonEvents={}", data.display());
    let rules = dir.path().display().to_string();
    let (ok, out, err) = hunt_run(&["--rules", &rules, "--table", &binding, "--format", "ndjson"]);
    assert!(!ok, "a failed rule makes the exit status non-zero");
    assert_eq!(out.lines().count(), 26, "the good rule still ran: {err}");
    assert!(
        err.contains("hunt summary: 1 rule(s) run, 0 skipped, 5 failed, 26 alert(s)"),
        "{err}"
    );
    assert_eq!(
        err.matches("error[KQL0001]").count(),
        1,
        "reported once: {err}"
    );
    for needle in [
        "error[KQL0001]",
        "1-syntax.kql:2:1",
        "unknown column or name `AcountName`",
        "2-column.kql:1:27",
        "did you mean `AccountName`?",
        "default `\"ten\"` is not a long value",
        "parameter `Threshold` has no top-level `let Threshold`",
        "5-yaml.yaml",
    ] {
        assert!(err.contains(needle), "missing {needle}:\n{err}");
    }
}

/// A DeviceLogonEvents CSV with the columns the logon rules read.
fn logon_csv(dir: &Path, name: &str, rows: &[[&str; 8]]) -> String {
    let mut text = String::from(
        "Timestamp,DeviceName,ActionType,LogonType,AccountName,FailureReason,RemoteIP,RemoteIPType\n",
    );
    for r in rows {
        text.push_str(&r.join(","));
        text.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write fixture");
    format!("DeviceLogonEvents={}", path.display())
}

/// Alerts of one built-in rule over a binding, as (Entities, Row) JSON pairs.
fn rule_alerts(rule: &str, bindings: &[&str], extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["--rule", rule, "--format", "json"];
    for b in bindings {
        args.extend(["--table", b]);
    }
    args.extend_from_slice(extra);
    let (ok, out, err) = hunt_run(&args);
    assert!(ok, "{rule}: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json array");
    v.as_array().cloned().unwrap_or_default()
}

#[test]
fn builtin_logon_rules_fire_where_they_must_and_nowhere_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rows: Vec<[&str; 8]> = Vec::new();
    // quarry-0002: 12 failures for Alice (two spellings) in 5 minutes: one alert. 9 for bob,
    // and 12 for carol spread over 4 hours: none.
    let minutes: Vec<String> = (0..12)
        .map(|i| format!("2024-03-01T10:0{}:{:02}Z", i % 5, i * 4))
        .collect();
    for (i, t) in minutes.iter().enumerate() {
        let who = if i % 2 == 0 { "alice" } else { "Alice" };
        rows.push([
            t,
            "ws1",
            "LogonFailed",
            "Network",
            who,
            "WrongPassword",
            "10.0.0.5",
            "Private",
        ]);
    }
    for t in minutes.iter().take(9) {
        rows.push([
            t,
            "ws1",
            "LogonFailed",
            "Network",
            "bob",
            "WrongPassword",
            "10.0.0.5",
            "Private",
        ]);
    }
    let spread: Vec<String> = (0..12)
        .map(|i| format!("2024-03-01T{:02}:{:02}:00Z", 12 + i / 3, (i % 3) * 20))
        .collect();
    for t in &spread {
        rows.push([
            t,
            "ws2",
            "LogonFailed",
            "Network",
            "carol",
            "WrongPassword",
            "10.0.0.6",
            "Private",
        ]);
    }
    // quarry-0003: RDP success from a public address fires; from a private one, a Network
    // logon from a public one, or a failed RDP logon do not.
    rows.push([
        "2024-03-01T11:00:00Z",
        "srv1",
        "LogonSuccess",
        "RemoteInteractive",
        "dave",
        "",
        "203.0.113.7",
        "Public",
    ]);
    rows.push([
        "2024-03-01T11:01:00Z",
        "srv1",
        "LogonSuccess",
        "RemoteInteractive",
        "erin",
        "",
        "10.1.1.1",
        "Private",
    ]);
    rows.push([
        "2024-03-01T11:02:00Z",
        "srv1",
        "LogonSuccess",
        "Network",
        "frank",
        "",
        "203.0.113.8",
        "Public",
    ]);
    rows.push([
        "2024-03-01T11:03:00Z",
        "srv1",
        "LogonFailed",
        "RemoteInteractive",
        "gina",
        "WrongPassword",
        "203.0.113.9",
        "Public",
    ]);
    // quarry-0004: a disabled account fires; other failure reasons do not.
    rows.push([
        "2024-03-01T11:04:00Z",
        "srv2",
        "LogonFailed",
        "Interactive",
        "OldUser",
        "AccountDisabled",
        "",
        "",
    ]);
    rows.push([
        "2024-03-01T11:05:00Z",
        "srv2",
        "LogonFailed",
        "Interactive",
        "newuser",
        "AccountLocked",
        "",
        "",
    ]);
    let binding = logon_csv(dir.path(), "logons.csv", &rows);

    let a = rule_alerts("quarry-0002", &[&binding], &[]);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["Entities"]["account"], "alice");
    assert_eq!(a[0]["Row"]["FailedLogons"], 12);
    let lowered = rule_alerts(
        "quarry-0002",
        &[&binding],
        &["--param", "FailureThreshold=9"],
    );
    assert_eq!(
        lowered.len(),
        2,
        "bob reaches a threshold of 9: {lowered:?}"
    );
    let wide = rule_alerts("quarry-0002", &[&binding], &["--param", "BurstWindow=1d"]);
    assert_eq!(wide.len(), 2, "carol within a day: {wide:?}");

    let a = rule_alerts("quarry-0003", &[&binding], &[]);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["Entities"]["account"], "dave");
    assert_eq!(a[0]["Entities"]["ip"], "203.0.113.7");
    assert_eq!(a[0]["Entities"]["host"], "srv1");
    let allowed = rule_alerts(
        "quarry-0003",
        &[&binding],
        &["--param", r#"AllowedRemoteIPs=["203.0.113.7"]"#],
    );
    assert!(allowed.is_empty());

    let a = rule_alerts("quarry-0004", &[&binding], &[]);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["Entities"]["account"], "olduser");

    // quarry-0005 on real Windows logs: the SMB password-guessing sample fires, the OpenSSH
    // sample (5 failures) does not.
    let smb = format!(
        "SecurityEvent={}",
        data("hayabusa-sample-evtx/smb-password-guessing-security.evtx")
    );
    let a = rule_alerts("quarry-0005", &[&smb], &[]);
    assert!(!a.is_empty());
    assert!(
        a.iter()
            .all(|x| x["Row"]["FailedLogons"].as_i64().unwrap_or(0) >= 10)
    );
    let ssh = format!(
        "SecurityEvent={}",
        data("hayabusa-sample-evtx/ID4625-OpenSSH_brutforce_with_valid_users.evtx")
    );
    assert!(rule_alerts("quarry-0005", &[&ssh], &[]).is_empty());
    let low = rule_alerts("quarry-0005", &[&ssh], &["--param", "FailureThreshold=5"]);
    assert_eq!(low.len(), 1);
    assert_eq!(low[0]["Entities"]["account"], "admmig@offsec.lan");
}

#[test]
fn sentinel_yaml_rules_run_unchanged_on_the_real_samples() {
    let fixtures = repo().join("crates/quarry-cli/tests/fixtures/sentinel");
    let rules = fixtures.display().to_string();
    let mut bindings = sample_bindings("SecurityEvent");
    bindings.push(format!(
        "DeviceLogonEvents={}",
        data("elastic-integrations-m365d")
    ));
    bindings.push(format!(
        "DeviceLogonEvents={}",
        data("synthetic/small_logons.csv")
    ));
    for b in sample_bindings("DeviceLogonEvents") {
        bindings.push(b);
    }
    let mut args = vec!["--rules", rules.as_str(), "--format", "ndjson", "--no-lint"];
    for b in &bindings {
        args.extend(["--table", b.as_str()]);
    }
    let (ok, out, err) = hunt_run(&args);
    assert!(ok, "{err}");
    assert!(
        err.contains("hunt summary: 6 rule(s) run, 0 skipped, 0 failed"),
        "{err}"
    );
    // The tunnelling analytic rule finds the RDP-over-loopback sample, with its entities.
    let tunnel: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["RuleTitle"] == "Potential Remote Desktop Tunneling")
        .collect();
    assert!(!tunnel.is_empty(), "{err}");
    assert_eq!(tunnel[0]["Severity"], "medium");
    assert!(tunnel[0]["Entities"]["Host.FullName"].is_string());
    assert!(tunnel[0]["Entities"]["IP.Address"].is_string());
    // The hunting query with {{StartTimeISO}}/{{EndTimeISO}} runs with an explicit window too.
    let mut windowed = args.clone();
    windowed.extend([
        "--since",
        "2021-01-01T00:00:00Z",
        "--until",
        "2022-01-01T00:00:00Z",
    ]);
    let (ok, _, err) = hunt_run(&windowed);
    assert!(ok, "{err}");
    assert!(err.contains("0 failed"), "{err}");
}

/// `--since`/`--until` on `query` keep exactly the rows a `where` on the time column keeps, in
/// every format and for Windows events (which prune before building rows); `--stats` accounts
/// for every row read.
#[test]
fn query_since_until_equal_a_where_on_the_time_column_and_stats_count_rows() {
    let csv = "DeviceLogonEvents=examples/DeviceLogonEvents.csv".to_string();
    let evtx = sample_bindings("SecurityEvent");
    // (table, bindings, time column, a grouping column, since, until)
    type Case<'a> = (&'a str, &'a [String], &'a str, &'a str, &'a str, &'a str);
    let cases: [Case; 3] = [
        (
            "DeviceLogonEvents",
            std::slice::from_ref(&csv),
            "Timestamp",
            "ActionType",
            "2024-03-01T12:00:00Z",
            "2024-03-02T00:00:00Z",
        ),
        (
            "SecurityEvent",
            &evtx,
            "TimeGenerated",
            "EventID",
            "2019-01-01T00:00:00Z",
            "2020-06-01T00:00:00Z",
        ),
        (
            "SecurityEvent",
            &evtx,
            "TimeGenerated",
            "EventID",
            "2020-09-20T00:00:00Z",
            "2030-01-01T00:00:00Z",
        ),
    ];
    for (table, bindings, time_col, key, since, until) in cases {
        // The time column itself is not projected: the window must still apply.
        let grouped = format!("{table} | summarize n = count() by {key}");
        let plain = format!(
            "{table} | where {time_col} >= datetime({since}) and {time_col} < datetime({until}) \
             | summarize n = count() by {key}"
        );
        let (_, windowed) = query_csv(
            &["query", &grouped, "--since", since, "--until", until],
            bindings,
        );
        let (_, filtered) = query_csv(&["query", &plain], bindings);
        let (_, all) = query_csv(&["query", &grouped], bindings);
        let sorted = |mut v: Vec<Vec<String>>| {
            v.sort();
            v
        };
        assert_eq!(
            sorted(windowed.clone()),
            sorted(filtered),
            "{table} {since}..{until}"
        );
        let total = |v: &[Vec<String>]| v.iter().map(|r| r[1].parse::<u64>().unwrap()).sum::<u64>();
        assert!(
            total(&windowed) > 0,
            "{table} {since}..{until}: the window is empty"
        );
        assert!(
            total(&windowed) < total(&all),
            "{table} {since}..{until}: the window cut nothing"
        );

        // --stats: one line per file; the rows add up to what the readers built.
        let mut args = vec![
            "query", &grouped, "--since", since, "--until", until, "--stats",
        ];
        for b in bindings {
            args.extend(["--table", b]);
        }
        let out = quarry(&args);
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        let per_file: u64 = err
            .lines()
            .filter(|l| l.starts_with(&format!("stats: {table}\t")))
            .map(|l| l.split('\t').nth(2).unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(per_file, total(&windowed), "{err}");
        assert!(
            err.lines().any(|l| l.starts_with("stats: total\t")),
            "{err}"
        );
    }

    let out = quarry(&[
        "query",
        "DeviceLogonEvents | count",
        "--table",
        &csv,
        "--since",
        "2024-03-02",
        "--until",
        "2024-03-01",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not before --until"));
    let out = quarry(&[
        "query",
        "DeviceLogonEvents | count",
        "--table",
        &csv,
        "--since",
        "yesterday",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since yesterday: not a datetime"));
}

#[test]
fn externaldata_reads_only_local_files_under_allowed_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let allowed = dir.path().join("lists");
    std::fs::create_dir(&allowed).expect("mkdir");
    let list = allowed.join("service-accounts.csv");
    std::fs::write(
        &list,
        "Account,Owner\nsvc_backup,ops\n\"adm_x\",\"vendor, tool\"\n",
    )
    .expect("write");
    let query = format!(
        "let known = externaldata(Account: string, Owner: string) [@\"{}\"] with (format=\"csv\", ignoreFirstRecord=true);\n\
         datatable(AccountName: string) [\"svc_backup\", \"svc_new\"] | where AccountName !in (known)",
        list.display()
    );
    let allow = allowed.display().to_string();
    let out = quarry(&[
        "query",
        "--no-lint",
        &query,
        "--allow-externaldata",
        &allow,
        "--format",
        "csv",
    ]);
    assert_eq!(ok_stdout(&out), "AccountName\nsvc_new\n");

    // Not allowed: no flag, a file outside the allowed directory, a URL. Each names the span.
    let out = quarry(&["query", "--no-lint", &query]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("error[KQL1100]") && err.contains("--allow-externaldata"),
        "{err}"
    );
    // ... and only that: the `let` it failed is not reported again as an unknown table.
    assert_eq!(err.matches("error[").count(), 1, "{err}");
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    let out = quarry(&[
        "query",
        "--no-lint",
        &query,
        "--allow-externaldata",
        &other.display().to_string(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not under a directory allowed"));
    let out = quarry(&[
        "query",
        "--no-lint",
        "externaldata(x: string) [h@\"https://example.com/iocs.csv\"]",
        "--allow-externaldata",
        &allow,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("from a URL is not supported"), "{err}");

    // A value that does not convert is an error with file:line.
    let out = quarry(&[
        "query",
        "--no-lint",
        &format!(
            "externaldata(Account: string, Count: long) [@\"{}\"]",
            list.display()
        ),
        "--allow-externaldata",
        &allow,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("service-accounts.csv:1: column `Count`"),
        "{err}"
    );
}

/// Every rule of a hunt scans the bound files again; a bad row is still counted once.
#[test]
fn hunt_counts_each_skipped_row_once_however_many_rules_read_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample =
        std::fs::read_to_string(repo().join("examples/DeviceLogonEvents.csv")).expect("sample");
    let mut lines: Vec<&str> = sample.lines().take(30).collect();
    lines.insert(5, "broken,row");
    lines.insert(9, "another,broken,row");
    let path = dir.path().join("dirty.csv");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let binding = format!("DeviceLogonEvents={}", path.display());
    let out = quarry(&[
        "hunt",
        "--table",
        &binding,
        "--skip-bad-rows",
        "--since",
        "2000-01-01",
        "--until",
        "2100-01-01",
        "--format",
        "csv",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("4 rule(s) run"), "{err}");
    assert!(
        err.contains("skipped 2 wrong number of fields row(s)")
            && err.contains("skipped 2 bad row(s) in total"),
        "{err}"
    );
}

/// A known table bound under a mistyped name: the note and the error point at the binding.
#[test]
fn mistyped_table_bindings_are_pointed_out() {
    let out = quarry(&[
        "query",
        "--no-lint",
        "DeviceLogonEvents | count",
        "--table",
        "DeviceLogonEvent=examples/DeviceLogonEvents.csv",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("note: --table DeviceLogonEvent: not a known table"),
        "{err}"
    );
    assert!(err.contains("use --table DeviceLogonEvents=PATH"), "{err}");
    let out = quarry(&["schema", "DeviceLogonEvent"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean DeviceLogonEvents?"), "{err}");
}

/// `ago()` over old evidence: an empty answer comes with a note that says why and what to do.
#[test]
fn query_notes_when_ago_counts_back_from_a_clock_past_the_evidence() {
    let binding = format!("SecurityEvent={}", data("hayabusa-sample-evtx"));
    let q = "SecurityEvent | where TimeGenerated > ago(7d) | count";
    let out = quarry(&[
        "query",
        "--no-lint",
        q,
        "--table",
        &binding,
        "--format",
        "csv",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(ok_stdout(&out), "Count\n0\n");
    assert!(
        err.contains("note: the query uses ago()/now()")
            && err.contains("add --now 2023-09-26T00:00:00Z"),
        "{err}"
    );
    let out = quarry(&[
        "query",
        "--no-lint",
        q,
        "--table",
        &binding,
        "--format",
        "csv",
        "--now",
        "2023-09-26",
    ]);
    assert_eq!(ok_stdout(&out), "Count\n16\n");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("note:"));
}
