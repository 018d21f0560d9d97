//! quarry-rules: rule loading (.kql metadata blocks, Sentinel YAML), the built-in pack, the
//! linter (on the seed, the corrected rule, the documented examples of every code, the real
//! hunting-query corpus) and run preparation (parameters, time window, placeholders).

use quarry_rules::lint::CODES;
use quarry_rules::rule::{RuleFormat, RuleSeverity, TriggerOp, load_rule};
use quarry_rules::window::{RunOptions, prepare};
use quarry_rules::{Rule, lint_query, lint_rule};
use quarry_syntax::diagnostic::render_all;
use quarry_syntax::{Diagnostic, Severity};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared() -> PathBuf {
    repo().join("../shared")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn load(path: &Path) -> Rule {
    let text = read(path);
    load_rule(&path.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"))
}

fn codes(d: &[Diagnostic]) -> Vec<&str> {
    d.iter().map(|d| d.code.as_str()).collect()
}

const SEED: &str = "seed/service_account_interactive_logon.kql";

#[test]
fn seed_reports_exactly_its_mistakes_with_spans() {
    let path = shared().join(SEED);
    let rule = load(&path);
    let (diags, text) = lint_rule(&rule);
    assert_eq!(codes(&diags), ["QL0001", "QL0005", "QL0002", "QL0002"]);
    let under = |d: &Diagnostic| d.span.text(text).to_string();
    assert_eq!(under(&diags[0]), "ServiceAccountPatterns");
    assert_eq!(
        under(&diags[1]),
        r#"AccountName matches regex @"^(svc_|service_|sa_).*""#
    );
    assert_eq!(diags[1].severity, Severity::Hint);
    assert_eq!(under(&diags[2]), r#"LogonType == "LogonFailed""#);
    assert_eq!(under(&diags[3]), r#"LogonType == "LogonSuccess""#);
    for d in &diags[2..] {
        // The secondary label names the `where` that makes the predicate impossible.
        assert_eq!(d.labels.len(), 1);
        assert_eq!(
            d.labels[0].span.text(text),
            r#"where LogonType in ("Interactive", "RemoteInteractive")"#
        );
    }
    insta::assert_snapshot!("seed", render_all(&diags, SEED, text));
}

#[test]
fn corrected_rule_and_builtin_pack_are_clean() {
    let loaded = quarry_rules::builtin::builtin_rules();
    assert!(loaded.len() >= 5);
    let first = loaded[0].as_ref().expect("loads");
    assert_eq!(first.id, "quarry-0001", "the corrected seed rule is first");
    let mut ids = Vec::new();
    for r in &loaded {
        let rule = r.as_ref().unwrap_or_else(|e| panic!("{e}"));
        let (diags, text) = lint_rule(rule);
        assert!(
            diags.is_empty(),
            "{}:\n{}",
            rule.origin,
            render_all(&diags, &rule.origin, text)
        );
        assert!(
            !rule.tables.is_empty() && !rule.techniques.is_empty(),
            "{}",
            rule.id
        );
        assert!(
            !rule.entities.is_empty(),
            "{}: entities for alerts",
            rule.id
        );
        assert_eq!(rule.lookback.as_deref(), Some("Lookback"), "{}", rule.id);
        ids.push(rule.id.clone());
    }
    let mut dedup = ids.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), ids.len(), "rule ids are unique: {ids:?}");
    // The files in rules/ are the built-in pack.
    let mut on_disk: Vec<String> = std::fs::read_dir(repo().join("rules"))
        .expect("rules/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".kql"))
        .collect();
    on_disk.sort();
    let mut builtin: Vec<String> = quarry_rules::builtin::BUILTIN
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    builtin.sort();
    assert_eq!(on_disk, builtin);
}

#[test]
fn corrected_rule_metadata() {
    let rule = load(&repo().join("rules/service-account-interactive-logon.kql"));
    assert_eq!(rule.severity, RuleSeverity::Medium);
    assert_eq!(rule.techniques, ["T1078"]);
    assert_eq!(rule.tables, ["DeviceLogonEvents"]);
    assert_eq!(rule.entities[0].kind, "account");
    assert_eq!(rule.entities[0].column, "AccountName");
    let names: Vec<&str> = rule.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ServiceAccountPatterns",
            "CaseSensitive",
            "InteractiveLogonTypes",
            "ExcludeMachineAccounts",
            "Lookback"
        ]
    );
    assert!(rule.metadata_diagnostics.is_empty());
}

/// The ```kql blocks of a doc page, in order.
fn kql_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in md.lines() {
        match (&mut cur, line.trim()) {
            (None, "```kql") => cur = Some(String::new()),
            (Some(b), "```") => {
                out.push(std::mem::take(b));
                cur = None;
            }
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    out
}

#[test]
fn every_code_is_documented_with_a_bad_and_a_good_example_that_behave() {
    let mut rendered = String::new();
    for c in CODES {
        let path = repo().join(format!("docs/lint/{}.md", c.code));
        let md = read(&path);
        let blocks = kql_blocks(&md);
        assert!(blocks.len() >= 2, "{}: a bad and a good example", c.code);
        let lint = |text: &str| {
            let rule = load_rule("example.kql", text);
            match rule {
                Ok(r) => lint_rule(&r).0,
                Err(e) => vec![e.diagnostic.clone().unwrap_or_else(|| panic!("{e}"))],
            }
        };
        let bad = lint(&blocks[0]);
        assert!(
            bad.iter().any(|d| d.code == c.code),
            "{}: the bad example must report it, got {:?}",
            c.code,
            codes(&bad)
        );
        let good = lint(&blocks[1]);
        assert!(
            good.is_empty(),
            "{}: the good example must be clean:\n{}",
            c.code,
            render_all(&good, "good", &blocks[1])
        );
        rendered.push_str(&format!("==== {} ({})\n", c.code, c.name));
        rendered.push_str(&render_all(&bad, &format!("{}.md", c.code), &blocks[0]));
        rendered.push('\n');
    }
    insta::assert_snapshot!("documented_examples", rendered);
}

fn lint_codes(q: &str) -> Vec<String> {
    lint_query(q).into_iter().map(|d| d.code).collect()
}

#[test]
fn predicates_given_earlier_filters() {
    // Same `where`: the first conjunct is the reason.
    let d = lint_query(
        r#"DeviceLogonEvents | where LogonType == "Network" and LogonType == "Service""#,
    );
    assert_eq!(codes(&d), ["QL0002"]);
    let text = r#"DeviceLogonEvents | where LogonType == "Network" and LogonType == "Service""#;
    assert_eq!(d[0].span.text(text), r#"LogonType == "Service""#);
    assert_eq!(d[0].labels[0].span.text(text), r#"LogonType == "Network""#);
    // A later `where`, `!=`, `!in`, `=~`, `not()`, `or` of one column.
    for (q, want) in [
        (
            r#"DeviceLogonEvents | where ActionType == "LogonSuccess" | where ActionType != "LogonSuccess""#,
            "QL0002",
        ),
        (
            r#"DeviceLogonEvents | where ActionType == "LogonSuccess" | where ActionType != "LogonFailed""#,
            "QL0003",
        ),
        (
            r#"DeviceLogonEvents | where ActionType !in ("LogonFailed") | where ActionType == "LogonFailed""#,
            "QL0002",
        ),
        (
            r#"DeviceLogonEvents | where ActionType =~ "logonsuccess" | where ActionType == "LogonFailed""#,
            "QL0002",
        ),
        (
            r#"DeviceLogonEvents | where not(ActionType == "LogonFailed") | summarize n = countif(ActionType == "LogonFailed")"#,
            "QL0002",
        ),
        (
            r#"DeviceLogonEvents | where ActionType == "LogonFailed" or ActionType == "LogonAttempted" | extend x = iff(ActionType == "LogonSuccess", 1, 0)"#,
            "QL0002",
        ),
        (
            r#"DeviceLogonEvents | where LogonType in ("Interactive") | summarize c = countif(LogonType == "Interactive") by AccountName"#,
            "QL0003",
        ),
        // Facts survive summarize by the column, and are dropped when it is redefined.
        (
            r#"DeviceLogonEvents | where LogonType == "Network" | summarize n = count() by LogonType | where LogonType == "Service""#,
            "QL0002",
        ),
    ] {
        assert_eq!(lint_codes(q), [want], "{q}");
    }
    for q in [
        r#"DeviceLogonEvents | where LogonType == "Network" | extend LogonType = "Service" | where LogonType == "Service""#,
        r#"DeviceLogonEvents | where LogonType == "Network" or ActionType == "LogonFailed" | where LogonType == "Service""#,
        r#"DeviceLogonEvents | where LogonType =~ "network" | where LogonType == "Network""#,
        // Mixed types are never compared (SecurityEvent's LogonType is an int; the string
        // "10" is converted by Kusto).
        r#"SecurityEvent | where LogonType in ("2", "10") | summarize c = countif(LogonType == 2) by Computer"#,
    ] {
        assert!(lint_codes(q).is_empty(), "{q}: {:?}", lint_codes(q));
    }
}

#[test]
fn values_columns_and_case() {
    let q = r#"DeviceLogonEvents | where LogonType == "10""#;
    let d = lint_query(q);
    assert_eq!(codes(&d), ["QL0004"]);
    assert!(
        d[0].help
            .as_deref()
            .unwrap_or("")
            .contains("\"RemoteInteractive\"")
    );
    // `=~` ignores case, so a differently-cased documented value is fine.
    assert!(lint_codes(r#"DeviceLogonEvents | where ActionType =~ "logonfailed""#).is_empty());
    assert_eq!(
        lint_codes(r#"DeviceLogonEvents | where ActionType == "logonfailed""#),
        ["QL0004"]
    );
    // Unknown columns follow the pipeline.
    let q = "DeviceLogonEvents | project AccountName | where DeviceName == 'x'";
    let d = lint_query(q);
    assert_eq!(codes(&d), ["QL0006", "QL0005"]);
    let q = "DeviceLogonEvents | extend Acct = AccountName | summarize n = count() by Acct | where Acct != '' and n > 1 | project-rename A = Acct | project A, n";
    assert!(lint_codes(q).is_empty(), "{:?}", lint_codes(q));
    let q = "DeviceLogonEvents | where AcountName == 'x'";
    let d = lint_query(q);
    assert_eq!(d[0].help.as_deref(), Some("did you mean `AccountName`?"));
    // Unknown tables, lets, function parameters, joins: no false positives.
    for q in [
        "MyTable | where Anything == 1",
        "let f = (T: (*), n: long) { T | where x > n }; f(DeviceLogonEvents, 3)",
        "let x = 5; DeviceLogonEvents | where LogonId > x",
        "DeviceLogonEvents | join kind=inner (DeviceLogonEvents | project DeviceId, Other = AccountName) on DeviceId | project Other, AccountName",
        "DeviceLogonEvents | join (SecurityEvent | project DeviceName = Computer, EventID) on $left.DeviceName == $right.DeviceName | project EventID",
        "DeviceLogonEvents | summarize arg_max(Timestamp, *) by DeviceId | project AccountName",
        "DeviceLogonEvents | where TimeGenerated > ago(1d) and TenantId != ''",
        "DeviceLogonEvents | where AccountName =~ 'Admin' or AccountName in~ ('Root') or AccountName startswith 'SVC'",
        "DeviceLogonEvents | where AccountName endswith '$' or AccountName == '-' or AccountName matches regex @'^\\d+$'",
    ] {
        assert!(lint_codes(q).is_empty(), "{q}: {:?}", lint_codes(q));
    }
    // Case-sensitive identity matches, each with its case-insensitive form.
    for (q, fix) in [
        (
            "DeviceLogonEvents | where AccountName == 'Admin'",
            "AccountName =~ 'Admin'",
        ),
        (
            "DeviceLogonEvents | where AccountName !in ('Admin', 'root')",
            "AccountName !in~ ('Admin', 'root')",
        ),
        (
            "SecurityEvent | where TargetUserName startswith_cs 'adm'",
            "TargetUserName startswith 'adm'",
        ),
        (
            "let p = @'^svc_'; DeviceLogonEvents | where AccountName matches regex p",
            "(?i)",
        ),
    ] {
        let d = lint_query(q);
        assert_eq!(codes(&d), ["QL0005"], "{q}");
        assert!(
            d[0].help.as_deref().unwrap_or("").contains(fix),
            "{q}: {:?}",
            d[0].help
        );
    }
}

#[test]
fn unused_lets() {
    assert_eq!(
        lint_codes("let a = 1; let b = a; print b"),
        Vec::<String>::new()
    );
    assert_eq!(lint_codes("let a = 1; print 2"), ["QL0001"]);
    // Used only inside an operator the linter does not model: still a use.
    assert!(
        lint_codes("let cols = 'x'; DeviceLogonEvents | mv-expand y = pack_array(cols)").is_empty()
    );
    // Inside function bodies.
    assert_eq!(
        lint_codes("let f = () { let unused = 1; print 2 }; f()"),
        ["QL0001"]
    );
    // A parameter of the same name is not a use of the outer `let`.
    assert_eq!(
        lint_codes("let n = 1; let f = (n: long) { n + 1 }; print f(2)"),
        ["QL0001"]
    );
}

#[test]
fn rule_metadata_problems() {
    let meta = |params: &str, lets: &str| {
        format!(
            "// ---\n// id: t-1\n// title: t\n// parameters:\n{params}// ---\n{lets}DeviceLogonEvents | take 1\n"
        )
    };
    // A parameter without a `let`: an error pointing at its line.
    let text = meta("//   Threshold: {type: long, default: 10}\n", "");
    let rule = load_rule("t.kql", &text).expect("loads");
    assert_eq!(codes(&rule.metadata_diagnostics), ["QL0007"]);
    assert_eq!(rule.metadata_diagnostics[0].severity, Severity::Error);
    assert_eq!(rule.metadata_diagnostics[0].span.text(&text), "Threshold");
    // A default that differs from the text: a warning on the value.
    let text = meta(
        "//   Threshold: {type: long, default: 10}\n",
        "let Threshold = 5;\n",
    );
    let rule = load_rule("t.kql", &text).expect("loads");
    let d = &rule.metadata_diagnostics;
    assert_eq!((d.len(), d[0].severity), (1, Severity::Warning));
    assert_eq!(d[0].span.text(&text), "5");
    // Defaults that fit: dynamic, timespan, bool, string.
    let text = meta(
        "//   P: {type: dynamic, default: [\"a\", \"b\"]}\n//   W: {type: timespan, default: 1h}\n//   B: {type: bool, default: false}\n//   S: {type: string, default: x y}\n",
        "let P = dynamic([\"a\",\"b\"]);\nlet W = 1h;\nlet B = false;\nlet S = \"x y\";\n",
    );
    let rule = load_rule("t.kql", &text).expect("loads");
    assert!(
        rule.metadata_diagnostics.is_empty(),
        "{:?}",
        rule.metadata_diagnostics
    );
    // Errors that stop loading.
    for (text, what) in [
        (
            meta("//   T: {type: long, default: ten}\n", "let T = 1;\n"),
            "default",
        ),
        (
            meta("//   T: {type: number}\n", "let T = 1;\n"),
            "unknown type",
        ),
        ("// ---\n// id: [unclosed\n// ---\nT".to_string(), "YAML"),
        ("// ---\n// id: x\nT | take 1\n".to_string(), "`//`"),
        ("// ---\n// id: x\n".to_string(), "not closed"),
    ] {
        let e = load_rule("t.kql", &text).expect_err(what);
        assert!(e.message.contains(what), "{what}: {}", e.message);
        assert!(e.diagnostic.is_some());
    }
    // No block: a plain query is a rule named after its file.
    let rule = load_rule("dir/my-hunt.kql", "DeviceLogonEvents | take 1").expect("loads");
    assert_eq!(
        (rule.id.as_str(), rule.title.as_str()),
        ("my-hunt", "my-hunt")
    );
    assert_eq!(rule.tables, ["DeviceLogonEvents"]);
}

fn fixture(name: &str) -> PathBuf {
    repo()
        .join("crates/quarry-cli/tests/fixtures/sentinel")
        .join(name)
}

#[test]
fn sentinel_yaml_rules_load_and_lint_in_file_coordinates() {
    let rule = load(&fixture("PotentialRemoteDesktopTunneling.yaml"));
    assert_eq!(rule.format, RuleFormat::SentinelYaml);
    assert_eq!(rule.title, "Potential Remote Desktop Tunneling");
    assert_eq!(rule.severity, RuleSeverity::Medium);
    assert_eq!(rule.tables, ["SecurityEvent"]);
    assert_eq!(rule.techniques, ["T1572"]);
    let sched = rule.schedule.clone().expect("schedule");
    assert_eq!(sched.period_ns, Some(86_400_000_000_000));
    assert_eq!(sched.trigger, Some((TriggerOp::Gt, 0)));
    let kinds: Vec<&str> = rule.entities.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["Account.FullName", "Host.FullName", "IP.Address"]);

    // A finding in a YAML rule points into the YAML file.
    let rule = load(&fixture("NetworkLogonsWithLocalAccounts.yaml"));
    let (diags, text) = lint_rule(&rule);
    assert_eq!(codes(&diags), ["QL0004"]);
    assert_eq!(diags[0].span.text(text), "'Success'");
    assert!(
        diags[0]
            .help
            .as_deref()
            .unwrap_or("")
            .contains("\"LogonSuccess\"")
    );
    assert_eq!(text, rule.file_text);

    // Placeholders are filled for linting; every fixture loads and parses.
    for f in std::fs::read_dir(fixture("")).expect("fixtures") {
        let p = f.expect("entry").path();
        let rule = load(&p);
        let (diags, _) = lint_rule(&rule);
        assert!(
            diags.iter().all(|d| d.code.starts_with("QL")),
            "{}: {:?}",
            p.display(),
            diags
        );
        assert!(!rule.tables.is_empty(), "{}", p.display());
    }
    let rule = load(&fixture("HostsWithNewLogons.yaml"));
    assert!(rule.query.contains("{{StartTimeISO}}"));
    assert_eq!(rule.tables, ["SecurityEvent"]);
}

#[test]
fn prepare_applies_parameters_window_and_placeholders() {
    let rule = load(&repo().join("rules/service-account-interactive-logon.kql"));
    let tc = |t: &str| (t == "DeviceLogonEvents").then(|| "Timestamp".to_string());
    const DAY: i64 = 86_400_000_000_000;
    let t0 = 1_709_251_200_000_000_000; // 2024-03-01T00:00:00Z
    let opts = RunOptions {
        since_ns: Some(t0),
        until_ns: Some(t0 + DAY),
        params: vec![("ServiceAccountPatterns".into(), r#"["sa_"]"#.into())],
        ..RunOptions::default()
    };
    let p = prepare(&rule, &opts, &tc).expect("prepared");
    assert!(p.text.text.starts_with(
        "let ['DeviceLogonEvents'] = ['DeviceLogonEvents'] | where ['Timestamp'] >= datetime(2024-03-01T00:00:00Z) and ['Timestamp'] < datetime(2024-03-02T00:00:00Z);\n"
    ));
    assert_eq!(p.now_ns, t0 + DAY, "now() is --until without --now");
    assert!(p.params.contains(&(
        "ServiceAccountPatterns".into(),
        r#"dynamic(["sa_"])"#.into()
    )));
    assert!(
        p.params.contains(&("Lookback".into(), "0d".into())),
        "{:?}",
        p.params
    );
    // The rule text maps back through the prefix.
    let at = p.text.text.find("DeviceLogonEvents\n|").expect("query");
    assert_eq!(p.text.map_back(at), rule.query.find("DeviceLogonEvents\n|"));
    assert_eq!(p.text.map_back(3), None);

    // A bad value is a clear error.
    let bad = RunOptions {
        params: vec![("Lookback".into(), "yesterday".into())],
        ..RunOptions::default()
    };
    let e = prepare(&rule, &bad, &tc).expect_err("bad value");
    assert!(e.contains("Lookback") && e.contains("timespan"), "{e}");

    // Without --since/--until a non-zero look-back is the window (for the summary's note).
    let lb = RunOptions {
        now_ns: Some(t0 + 10 * DAY),
        params: vec![("Lookback".into(), "1d".into())],
        ..RunOptions::default()
    };
    let p = prepare(&rule, &lb, &tc).expect("prepared");
    let w = p.window.expect("window");
    assert_eq!(w.from_ns, Some(t0 + 9 * DAY));
    assert_eq!(p.text.text, rule.query);

    // Sentinel: placeholders from --since/--until; queryPeriod with --now.
    let hosts = load(&fixture("HostsWithNewLogons.yaml"));
    let tcs = |t: &str| (t == "SecurityEvent").then(|| "TimeGenerated".to_string());
    let p = prepare(&hosts, &opts, &tcs).expect("prepared");
    assert!(p.text.text.contains("todatetime('2024-03-01T00:00:00Z')"));
    assert!(p.text.text.contains("todatetime('2024-03-02T00:00:00Z')"));
    let tunnel = load(&fixture("PotentialRemoteDesktopTunneling.yaml"));
    let now = RunOptions {
        now_ns: Some(t0 + DAY),
        ..RunOptions::default()
    };
    let p = prepare(&tunnel, &now, &tcs).expect("prepared");
    assert!(
        p.text
            .text
            .contains("['TimeGenerated'] >= datetime(2024-03-01T00:00:00Z)")
    );
    // Without --now the whole input is used.
    let p = prepare(&tunnel, &RunOptions::default(), &tcs).expect("prepared");
    assert_eq!(p.text.text, tunnel.query);
}

#[test]
fn linter_never_panics_on_the_corpus_or_on_broken_text() {
    let corpus = read(&shared().join("conformance/hunting_queries.jsonl"));
    let mut n = 0;
    for line in corpus.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        let q = v["query"].as_str().unwrap_or("");
        let _ = lint_query(&quarry_rules::window::fill_placeholders_for_lint(q));
        n += 1;
    }
    assert!(n > 1000);
    // Every prefix of the seed and the corrected rule (cut at char boundaries).
    for p in [
        shared().join(SEED),
        repo().join("rules/service-account-interactive-logon.kql"),
    ] {
        let text = read(&p);
        for (i, _) in text.char_indices() {
            let _ = load_rule("x.kql", &text[..i]).map(|r| lint_rule(&r).0.len());
            let _ = load_rule("x.yaml", &text[..i]);
        }
    }
}
