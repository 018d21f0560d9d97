//! Integration tests of quarry-sources (one binary: DataFusion link time matters).

use datafusion::arrow::array::{Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::TableReference;
use datafusion::physical_plan::{ExecutionPlanProperties, collect};
use datafusion::prelude::SessionContext;
use quarry_sources::datafusion;
use quarry_sources::schemas::known_schema;
use quarry_sources::{BadRowKind, BoundTable, ReadOptions, SkipReport, SourceError, bind_table};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use tempfile::TempDir;

const T: &str = "DeviceLogonEvents";

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

fn fixture_csv() -> String {
    shared("data/synthetic/small_logons.csv")
        .display()
        .to_string()
}

fn python() -> PathBuf {
    let p = std::env::var_os("QUARRY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root/.cache/quarry-venv/bin/python"));
    assert!(
        p.exists(),
        "python with numpy/pyarrow/duckdb not found at {} (set QUARRY_PYTHON or create the venv)",
        p.display()
    );
    p
}

/// Runs the generator with the fixture's argv, another --out, and extra options.
fn generate(dir: &Path, out: &str, extra: &[&str]) -> PathBuf {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(shared("data/synthetic/small_logons.csv.manifest.json"))
            .expect("manifest"),
    )
    .expect("manifest json");
    let mut args: Vec<String> = manifest["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .map(|v| v.as_str().expect("arg").to_string())
        .collect();
    let i = args.iter().position(|a| a == "--out").expect("--out");
    let path = dir.join(out);
    args[i + 1] = path.display().to_string();
    args.extend(extra.iter().map(|s| s.to_string()));
    let st = Command::new(python())
        .arg(shared("tools/gen_logons.py"))
        .args(&args)
        .status()
        .expect("run generator");
    assert!(st.success(), "generator failed: {args:?}");
    path
}

struct Generated {
    _dir: TempDir,
    jsonl: PathBuf,
    jsonl_obj: PathBuf,
    envelope: PathBuf,
    parquet: PathBuf,
    dirty_csv: PathBuf,
    dirty_jsonl: PathBuf,
    dirty_envelope: PathBuf,
    dirty_parquet: PathBuf,
    big_csv: PathBuf,
}

fn generated() -> &'static Generated {
    static G: OnceLock<Generated> = OnceLock::new();
    G.get_or_init(|| {
        let dir = TempDir::new().expect("tempdir");
        let d = dir.path();
        Generated {
            jsonl: generate(d, "s.jsonl", &[]),
            jsonl_obj: generate(d, "s_obj.jsonl", &["--dynamic-as", "object"]),
            envelope: generate(d, "s.stream.jsonl", &["-f", "envelope"]),
            parquet: generate(d, "s.parquet", &[]),
            dirty_csv: generate(d, "dirty.csv", &["--dirty", "0.02", "--rows", "5000"]),
            dirty_jsonl: generate(d, "dirty.jsonl", &["--dirty", "0.02", "--rows", "5000"]),
            dirty_envelope: generate(
                d,
                "dirty.stream.jsonl",
                &["--dirty", "0.02", "--rows", "5000", "-f", "envelope"],
            ),
            dirty_parquet: generate(d, "dirty.parquet", &["--dirty", "0.02", "--rows", "5000"]),
            big_csv: generate(d, "big.csv", &["--rows", "30000", "--seed", "3"]),
            _dir: dir,
        }
    })
}

fn manifest_of(p: &Path) -> Value {
    let m = PathBuf::from(format!("{}.manifest.json", p.display()));
    serde_json::from_str(&std::fs::read_to_string(m).expect("manifest")).expect("json")
}

fn bind(
    table: &str,
    paths: &[&Path],
    skip: bool,
) -> (Result<BoundTable, SourceError>, Arc<SkipReport>) {
    let report = SkipReport::new();
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let r = bind_table(
        table,
        &paths,
        &ReadOptions {
            skip_bad_rows: skip,
            ..ReadOptions::default()
        },
        report.clone(),
    );
    (r, report)
}

async fn read_all(table: &str, b: &BoundTable) -> datafusion::error::Result<Vec<RecordBatch>> {
    let ctx = SessionContext::new();
    ctx.register_table(TableReference::bare(table), b.provider.clone())?;
    ctx.table(TableReference::bare(table))
        .await?
        .collect()
        .await
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

/// Cell text of the named columns, one Vec per row.
fn cells(batches: &[RecordBatch], cols: &[&str]) -> Vec<Vec<String>> {
    let opts = FormatOptions::default().with_null("<null>");
    let mut out = Vec::new();
    for b in batches {
        let fmts: Vec<_> = cols
            .iter()
            .map(|c| {
                let a = b.column_by_name(c).unwrap_or_else(|| panic!("column {c}"));
                ArrayFormatter::try_new(a.as_ref(), &opts).expect("formatter")
            })
            .collect();
        for r in 0..b.num_rows() {
            out.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    out
}

fn sorted(mut v: Vec<Vec<String>>) -> Vec<Vec<String>> {
    v.sort();
    v
}

fn known_names() -> Vec<String> {
    known_schema(T)
        .expect("known")
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn no_string_nulls(batches: &[RecordBatch]) {
    for b in batches {
        for (f, c) in b.schema().fields().iter().zip(b.columns()) {
            if f.data_type() == &DataType::Utf8 && f.metadata().get("kql.type").is_none() {
                assert_eq!(c.null_count(), 0, "string column {} has nulls", f.name());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_fixture_has_documented_types() {
    let (b, _) = bind(T, &[Path::new(&fixture_csv())], false);
    let b = b.expect("bind");
    assert!(b.notes.is_empty(), "{:?}", b.notes);
    let known = known_schema(T).expect("known");
    assert_eq!(b.schema.fields().len(), 49);
    for (f, k) in b.schema.fields().iter().zip(known.fields()) {
        assert_eq!(f, k);
    }
    assert_eq!(
        b.schema.field(0).data_type(),
        &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
    );
    let batches = read_all(T, &b).await.expect("read");
    assert_eq!(rows(&batches), 200);
    no_string_nulls(&batches);
    // First row: `"",,14981499199`: FailureReason "" (string), IsLocalAdmin null (bool).
    let first = cells(
        &batches[..1],
        &[
            "Timestamp",
            "FailureReason",
            "IsLocalAdmin",
            "LogonId",
            "AdditionalFields",
        ],
    );
    assert_eq!(
        first[0],
        [
            "2024-03-01T00:10:49.284239Z",
            "",
            "<null>",
            "14981499199",
            r#"{"IsLocalLogon":false}"#
        ]
    );
    // The documented columns missing from the file are null (typed) or "" (strings).
    let extra = cells(
        &batches,
        &[
            "InitiatingProcessSessionId",
            "InitiatingProcessRemoteSessionIP",
        ],
    );
    assert!(extra.iter().all(|r| r[0] == "<null>" && r[1].is_empty()));
    // Nulls of the generator's --null-rate: empty DeviceName strings and null IsLocalAdmin.
    let dn = cells(&batches, &["DeviceName", "IsLocalAdmin"]);
    assert!(dn.iter().any(|r| r[0].is_empty()));
    assert!(dn.iter().any(|r| r[1] == "<null>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_formats_give_the_same_rows() {
    let g = generated();
    let names = known_names();
    let cols: Vec<&str> = names.iter().map(String::as_str).collect();
    let read = |p: PathBuf| async move {
        let (b, _) = bind(T, &[&p], false);
        let b = b.unwrap_or_else(|e| panic!("{e}"));
        let batches = read_all(T, &b).await.unwrap_or_else(|e| panic!("{e}"));
        no_string_nulls(&batches);
        (b, batches)
    };
    let (_, csv) = read(PathBuf::from(fixture_csv())).await;
    let reference = sorted(cells(&csv, &cols));
    assert_eq!(reference.len(), 200);

    let (pb, parquet) = read(g.parquet.clone()).await;
    assert_eq!(pb.schema.fields().len(), 49);
    assert_eq!(sorted(cells(&parquet, &cols)), reference, "parquet");

    let (_, jsonl_obj) = read(g.jsonl_obj.clone()).await;
    assert_eq!(
        sorted(cells(&jsonl_obj, &cols)),
        reference,
        "jsonl --dynamic-as object"
    );

    // AdditionalFields is a JSON *string* in API-style JSON: a string in a dynamic column stays
    // a string, so the cell is the JSON string literal holding CSV's JSON text (Kusto keeps a
    // string in a dynamic column as a string; use parse_json to get the object).
    let af = names
        .iter()
        .position(|n| n == "AdditionalFields")
        .expect("af");
    let as_string_literal: Vec<Vec<String>> = sorted(
        reference
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if r[af] != "<null>" {
                    r[af] = Value::String(r[af].clone()).to_string();
                }
                r
            })
            .collect(),
    );
    let (_, jsonl) = read(g.jsonl.clone()).await;
    assert_eq!(sorted(cells(&jsonl, &cols)), as_string_literal, "jsonl");

    let (eb, env) = read(g.envelope.clone()).await;
    assert_eq!(sorted(cells(&env, &cols)), as_string_literal, "envelope");
    // The envelope's MachineGroup is kept as an extra column after the documented ones.
    assert_eq!(eb.schema.field(49).name(), "MachineGroup");
    assert!(
        cells(&env, &["MachineGroup"])
            .iter()
            .all(|r| r[0] == "UnassignedGroup")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dirty_files_fail_or_skip() {
    let g = generated();
    for p in [&g.dirty_csv, &g.dirty_jsonl, &g.dirty_envelope] {
        let m = manifest_of(p);
        let inj = &m["injected"];
        let n = |k: &str| inj[k].as_u64().expect("count");
        let expected_skips =
            n("wrong_column_count_lines") + n("invalid_json_lines") + n("bad_timestamp_rows");
        assert!(expected_skips > 0);

        let (b, _) = bind(T, &[p], false);
        let err = read_all(T, &b.expect("bind"))
            .await
            .expect_err("dirty file must fail");
        let msg = err.to_string();
        let name = p.display().to_string();
        assert!(msg.contains(&format!("{name}:")), "{msg}");
        let after = &msg[msg.find(&name).expect("name") + name.len() + 1..];
        assert!(
            after.chars().next().is_some_and(|c| c.is_ascii_digit()),
            "no line in {msg}"
        );

        let (b, report) = bind(T, &[p], true);
        let batches = read_all(T, &b.expect("bind")).await.expect("skip");
        assert_eq!(report.total(), expected_skips, "{:?}", report.summary());
        assert_eq!(
            rows(&batches) as u64,
            m["data_rows_written"].as_u64().expect("rows") - n("bad_timestamp_rows")
        );
        let kinds: Vec<BadRowKind> = report.summary().iter().map(|s| s.kind).collect();
        assert!(kinds.contains(&BadRowKind::BadTimestamp));
        for s in report.summary() {
            assert_eq!(&s.file, p);
            assert!(s.first_line > 1);
        }
    }
    // Parquet stores a bad timestamp as null: nothing to skip.
    let m = manifest_of(&g.dirty_parquet);
    let (b, report) = bind(T, &[&g.dirty_parquet], false);
    let batches = read_all(T, &b.expect("bind")).await.expect("parquet");
    assert_eq!(
        rows(&batches) as u64,
        m["data_rows_written"].as_u64().expect("rows")
    );
    assert_eq!(report.total(), 0);
    let nulls: usize = batches.iter().map(|b| b.column(0).null_count()).sum();
    assert_eq!(
        nulls as u64,
        m["injected"]["bad_timestamp_rows"].as_u64().expect("n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_csv_quoting_and_broken_json_documents() {
    let dir = TempDir::new().expect("tmp");
    // Line 3 opens a quote that closes two lines later, with the wrong field count. (An unbalanced
    // quote that happens to give the right field count cannot be told from a valid multi-line
    // field; a typed column then usually fails to convert and the row is reported.)
    let p = write(
        dir.path(),
        "q.csv",
        "Timestamp,AccountName,RemotePort\n2024-03-01T00:00:00Z,a,1\n2024-03-01T00:00:01Z,\"b,2\n2024-03-01T00:00:02Z,c,3\n2024-03-01T00:00:03Z,d\",4,x\n2024-03-01T00:00:04Z,e,5\n",
    );
    let (b, _) = bind(T, &[&p], false);
    let err = read_all(T, &b.expect("bind"))
        .await
        .expect_err("broken")
        .to_string();
    assert!(
        err.contains(&format!("{}:3: broken quoting", p.display()))
            && err.contains("an unbalanced quote joined the following line(s)"),
        "{err}"
    );
    let (b, report) = bind(T, &[&p], true);
    let batches = read_all(T, &b.expect("bind")).await.expect("skip");
    assert_eq!(cells(&batches, &["AccountName"]), [["a"], ["e"]]);
    assert_eq!(report.summary()[0].kind, BadRowKind::BrokenQuoting);
    assert_eq!(report.total(), 1);

    // A syntax error inside a JSON document: the rows before it are read, the rest cannot be.
    let p = write(
        dir.path(),
        "broken.json",
        "[\n{\"Timestamp\": \"2024-03-01T00:00:00Z\", \"AccountName\": \"a\"},\n{\"Timestamp\": \"2024-03-01T00:00:01Z\", \"AccountName\": \"b\",,},\n{\"Timestamp\": \"2024-03-01T00:00:02Z\", \"AccountName\": \"c\"}\n]\n",
    );
    let (b, _) = bind(T, &[&p], false);
    let err = read_all(T, &b.expect("bind"))
        .await
        .expect_err("broken")
        .to_string();
    assert!(
        err.contains(&format!("{}:3: invalid JSON", p.display())),
        "{err}"
    );
    let (b, report) = bind(T, &[&p], true);
    let batches = read_all(T, &b.expect("bind")).await.expect("skip");
    assert_eq!(cells(&batches, &["AccountName"]), [["a"]]);
    assert_eq!(report.total(), 1);
    assert!(report.notes()[0].contains("rest of this JSON document was not read"));

    // A streaming file mixing tables: the other table's records are ignored with a note.
    let p = write(
        dir.path(),
        "mixed.jsonl",
        "{\"category\":\"AdvancedHunting-DeviceLogonEvents\",\"properties\":{\"Timestamp\":\"2024-03-01T00:00:00Z\",\"AccountName\":\"a\"}}\n{\"category\":\"AdvancedHunting-DeviceEvents\",\"properties\":{\"Timestamp\":\"2024-03-01T00:00:00Z\"}}\n",
    );
    let (b, report) = bind(T, &[&p], false);
    let batches = read_all(T, &b.expect("bind")).await.expect("read");
    assert_eq!(rows(&batches), 1);
    assert!(
        report.notes()[0].contains("1 streaming record(s) of table DeviceEvents"),
        "{:?}",
        report.notes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_streaming_envelope_record() {
    let p = shared("data/elastic-integrations-m365d/streaming_api_DeviceLogonEvents_record.jsonl");
    let (b, _) = bind(T, &[&p], false);
    let b = b.expect("bind");
    let batches = read_all(T, &b).await.expect("read");
    assert_eq!(rows(&batches), 1);
    no_string_nulls(&batches);
    let r = &cells(
        &batches,
        &[
            "Timestamp",
            "AccountName",
            "AccountDomain",
            "LogonId",
            "RemotePort",
            "ReportId",
            "AdditionalFields",
            "MachineGroup",
            "IsLocalAdmin",
        ],
    )[0];
    assert_eq!(
        r,
        &[
            "2022-11-09T17:47:28.816768500Z",
            "administrator",
            "",
            "<null>",
            "0",
            "3551",
            r#""{\"IsLocalLogon\":true}""#,
            "UnassignedGroup",
            "<null>"
        ]
    );
    // The same record under another table's name is not rows of that table.
    let (other, _) = bind("DeviceEvents", &[&p], false);
    assert!(other.is_err());
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, text).expect("write");
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advanced_hunting_api_response_and_json_array() {
    let dir = TempDir::new().expect("tmp");
    let api = write(
        dir.path(),
        "ah.json",
        r#"{
  "Schema": [
    {"Name": "Timestamp", "Type": "DateTime"},
    {"Name": "DeviceName", "Type": "String"},
    {"Name": "AccountName", "Type": "String"},
    {"Name": "LogonId", "Type": "Int64"},
    {"Name": "Score", "Type": "Double"}
  ],
  "Results": [
    {"Timestamp": "2024-03-01T10:00:13.1157570Z", "DeviceName": "pc1", "AccountName": "alice", "LogonId": 7, "Score": 1.5},
    {"Timestamp": "2024-03-01T11:00:00Z", "DeviceName": null, "AccountName": "bob", "LogonId": null, "Score": 2}
  ]
}"#,
    );
    let (b, _) = bind(T, &[&api], false);
    let b = b.expect("bind");
    assert_eq!(b.schema.field(48).name(), "TimeGenerated");
    assert_eq!(b.schema.field(49).name(), "Score");
    assert_eq!(b.schema.field(49).data_type(), &DataType::Float64);
    let batches = read_all(T, &b).await.expect("read");
    assert_eq!(
        cells(
            &batches,
            &["Timestamp", "DeviceName", "AccountName", "LogonId", "Score"]
        ),
        [
            ["2024-03-01T10:00:13.115757Z", "pc1", "alice", "7", "1.5"],
            ["2024-03-01T11:00:00Z", "", "bob", "<null>", "2.0"]
        ]
    );
    // Sentinel's TimeGenerated, absent from the Advanced Hunting export, is its Timestamp.
    assert_eq!(
        cells(&batches, &["TimeGenerated"]),
        [["2024-03-01T10:00:13.115757Z"], ["2024-03-01T11:00:00Z"]]
    );
    // Lower-case keys, on one line, for an unknown table: the declared types are used.
    let lower = write(
        dir.path(),
        "lower.json",
        r#"{"schema":[{"Name":"When","Type":"DateTime"},{"Name":"N","Type":"Int32"},{"Name":"D","Type":"Object"}],"results":[{"When":"2024-01-01 00:00:00","N":3,"D":{"a":[1,2]}}]}"#,
    );
    let (b, _) = bind("Custom", &[&lower], false);
    let b = b.expect("bind");
    let types: Vec<_> = b
        .schema
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert_eq!(
        types,
        [
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            DataType::Int32,
            DataType::Utf8
        ]
    );
    assert_eq!(
        b.schema
            .field(2)
            .metadata()
            .get("kql.type")
            .map(String::as_str),
        Some("dynamic")
    );
    let batches = read_all("Custom", &b).await.expect("read");
    assert_eq!(
        cells(&batches, &["When", "N", "D"]),
        [["2024-01-01T00:00:00Z", "3", r#"{"a":[1,2]}"#]]
    );

    // A JSON array of rows; a string column given an object stores its compact JSON.
    let arr = write(
        dir.path(),
        "rows.json",
        "[\n  {\"Timestamp\": \"2024-03-01T10:00:00+00:00\", \"AccountName\": {\"x\": 1}, \"IsLocalAdmin\": true, \"RemotePort\": 445},\n  {\"Timestamp\": \"2024-03-01T10:00:01\", \"AccountName\": \"b\", \"IsLocalAdmin\": false, \"RemotePort\": null}\n]\n",
    );
    let (b, _) = bind(T, &[&arr], false);
    let batches = read_all(T, &b.expect("bind")).await.expect("read");
    assert_eq!(
        cells(
            &batches,
            &[
                "Timestamp",
                "AccountName",
                "IsLocalAdmin",
                "RemotePort",
                "DeviceId"
            ]
        ),
        [
            ["2024-03-01T10:00:00Z", r#"{"x":1}"#, "true", "445", ""],
            ["2024-03-01T10:00:01Z", "b", "false", "<null>", ""]
        ]
    );
    // A bad value inside a JSON array is reported at the line of its row.
    let bad = write(
        dir.path(),
        "bad.json",
        "[\n{\"Timestamp\": \"2024-03-01T10:00:00Z\", \"AccountName\": \"a\"},\n{\"Timestamp\": \"2024-02-30T10:00:00Z\", \"AccountName\": \"b\"}\n]",
    );
    let (b, _) = bind(T, &[&bad], false);
    let err = read_all(T, &b.expect("bind"))
        .await
        .expect_err("bad ts")
        .to_string();
    assert!(err.contains(&format!("{}:3:", bad.display())), "{err}");
    let (b, report) = bind(T, &[&bad], true);
    assert_eq!(
        rows(&read_all(T, &b.expect("bind")).await.expect("skip")),
        1
    );
    assert_eq!(report.summary()[0].kind, BadRowKind::BadTimestamp);
    assert_eq!(report.summary()[0].first_line, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tables_infer_types() {
    let dir = TempDir::new().expect("tmp");
    let csv = write(
        dir.path(),
        "t.csv",
        "n,x,flag,when,s,empty\n1,1.5,true,2024-01-01T00:00:00Z,a,\n2,,false,2024-01-02 03:04:05.123,7,\n,3,TRUE,2024-01-03,x y,\n",
    );
    let (b, _) = bind("Things", &[&csv], false);
    let b = b.expect("bind");
    let types: Vec<_> = b
        .schema
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert_eq!(
        types,
        [
            DataType::Int64,
            DataType::Float64,
            DataType::Boolean,
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            DataType::Utf8,
            DataType::Utf8
        ]
    );
    let batches = read_all("Things", &b).await.expect("read");
    assert_eq!(
        cells(&batches, &["n", "x", "when", "empty"])[2],
        ["<null>", "3.0", "2024-01-03T00:00:00Z", ""]
    );
    // JSON Lines: numbers, nested values (dynamic), strings; union over two files.
    let j1 = write(
        dir.path(),
        "a.jsonl",
        "{\"id\":1,\"tags\":[\"a\"],\"name\":\"x\"}\n{\"id\":2,\"tags\":null,\"name\":\"y\"}\n",
    );
    let j2 = write(dir.path(), "b.jsonl", "{\"id\":2.5,\"extra\":true}\n");
    let (b, _) = bind("Things", &[&j1, &j2], false);
    let b = b.expect("bind");
    let f: Vec<_> = b
        .schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    assert_eq!(
        f,
        [
            ("id".to_string(), DataType::Float64),
            ("tags".to_string(), DataType::Utf8),
            ("name".to_string(), DataType::Utf8),
            ("extra".to_string(), DataType::Boolean)
        ]
    );
    let batches = read_all("Things", &b).await.expect("read");
    assert_eq!(
        sorted(cells(&batches, &["id", "tags", "name", "extra"])),
        [
            ["1.0", r#"["a"]"#, "x", "<null>"],
            ["2.0", "<null>", "y", "<null>"],
            ["2.5", "<null>", "", "true"]
        ]
    );
    // Parquet: its own schema mapped to KQL types.
    let (b, _) = bind("AnyName", &[&generated().parquet], false);
    let b = b.expect("bind");
    assert_eq!(b.schema.fields().len(), 44);
    assert_eq!(
        b.schema.field(0).data_type(),
        &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
    );
    assert_eq!(rows(&read_all("AnyName", &b).await.expect("read")), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_binding_notes_skipped_files() {
    let g = generated();
    let dir = TempDir::new().expect("tmp");
    std::fs::copy(fixture_csv(), dir.path().join("a.csv")).expect("copy");
    std::fs::create_dir_all(dir.path().join("sub/deeper")).expect("mkdir");
    std::fs::copy(&g.parquet, dir.path().join("sub/deeper/b.parquet")).expect("copy");
    write(
        dir.path(),
        "notes.txt",
        "just some notes, nothing else\nsecond line\n",
    );
    write(
        dir.path(),
        "sub/other.csv",
        "EventID,Computer,Account\n4624,pc,bob\n",
    );
    write(
        dir.path(),
        "sub/manifest.json",
        "{\"generator\": \"x\", \"rows\": 3}",
    );
    write(
        dir.path(),
        "sub/events.jsonl",
        "{\"category\":\"AdvancedHunting-DeviceEvents\",\"properties\":{\"Timestamp\":\"2024-01-01T00:00:00Z\"}}\n",
    );
    write(dir.path(), "empty.csv", "");
    let (b, _) = bind(T, &[dir.path()], false);
    let b = b.expect("bind");
    assert_eq!(b.files.len(), 2, "{:?}", b.files);
    for skipped in ["notes.txt", "other.csv", "manifest.json", "events.jsonl"] {
        assert!(
            b.notes.iter().any(|n| n.contains(skipped)
                && n.contains("not recognised as rows of DeviceLogonEvents")),
            "{skipped}: {:?}",
            b.notes
        );
    }
    assert!(
        b.notes
            .iter()
            .any(|n| n.contains("empty.csv") && n.contains("empty"))
    );
    assert_eq!(rows(&read_all(T, &b).await.expect("read")), 400);
    // A glob works the same way.
    let pattern = format!("{}/**/*.parquet", dir.path().display());
    let report = SkipReport::new();
    let b = bind_table(T, &[pattern], &ReadOptions::default(), report).expect("glob");
    assert_eq!(b.files.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_paths_and_empty_inputs() {
    let dir = TempDir::new().expect("tmp");
    let missing = dir.path().join("nope.csv");
    let (e, _) = bind(T, &[&missing], false);
    let e = e.expect_err("missing");
    assert_eq!(e.file.as_deref(), Some(missing.as_path()));
    assert!(e.to_string().contains("no such file"), "{e}");

    let report = SkipReport::new();
    let pat = format!("{}/*.parquet", dir.path().display());
    let e = bind_table(T, &[pat], &ReadOptions::default(), report).expect_err("glob");
    assert!(e.to_string().contains("matches no files"), "{e}");

    let empty_dir = dir.path().join("emptydir");
    std::fs::create_dir(&empty_dir).expect("mkdir");
    let (e, _) = bind(T, &[&empty_dir], false);
    assert!(e.expect_err("empty dir").to_string().contains("no files"));

    let junk = write(dir.path(), "junkdir/readme.md", "# hello\n\nnothing here\n");
    let (e, _) = bind(T, &[junk.parent().expect("dir")], false);
    let e = e.expect_err("no matching files").to_string();
    assert!(
        e.contains("no files recognised as rows of DeviceLogonEvents"),
        "{e}"
    );
    assert!(e.contains("readme.md"), "{e}");
    // More skipped files than the message lists: it says how many more.
    for i in 0..6 {
        write(dir.path(), &format!("junkdir/note{i}.md"), "nothing\n");
    }
    let (e, _) = bind(T, &[junk.parent().expect("dir")], false);
    let e = e.expect_err("no matching files").to_string();
    assert!(e.contains("... and 2 more"), "{e}");

    // An explicit file that is not rows of the table is an error.
    let other = write(dir.path(), "other.csv", "EventID,Computer\n1,x\n");
    let (e, _) = bind(T, &[&other], false);
    assert!(e.expect_err("other").to_string().contains("not recognised"));

    // Decision: an empty file gives a note and zero rows (known table), an error otherwise.
    let empty = write(dir.path(), "empty.csv", "");
    let (b, _) = bind(T, &[&empty], false);
    let b = b.expect("empty file");
    assert!(b.notes[0].contains("empty file"));
    assert_eq!(rows(&read_all(T, &b).await.expect("read")), 0);
    let (e, _) = bind("Unknown", &[&empty], false);
    assert!(e.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tricky_csv_values_are_kept() {
    let dir = TempDir::new().expect("tmp");
    let p = write(
        dir.path(),
        "tricky.csv",
        "Timestamp,AccountName,InitiatingProcessCommandLine,RemotePort\r\n\
         2024-03-01T10:00:13Z,\"a,b\",\"say \"\"hi\"\"\",1\r\n\
         2024-03-01 10:00:13.115,\"line1\nline2\",\"crlf\r\ninside\",2\r\n\
         2024-03-01T10:00:13.115757+00:00,\"tab\there\",\"ünïcødé ✓ 日本\",\r\n\
         2024-03-01T10:00:13.1157570,\"\",,3\r\n",
    );
    let (b, _) = bind(T, &[&p], false);
    let batches = read_all(T, &b.expect("bind")).await.expect("read");
    let ts = datafusion::arrow::compute::cast(
        batches[0].column_by_name("AccountName").expect("col"),
        &DataType::Utf8,
    )
    .expect("cast");
    let names = ts.as_any().downcast_ref::<StringArray>().expect("strings");
    assert_eq!(names.value(1), "line1\nline2");
    assert_eq!(
        cells(
            &batches,
            &[
                "Timestamp",
                "AccountName",
                "InitiatingProcessCommandLine",
                "RemotePort"
            ]
        ),
        [
            ["2024-03-01T10:00:13Z", "a,b", "say \"hi\"", "1"],
            [
                "2024-03-01T10:00:13.115Z",
                "line1\nline2",
                "crlf\r\ninside",
                "2"
            ],
            [
                "2024-03-01T10:00:13.115757Z",
                "tab\there",
                "ünïcødé ✓ 日本",
                "<null>"
            ],
            ["2024-03-01T10:00:13.115757Z", "", "", "3"]
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projection_builds_only_asked_columns() {
    let (b, _) = bind(T, &[Path::new(&fixture_csv())], false);
    let b = b.expect("bind");
    let ctx = SessionContext::new();
    let ft = b.provider.clone();
    let plan = ft
        .scan(&ctx.state(), Some(&vec![6, 0]), &[], None)
        .await
        .expect("scan");
    let batches = collect(plan.clone(), ctx.task_ctx())
        .await
        .expect("collect");
    assert_eq!(rows(&batches), 200);
    for bt in &batches {
        let names: Vec<_> = bt
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["AccountName", "Timestamp"]);
        assert_eq!(bt.num_columns(), 2);
    }
    assert_eq!(plan.schema().fields().len(), 2);
    // No columns (count): rows are still counted.
    let plan = ft
        .scan(&ctx.state(), Some(&vec![]), &[], None)
        .await
        .expect("scan");
    let batches = collect(plan, ctx.task_ctx()).await.expect("collect");
    assert_eq!(rows(&batches), 200);
    // Through a query, only the projected columns reach the scan.
    ctx.register_table(TableReference::bare(T), b.provider.clone())
        .expect("register");
    let df = ctx
        .table(TableReference::bare(T))
        .await
        .expect("table")
        .select_columns(&["DeviceName"])
        .expect("select");
    let plan = df.create_physical_plan().await.expect("plan");
    let shown = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string();
    assert!(shown.contains("columns=[DeviceName]"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_stop_does_not_hang_and_batches_are_bounded() {
    let g = generated();
    let (b, _) = bind(T, &[&g.big_csv], false);
    let b = b.expect("bind");
    let ctx = SessionContext::new();
    ctx.register_table(TableReference::bare(T), b.provider.clone())
        .expect("register");
    let df = ctx.table(TableReference::bare(T)).await.expect("table");
    let limited = df
        .clone()
        .limit(0, Some(10))
        .expect("limit")
        .collect()
        .await
        .expect("take");
    assert_eq!(rows(&limited), 10);
    let all = df.collect().await.expect("all");
    assert_eq!(rows(&all), 30_000);
    assert!(
        all.iter()
            .all(|b| b.num_rows() <= quarry_sources::BATCH_SIZE)
    );
    // Parquet with several row groups is split into several partitions.
    let dir = TempDir::new().expect("tmp");
    let p = generate(
        dir.path(),
        "rg.parquet",
        &["--rows", "3000", "--block-rows", "1000"],
    );
    let (b, _) = bind(T, &[&p], false);
    let b = b.expect("bind");
    let plan = b
        .provider
        .scan(&ctx.state(), Some(&vec![0]), &[], None)
        .await
        .expect("scan");
    assert!(plan.output_partitioning().partition_count() >= 2);
    assert_eq!(
        rows(&collect(plan, ctx.task_ctx()).await.expect("collect")),
        3000
    );
}

/// Windows event logs: EVTX and JSON renderings of events as SecurityEvent, DeviceLogonEvents,
/// DeviceProcessEvents, DeviceNetworkEvents, WindowsEvent and Event.
mod windows_events {
    use super::*;
    use quarry_sources::windows::logon_type_name;
    use std::collections::BTreeMap;

    type Counts = BTreeMap<String, u64>;

    fn data_dir(name: &str) -> PathBuf {
        shared("data").join(name)
    }

    fn files_with(ext: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for d in [
            "hayabusa-sample-evtx",
            "sbousseaden-evtx-attack-samples",
            "otrf-security-datasets",
        ] {
            for e in std::fs::read_dir(data_dir(d)).expect("data dir") {
                let p = e.expect("entry").path();
                if p.extension().is_some_and(|x| x == ext) {
                    out.push(p);
                }
            }
        }
        out.sort();
        assert!(!out.is_empty(), "no .{ext} samples found");
        out
    }

    /// The JSON samples that are Windows events (not the Defender AH export).
    fn event_json_files() -> Vec<PathBuf> {
        files_with("json")
            .into_iter()
            .filter(|p| !p.to_string_lossy().contains("m365d"))
            .collect()
    }

    async fn read_table(
        table: &str,
        paths: &[&Path],
        skip: bool,
    ) -> (Vec<RecordBatch>, Arc<SkipReport>) {
        let (b, report) = bind(table, paths, skip);
        let b = b.unwrap_or_else(|e| panic!("bind {table}: {e}"));
        let batches = read_all(table, &b)
            .await
            .unwrap_or_else(|e| panic!("read {table}: {e}"));
        (batches, report)
    }

    fn count(rows: Vec<Vec<String>>) -> Counts {
        let mut c = Counts::new();
        for r in rows {
            *c.entry(r.join("/")).or_default() += 1;
        }
        c
    }

    fn logon_number(name: &str) -> String {
        (0..=20)
            .find(|n| logon_type_name(*n) == name)
            .map_or_else(|| name.to_string(), |n| n.to_string())
    }

    /// Quarry's counts for one file: records, per EventID, and per EventID/LogonType of
    /// 4624/4625 from SecurityEvent and from DeviceLogonEvents.
    async fn quarry_counts(p: &Path) -> (u64, Counts, Counts, Counts) {
        let (we, _) = read_table("WindowsEvent", &[p], false).await;
        no_string_nulls(&we);
        let ids = count(cells(&we, &["EventID"]));
        let (se, _) = read_table("SecurityEvent", &[p], false).await;
        no_string_nulls(&se);
        let se_lt = count(
            cells(&se, &["EventID", "LogonType"])
                .into_iter()
                .filter(|r| r[0] == "4624" || r[0] == "4625")
                .collect(),
        );
        let (dl, _) = read_table("DeviceLogonEvents", &[p], false).await;
        no_string_nulls(&dl);
        let dl_lt = count(
            cells(&dl, &["ActionType", "LogonType"])
                .into_iter()
                .map(|r| {
                    let id = if r[0] == "LogonFailed" {
                        "4625"
                    } else {
                        "4624"
                    };
                    vec![id.to_string(), logon_number(&r[1])]
                })
                .collect(),
        );
        (rows(&we) as u64, ids, se_lt, dl_lt)
    }

    /// python-evtx's counts for the .evtx samples (one run for all of them).
    fn python_evtx_counts() -> &'static BTreeMap<String, (u64, Counts, Counts)> {
        static C: OnceLock<BTreeMap<String, (u64, Counts, Counts)>> = OnceLock::new();
        C.get_or_init(|| {
            let dir = TempDir::new().expect("tmp");
            let script = write(
                dir.path(),
                "evtx_oracle.py",
                r#"import sys, json, collections
import xml.etree.ElementTree as ET
from Evtx.Evtx import Evtx
NS = '{http://schemas.microsoft.com/win/2004/08/events/event}'
out = {}
for path in sys.argv[1:]:
    ids = collections.Counter(); lts = collections.Counter(); n = 0
    with Evtx(path) as log:
        for rec in log.records():
            root = ET.fromstring(rec.xml())
            eid = root.find(f'{NS}System/{NS}EventID').text.strip()
            n += 1; ids[eid] += 1
            if eid in ('4624', '4625'):
                lt = ''
                for d in root.iter(f'{NS}Data'):
                    if d.get('Name') == 'LogonType': lt = (d.text or '').strip()
                lts[f'{eid}/{lt}'] += 1
    out[path] = {'records': n, 'ids': ids, 'lt': lts}
print(json.dumps(out))
"#,
            );
            let out = Command::new(python())
                .arg(&script)
                .args(files_with("evtx"))
                .output()
                .expect("run python-evtx (pip install -r scripts/requirements-oracle.txt)");
            assert!(
                out.status.success(),
                "python-evtx oracle failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: Value = serde_json::from_slice(&out.stdout).expect("oracle json");
            let counts = |v: &Value| -> Counts {
                v.as_object()
                    .expect("object")
                    .iter()
                    .map(|(k, n)| (k.clone(), n.as_u64().expect("count")))
                    .collect()
            };
            v.as_object()
                .expect("object")
                .iter()
                .map(|(k, f)| {
                    (
                        k.clone(),
                        (
                            f["records"].as_u64().expect("records"),
                            counts(&f["ids"]),
                            counts(&f["lt"]),
                        ),
                    )
                })
                .collect()
        })
    }

    /// Counts by plain JSON parsing of each line (no Quarry code): EventID and LogonType at
    /// the top level (flattened, Sentinel) or under `event_data` (Winlogbeat 6).
    fn json_counts(p: &Path) -> (u64, Counts, Counts) {
        let text = std::fs::read_to_string(p).expect("read");
        let (mut n, mut ids, mut lts) = (0u64, Counts::new(), Counts::new());
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: Value = serde_json::from_str(line).expect("json line");
            let field = |k: &str| -> Option<String> {
                v.get(k)
                    .or_else(|| v.get("event_data").and_then(|d| d.get(k)))
                    .map(|x| match x {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
            };
            let id = field("EventID")
                .or_else(|| field("event_id"))
                .expect("event id");
            n += 1;
            *ids.entry(id.clone()).or_default() += 1;
            if id == "4624" || id == "4625" {
                *lts.entry(format!("{id}/{}", field("LogonType").unwrap_or_default()))
                    .or_default() += 1;
            }
        }
        (n, ids, lts)
    }

    /// What ../shared/data/README.md lists per file: records, Event IDs (when complete) and
    /// 4624/4625 by LogonType.
    fn readme_counts() -> BTreeMap<String, (u64, Option<Counts>, Counts)> {
        let text = std::fs::read_to_string(shared("data/README.md")).expect("README");
        let mut out = BTreeMap::new();
        let num = |s: &str| s.trim().replace(',', "").parse::<u64>().ok();
        let pairs = |s: &str, map: &dyn Fn(&str) -> String| -> Counts {
            s.split(", ")
                .filter_map(|p| p.rsplit_once(": "))
                .filter_map(|(k, v)| Some((map(k.trim()), num(v)?)))
                .collect()
        };
        for sec in text.split("\n### `").skip(1) {
            let Some((name, body)) = sec.split_once('`') else {
                continue;
            };
            let file = name.rsplit('/').next().unwrap_or(name).to_string();
            let mut records = None;
            let mut ids = None;
            let mut lts = Counts::new();
            for line in body.lines() {
                if let Some(r) = line.strip_prefix("- Records: ") {
                    records = num(r.split(' ').next().unwrap_or(""));
                } else if let Some(r) = line.strip_prefix("- Event IDs (count): ") {
                    // A list ending in "..." is only the top ten.
                    ids = (!r.trim_end().ends_with("...")).then(|| pairs(r, &|k| k.to_string()));
                } else if let Some(r) = line.strip_prefix("- 4624/4625 by LogonType: ")
                    && r.trim() != "none"
                {
                    lts = pairs(r, &|k| k.replace("/LT", "/"));
                }
            }
            if let Some(r) = records {
                out.insert(file, (r, ids, lts));
            }
        }
        out
    }

    fn check_readme(p: &Path, records: u64, ids: &Counts, lts: &Counts) {
        let readme = readme_counts();
        let name = p.file_name().expect("name").to_string_lossy().to_string();
        let (r, r_ids, r_lts) = readme
            .get(&name)
            .unwrap_or_else(|| panic!("{name} is not described in data/README.md"));
        assert_eq!(records, *r, "{name}: records vs README");
        if let Some(r_ids) = r_ids {
            assert_eq!(ids, r_ids, "{name}: EventID counts vs README");
        }
        assert_eq!(lts, r_lts, "{name}: 4624/4625 LogonType counts vs README");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn evtx_counts_equal_python_evtx_and_the_readme() {
        let oracle = python_evtx_counts();
        for p in files_with("evtx") {
            let (n, ids, se_lt, dl_lt) = quarry_counts(&p).await;
            let key = p.display().to_string();
            let (o_n, o_ids, o_lt) = oracle
                .get(&key)
                .unwrap_or_else(|| panic!("python-evtx did not read {key}"));
            assert_eq!(n, *o_n, "{key}: records");
            assert_eq!(&ids, o_ids, "{key}: per EventID");
            assert_eq!(&se_lt, o_lt, "{key}: SecurityEvent per EventID/LogonType");
            assert_eq!(
                &dl_lt, o_lt,
                "{key}: DeviceLogonEvents per ActionType/LogonType"
            );
            check_readme(&p, n, &ids, &se_lt);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn json_counts_equal_plain_parsing_and_the_readme() {
        for p in event_json_files() {
            let (n, ids, se_lt, dl_lt) = quarry_counts(&p).await;
            let (j_n, j_ids, j_lt) = json_counts(&p);
            let key = p.display().to_string();
            assert_eq!(n, j_n, "{key}: records");
            assert_eq!(ids, j_ids, "{key}: per EventID");
            assert_eq!(se_lt, j_lt, "{key}: SecurityEvent per EventID/LogonType");
            assert_eq!(
                dl_lt, j_lt,
                "{key}: DeviceLogonEvents per ActionType/LogonType"
            );
            check_readme(&p, n, &ids, &se_lt);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_directory_feeds_every_table() {
        let dirs = [
            data_dir("hayabusa-sample-evtx"),
            data_dir("sbousseaden-evtx-attack-samples"),
            data_dir("otrf-security-datasets"),
        ];
        let paths: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
        let mut totals = BTreeMap::new();
        for t in [
            "SecurityEvent",
            "DeviceLogonEvents",
            "DeviceProcessEvents",
            "DeviceNetworkEvents",
            "WindowsEvent",
            "Event",
        ] {
            let (b, _) = bind(t, &paths, false);
            let b = b.unwrap_or_else(|e| panic!("bind {t}: {e}"));
            // The AH export is not Windows events and not rows of these tables: one note.
            assert!(
                b.notes
                    .iter()
                    .any(|n| n.contains("m365d") && n.starts_with("skipped")),
                "{t}: {:?}",
                b.notes
            );
            let s = known_schema(t).expect("known");
            assert_eq!(b.schema.fields().len(), s.fields().len(), "{t}");
            let batches = read_all(t, &b).await.expect("read");
            no_string_nulls(&batches);
            totals.insert(t, rows(&batches));
        }
        // Every event is a WindowsEvent; Security events and the others split them.
        assert_eq!(
            totals["SecurityEvent"] + totals["Event"],
            totals["WindowsEvent"],
            "{totals:?}"
        );
        assert_eq!(totals["DeviceLogonEvents"], 53 + 3583 + 177, "{totals:?}");
        assert!(totals["DeviceNetworkEvents"] > 0 && totals["DeviceProcessEvents"] > 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn logon_columns_from_evtx() {
        let p = data_dir("sbousseaden-evtx-attack-samples/DE_RDP_Tunneling_4624.evtx");
        let (b, _) = read_table("DeviceLogonEvents", &[&p], false).await;
        let rdp: Vec<Vec<String>> = cells(
            &b,
            &[
                "Timestamp",
                "DeviceName",
                "ActionType",
                "LogonType",
                "AccountDomain",
                "AccountName",
                "RemoteIP",
                "RemoteIPType",
                "Protocol",
            ],
        )
        .into_iter()
        .filter(|r| r[3] == "RemoteInteractive")
        .collect();
        assert_eq!(rdp.len(), 1);
        assert_eq!(
            rdp[0][1..],
            [
                "PC02.example.corp",
                "LogonSuccess",
                "RemoteInteractive",
                "PC02",
                "IEUser",
                "127.0.0.1",
                "Loopback",
                "Negotiate"
            ]
        );
        // 4625: FailureReason from Status/SubStatus.
        let p = data_dir("hayabusa-sample-evtx/smb-password-guessing-security.evtx");
        let (b, _) = read_table("DeviceLogonEvents", &[&p], false).await;
        let reasons = count(cells(&b, &["FailureReason"]));
        assert_eq!(
            reasons,
            Counts::from([
                ("InvalidUserNameOrPassword".to_string(), 3559),
                ("AccountDisabled".to_string(), 2)
            ])
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sentinel_export_keeps_its_values_and_mixed_rows_split() {
        let p = data_dir("otrf-security-datasets/goldensaml_sentinel_SecurityEvent_export.json");
        let (se, _) = read_table("SecurityEvent", &[&p], false).await;
        let (ev, _) = read_table("Event", &[&p], false).await;
        assert_eq!(rows(&se), 36);
        assert_eq!(rows(&ev), 2);
        let first = cells(
            &se,
            &["EventID", "Account", "LogonTypeName", "Level", "TenantId"],
        )
        .into_iter()
        .find(|r| r[0] == "4624")
        .expect("a 4624");
        assert_eq!(
            first,
            [
                "4624",
                "SIMULANDLABS.COM\\wardog",
                "3 - Network",
                "8",
                "00000000-0000-0000-0000-000000000000"
            ]
        );
        let src = sorted(cells(&ev, &["EventLog", "Source", "EventLevelName"]));
        assert_eq!(
            src,
            [
                ["Application", "MSSQL$MICROSOFT##WID", "Audit Success"],
                [
                    "Microsoft-Windows-Sysmon/Operational",
                    "Microsoft-Windows-Sysmon",
                    "Information"
                ]
            ]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lower_case_security_channel_is_security() {
        let p = data_dir("otrf-security-datasets/empire_run_keys_standard_user_auth_subset.json");
        let (se, _) = read_table("SecurityEvent", &[&p], false).await;
        assert_eq!(rows(&se), 302);
        assert_eq!(
            count(cells(&se, &["Channel"])),
            Counts::from([("Security".into(), 302)])
        );
        let (ev, _) = read_table("Event", &[&p], false).await;
        assert_eq!(rows(&ev), 0);
    }

    /// A copy of a sample with `edit` applied, in a temporary directory.
    fn corrupt_copy(dir: &Path, name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
        let src = data_dir("hayabusa-sample-evtx/smb-password-guessing-security.evtx");
        let mut bytes = std::fs::read(src).expect("read sample");
        edit(&mut bytes);
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    }

    const HEADER: usize = 4096;
    const CHUNK: usize = 65536;

    async fn scan_err(table: &str, p: &Path) -> String {
        let (b, _) = bind(table, &[p], false);
        let b = b.expect("bind");
        match read_all(table, &b).await {
            Ok(r) => panic!("expected an error, read {} rows", rows(&r)),
            Err(e) => e.to_string(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn corrupt_evtx_files_fail_clearly_or_are_skipped_and_counted() {
        let dir = TempDir::new().expect("tmp");
        let d = dir.path();
        let t = "SecurityEvent";
        let truncated = corrupt_copy(d, "truncated.evtx", |b| b.truncate(HEADER + CHUNK + 1000));
        let chunk_hdr = corrupt_copy(d, "chunk_header.evtx", |b| {
            // Damage the magic of chunk 1's header.
            for x in &mut b[HEADER + CHUNK..HEADER + CHUNK + 4] {
                *x ^= 0xff;
            }
        });
        let record = corrupt_copy(d, "record.evtx", |b| {
            // Damage the header magic of the third record of chunk 0.
            let chunk = &b[HEADER..HEADER + CHUNK];
            let at: Vec<usize> = chunk
                .windows(4)
                .enumerate()
                .filter(|(i, w)| *i >= 512 && *w == b"**\0\0")
                .map(|(i, _)| i)
                .collect();
            assert!(at.len() > 3, "records in chunk 0");
            b[HEADER + at[2]] ^= 0xff;
        });
        let tiny = corrupt_copy(d, "tiny.evtx", |b| b.truncate(1000));

        // Default: the error names the file and the chunk or record.
        let e = scan_err(t, &truncated).await;
        assert!(
            e.contains("truncated.evtx") && e.contains("chunk 1") && e.contains("truncated"),
            "{e}"
        );
        let e = scan_err(t, &chunk_hdr).await;
        assert!(
            e.contains("chunk_header.evtx") && e.contains("chunk 1"),
            "{e}"
        );
        let e = scan_err(t, &record).await;
        assert!(e.contains("record.evtx") && e.contains("record"), "{e}");
        let e = scan_err(t, &tiny).await;
        assert!(e.contains("tiny.evtx") && e.contains("EVTX"), "{e}");

        // Skipping: the readable records are read, the rest counted per file.
        for (p, max_rows) in [
            (&truncated, 3561),
            (&chunk_hdr, 3560),
            (&record, 3560),
            (&tiny, 0),
        ] {
            let (b, report) = read_table(t, &[p], true).await;
            let n = rows(&b);
            assert!(n <= max_rows, "{}: {n} rows", p.display());
            if max_rows > 0 {
                assert!(n > 100, "{}: {n} rows", p.display());
            }
            let s = report.summary();
            assert_eq!(s.len(), 1, "{s:?}");
            assert_eq!(s[0].kind, BadRowKind::BadEvent);
            assert!(s[0].count >= 1);
            assert!(
                report
                    .notes()
                    .iter()
                    .any(|n| n.contains("skipped") && n.contains(&*p.display().to_string())),
                "{:?}",
                report.notes()
            );
        }
        // A file cut at a chunk boundary is caught by the header's chunk count; cut inside
        // chunk 1 or at its start, the records of chunk 0 are all read.
        let first = corrupt_copy(d, "first_chunk.evtx", |b| b.truncate(HEADER + CHUNK));
        let e = scan_err(t, &first).await;
        assert!(
            e.contains("first_chunk.evtx") && e.contains("header counts"),
            "{e}"
        );
        let (b, _) = read_table(t, &[&truncated], true).await;
        let (whole_chunk, _) = read_table(t, &[&first], true).await;
        assert_eq!(rows(&b), rows(&whole_chunk));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn empty_and_foreign_files_in_a_directory_are_noted() {
        let dir = TempDir::new().expect("tmp");
        let d = dir.path();
        std::fs::copy(
            data_dir("sbousseaden-evtx-attack-samples/DE_RDP_Tunneling_4624.evtx"),
            d.join("good.evtx"),
        )
        .expect("copy");
        write(d, "empty.evtx", "");
        write(d, "notes.evtx", "this is not an event log\n");
        write(d, "readme.txt", "hello\n");
        let (b, _) = bind("DeviceLogonEvents", &[d], false);
        let b = b.expect("bind");
        assert_eq!(b.files.len(), 1);
        let notes = b.notes.join("\n");
        assert!(notes.contains("empty.evtx: empty file"), "{notes}");
        assert!(
            notes.contains("notes.evtx") && notes.contains("not an EVTX file"),
            "{notes}"
        );
        assert!(notes.contains("readme.txt"), "{notes}");
        assert_eq!(
            rows(&read_all("DeviceLogonEvents", &b).await.expect("read")),
            18
        );
        // Named explicitly, a file that is not an event log is an error.
        let (r, _) = bind("SecurityEvent", &[&d.join("notes.evtx")], false);
        let e = r.expect_err("not evtx").to_string();
        assert!(
            e.contains("notes.evtx") && e.contains("not an EVTX file"),
            "{e}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn time_filters_prune_records_on_the_event_time() {
        use datafusion::common::{Column, ScalarValue};
        use datafusion::logical_expr::Expr;
        use datafusion::physical_plan::displayable;
        let p = data_dir("hayabusa-sample-evtx/smb-password-guessing-security.evtx");
        let (b, _) = bind("SecurityEvent", &[&p], false);
        let b = b.expect("bind");
        let ctx = SessionContext::new();
        ctx.register_table(TableReference::bare("SecurityEvent"), b.provider.clone())
            .expect("register");
        let ts = |s: &str| {
            Expr::Literal(
                ScalarValue::TimestampNanosecond(
                    Some(quarry_sources::parse_datetime(s).expect("time")),
                    Some("UTC".into()),
                ),
                None,
            )
        };
        let time = || Expr::Column(Column::new_unqualified("TimeGenerated"));
        // 16:51:00 .. 16:52:00 of the brute force.
        let filter = time()
            .gt_eq(ts("2016-09-19T16:51:00Z"))
            .and(time().lt(ts("2016-09-19T16:52:00Z")));
        let df = ctx
            .table(TableReference::bare("SecurityEvent"))
            .await
            .expect("table")
            .filter(filter)
            .expect("filter");
        let plan = df.clone().create_physical_plan().await.expect("plan");
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        assert!(shown.contains("time_range=["), "{shown}");
        let pruned = rows(&df.collect().await.expect("collect"));
        // Reference: every row read, filtered here.
        let (all, _) = read_table("SecurityEvent", &[&p], false).await;
        let (lo, hi) = (
            quarry_sources::parse_datetime("2016-09-19T16:51:00Z").expect("t"),
            quarry_sources::parse_datetime("2016-09-19T16:52:00Z").expect("t"),
        );
        let mut expected = 0;
        for batch in &all {
            let c = batch
                .column_by_name("TimeGenerated")
                .expect("col")
                .as_any()
                .downcast_ref::<datafusion::arrow::array::TimestampNanosecondArray>()
                .expect("timestamps");
            expected += c.iter().flatten().filter(|t| *t >= lo && *t < hi).count();
        }
        assert!(expected > 0 && expected < rows(&all), "{expected}");
        assert_eq!(pruned, expected);
    }
}
