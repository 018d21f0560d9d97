//! Snapshot tests of the parser: S-expression dumps of valid queries, rendered diagnostics of
//! invalid ones. Snapshots live in `tests/snapshots/`; review changes with `cargo insta review`
//! or by reading the `.snap.new` files.

use quarry_syntax::diagnostic::render_all;
use quarry_syntax::{dump_script, parse, parse_expr};

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/seed/service_account_interactive_logon.kql"
);

/// Parses `src`, insists on no diagnostics, and returns the dump.
fn dump(src: &str) -> String {
    let r = parse(src);
    assert!(
        r.diagnostics.is_empty(),
        "unexpected diagnostics for {src:?}:\n{}",
        render_all(&r.diagnostics, "query.kql", src)
    );
    dump_script(&r.script)
}

/// Several small cases in one snapshot: `>>> source` then its dump.
fn cases(srcs: &[&str]) -> String {
    let mut out = String::new();
    for s in srcs {
        out.push_str(">>> ");
        out.push_str(s);
        out.push('\n');
        out.push_str(&dump(s));
        out.push_str("\n\n");
    }
    out
}

/// Rendered diagnostics (all of them) for an invalid query.
fn errors(src: &str) -> String {
    let r = parse(src);
    assert!(
        !r.diagnostics.is_empty(),
        "expected diagnostics for {src:?}"
    );
    format!(
        ">>> {src}\n{}",
        render_all(&r.diagnostics, "query.kql", src)
    )
}

#[test]
fn seed_query() {
    let Ok(src) = std::fs::read_to_string(SEED) else {
        eprintln!("seed query not found at {SEED}; skipping");
        return;
    };
    insta::assert_snapshot!("seed_query", dump(&src));
}

#[test]
fn literals() {
    insta::assert_snapshot!(cases(&[
        "print true, false, 123, -5, 0x1F, 1.5, 1e3, 2.5E-1, .5, -9223372036854775808",
        r#"print "a\"b\n\\", 'it\'s', @"C:\path""x", @'o''k', h"hidden", H'x', h@"v\w", "con" 'cat' @"enated""#,
        "print ```multi\nline```",
        "print .5, 1 - .5, x.y",
        "print 1d, 1h, 1.5h, 30m, 5min, 10s, 2sec, 100ms, 3milliseconds, 10microsecond, 7tick, 1day, 2hours, -1d",
        "print datetime(2024-01-01T10:00:00.1234567Z), datetime(2015-12-31 23:59:59.9), datetime(null)",
        "print time(1.02:03:04.5), timespan(1h), time(2d), timespan(15 seconds), time(00:01:00), time(-0:30), timespan(2), time(null)",
        "print guid(74be27de-1e4e-49d9-b579-fe0b331d3642), guid(null)",
        "print int(5), int(-3), int(null), long(7), long(null), real(1.5), real(nan), real(+inf), real(-inf), real(null), double(2)",
        "print bool(true), bool(false), bool(null), decimal(1.5), decimal(-2), decimal(null)",
        r#"print dynamic(null), dynamic(5), dynamic("s"), dynamic([]), dynamic([1, -2.5, "x", true, null, [3]]), dynamic({"a": 1, b: {"c": [datetime(2020-01-01), 1h]}}), dynamic(['svc_', "sa_"])"#,
        "print typeof(string), typeof(long), typeof(datetime), typeof(dynamic)",
    ]));
}

#[test]
fn identifiers_and_keywords_as_names() {
    insta::assert_snapshot!(cases(&[
        "T | project count, kind, title, type, time, by = 1, ['My Col'], [\"x y\"], $left.a",
        "T | extend ['where'] = 1, time = now(), d = dyn['key'], e = dyn.a.b[0], f = dyn.[1], g = x.['p q']",
        "T | where time > ago(1h) and count > 0",
        "['My Table'] | take 1",
    ]));
}

#[test]
fn precedence() {
    insta::assert_snapshot!(cases(&[
        "print a or b and c",
        "print a and b or c and d",
        "print a == 1 or b != 2 and c < 3",
        "print 1 + 2 * 3 - 4 / 5 % 6",
        "print -a * b",
        "print - - a",
        "print (1 + 2) * 3",
        "print a + 1 > b - 1",
        "print x.y[0].z, f(1).a['b']",
        "print not(a) and b",
        "print a has 'x' and b !contains_cs 'y' or c matches regex 'z'",
        "print a in (1, 2) and b !in~ ('x') or c between (1 .. 10)",
        "print a - 1 between (0 .. 2)",
    ]));
}

#[test]
fn string_and_membership_operators() {
    insta::assert_snapshot!(cases(&[
        "T | where a == b | where a != b | where a <> b | where a < b | where a <= b | where a > b | where a >= b | where a =~ b | where a !~ b",
        "T | where a has b | where a !has b | where a has_cs b | where a !has_cs b",
        "T | where a hasprefix b | where a !hasprefix b | where a hasprefix_cs b | where a !hasprefix_cs b",
        "T | where a hassuffix b | where a !hassuffix b | where a hassuffix_cs b | where a !hassuffix_cs b",
        "T | where a contains b | where a !contains b | where a contains_cs b | where a !contains_cs b | where a containscs b",
        "T | where a startswith b | where a !startswith b | where a startswith_cs b | where a !startswith_cs b",
        "T | where a endswith b | where a !endswith b | where a endswith_cs b | where a !endswith_cs b",
        "T | where a matches regex @'^x.*'",
        "T | where a in ('x', 'y') | where a !in (1) | where a in~ ('X') | where a !in~ (list) | where a in ()",
        "T | where a in (U | project b) | where a in (dynamic(['p', 'q']))",
        "T | where a has_any ('x', 'y') | where a has_all (list)",
        "T | where a between (1 .. 10) | where a !between (datetime(2020-01-01) .. 1d)",
    ]));
}

#[test]
fn calls() {
    insta::assert_snapshot!(cases(&[
        "T | summarize arg_max(Timestamp, *) by Device",
        "print f(), g(1, 'two', x = 3), toscalar(T | count), bag_pack('a', 1)",
        "print iff(a > 1, 'big', 'small'), case(a == 1, 'one', a == 2, 'two', 'many')",
    ]));
}

#[test]
fn tabular_operators() {
    insta::assert_snapshot!(cases(&[
        "T | where x > 1 | filter y",
        "T | extend a = 1, (b, c) = f(x), d",
        "T | project a, b = c + 1, ['d e']",
        "T | project-away a, Init*, *Id, ['x y'] | project-keep b*, c",
        "T | project-rename new1 = old1, ['new 2'] = ['old 2']",
        "T | project-reorder a, b* asc, c desc, d granny-asc",
        "T | summarize count(), dcount(x) by bin(Timestamp, 1h), k = tolower(y)",
        "T | summarize by a, b",
        "T | summarize hint.strategy=shuffle hint.shufflekey=a n = count() by a",
        "T | order by a, b asc, c desc nulls first, d nulls last | sort by e",
        "T | take 10 | limit 5",
        "T | top 3 by x | top 5 by y asc nulls last",
        "T | distinct * | distinct a, b",
        "T | count",
        "T | getschema",
        "T | serialize | serialize rn = row_number()",
        "T | as Saved | as hint.materialized=true Other",
        "T | union U, (V | where x), W* | union kind=outer withsource=Src isfuzzy=true X, Security*Event",
        "T | join kind=inner (U | where x) on Id | join hint.strategy=broadcast U on $left.a == $right.b, Id2",
        "T | join kind=leftouter U on $left.a == $right.b and $left.c == $right.d",
        "T\n| join (\n    U\n    | project Id\n) on Id",
    ]));
}

#[test]
fn tabular_sources() {
    insta::assert_snapshot!(cases(&[
        "print x = 1, 'two'",
        "range x from 1 to 10 step 2",
        "range t from ago(1d) to now() step 1h | count",
        "datatable(a: long, b: string) [1, \"x\", 2, \"y\",]",
        "datatable(d: datetime, ['s p']: dynamic) [datetime(2020-01-01), dynamic({'k': 1})]",
        "union T1, T2 | count",
        "union isfuzzy=true (T1 | where x), T2*",
        "(T | where x) | take 1",
        "T() | take 1",
        "database('db').T | take 1",
    ]));
}

#[test]
fn statements() {
    insta::assert_snapshot!(cases(&[
        "let x = 5; let y = 'str'; T | where a > x",
        "let t = T | where a > 1; t | count;",
        "let f = (a: string, b: long = 5) { a };\nf('x')",
        "let g = (T: (*), U: (x: string, y: long)) { let z = 1; T | extend z = z };\ng(A, B)",
        "let h = () { now() };\nprint h()",
        "let v = view () { T | take 1 };\nv",
        "let ['my name'] = 1;\nprint ['my name']",
        "let m = materialize(T | summarize count() by a);\nm | join (m) on a",
        "set notruncation;\nset query_now = datetime(2024-01-01);\nT",
        ";;T;;",
        "T | take 1; U | take 2",
        "let x = dynamic(['a']);\nT | where a in (x)",
    ]));
}

#[test]
fn mv_expand() {
    insta::assert_snapshot!(cases(&[
        "T | mv-expand Entities",
        "T | mvexpand todynamic(AuthenticationDetails) | mv-expand TargetResources.modifiedProperties",
        "T | mv-expand bagexpansion=array EventData",
        "T | mv-expand target = TargetResources, b to typeof(string) limit 10",
        "T | mv-expand with_itemindex=Idx kind=array x = todynamic(a) to typeof(long), y",
        "T | mv-expand TimeGenerated, EventCount, outliers | where outliers == 1",
    ]));
}

#[test]
fn render() {
    insta::assert_snapshot!(cases(&[
        "T | render timechart",
        "T | render columnchart with (title=\"Visits\", xtitle='Date', ytitle=\"Total\", kind=stacked)",
        "T | render timechart with (ycolumns = a, b, ymin = 0, legend = hidden, accumulate = true)",
        "T | render piechart with(title=strcat('a', 'b'))",
        "T | render timechart title='legacy' kind=stacked",
        "T | render table | take 1",
    ]));
}

#[test]
fn parse_operators() {
    insta::assert_snapshot!(cases(&[
        "T | parse SyslogMessage with * '%' Event ':' *",
        "T | parse msg_s with Protocol 'request from ' SourceHost ':' SourcePort:long 'to ' Dest",
        "T | parse kind=regex flags=Ui Text with * 'id=' Id:int \"[0-9]+\" *",
        "T | parse kind=relaxed tostring(x.y) with \"a\" \"b\" A:datetime",
        "T | parse Events with * \"Words\" Words '}'* | project Words",
        "T | parse-where Text with 'x=' X:long ',' *",
        "T | parse-kv Text as (Key1: string, ['key 2']: long) with (pair_delimiter=',', kv_delimiter=':', quote='\"', greedy=true)",
        "T | parse-kv Text as (a: string)",
    ]));
}

#[test]
fn externaldata() {
    insta::assert_snapshot!(cases(&[
        "externaldata (a: string, b: long) ['https://x/y.csv']",
        "let IOCs = externaldata(Ip: string)[h@\"https://example.com/a.txt\", @'https://example.com/b.txt'] with (format=\"txt\", ignoreFirstRecord=true);\nT | where RemoteIP in (IOCs)",
        "externaldata(x: dynamic) [\"https://e/f.json\"] with(format=multijson) | take 1",
    ]));
}

#[test]
fn make_series() {
    insta::assert_snapshot!(cases(&[
        "T | make-series count() on TimeGenerated step 1h",
        "T | make-series n = count(), s = sum(x) default = -1 on Timestamp from ago(7d) to now() step 1d by Device, k = tolower(u)",
        "T | make-series kind=nonempty avg(x) default=0 on Timestamp from startofday(ago(2d)) step 1h",
        "T | make-series dcount(r) default=0 on StartTime in range(startofday(ago(7d)), now(), 1d) by Caller",
        "T | make-series num=sum(tolong(Count)) default=0 on TimeGenerated in range(min_t, max_t, 1h)",
    ]));
}

#[test]
fn evaluate_and_invoke() {
    insta::assert_snapshot!(cases(&[
        "T | evaluate bag_unpack(EventData)",
        "T | evaluate bag_unpack(Params, columnsConflict='replace_source')",
        "T | evaluate pivot(Key, any(Value), TimeGenerated, Computer)",
        "T | evaluate hint.distribution=per_node narrow()",
        "T | evaluate bag_unpack(d) : (*, Name: string, Age: long)",
        "T | evaluate pivot(Level): (Device: string, High: long)",
        "T | evaluate sequence_detect(TimeGenerated, 5s, 8s, login=(Url has 'x'), graph=(Url has 'y'), Id)",
        "evaluate range_plugin(1, 2)",
        "T | invoke FileProfile('SHA1', 10000) | invoke AliasPath()",
    ]));
}

#[test]
fn mv_apply() {
    insta::assert_snapshot!(cases(&[
        "T | mv-apply Metric to typeof(real) on (top 2 by Metric desc)",
        "T | mv-apply d = EventData.Data on (where d['@Name'] == 'Key' | project Key = tostring(d['#text']))",
        "T | mv-apply with_itemindex=i a = x, b = y limit 5 on (\n    summarize make_list(a)\n    | extend n = 1\n)",
        "T | mv-apply t = toscalar(names) to typeof(string) on (where Query contains ['t']) | summarize count() by ['t']",
        "T | mv-apply x on (mv-apply y on (take 1) | count)",
    ]));
}

#[test]
fn lookup_and_search() {
    insta::assert_snapshot!(cases(&[
        "T | lookup kind=leftouter (U | project Id, Name) on Id",
        "T | lookup kind=inner _GetWatchlist('w') on $left.Upn == $right.SearchKey",
        "T | lookup Sev on Severity, $left.a == $right.b",
        "search \"10.0.0.4\"",
        "search *\n| summarize count() by $table",
        "search in (DeviceFileEvents) \"ntds\" and \"dit\" and ActionType:\"FileModified\"",
        "search kind=case_sensitive in (T1, Device*) * has 'x' or Col == 1 | take 5",
        "T | search \"err*\" | search kind=case_insensitive * !contains \"y\"",
        "T | where * has 'x' and * !has_cs 'y'",
        "let t = search * | summarize make_set($table);\nt",
        "find in (T1, T2) where Sha1 == h or Id == 2 project DeviceName, Count: long, pack_all()",
        "find withsource=Src where x == 1 project-smart | take 1",
        "find Session_Id == 'abc'",
    ]));
}

#[test]
fn declare_query_parameters() {
    insta::assert_snapshot!(cases(&[
        "declare query_parameters(lbperiod: timespan = 14d, name: string = 'x', n: long);\nT | where t > ago(lbperiod)",
        "declare query_parameters();\nlet a = 1;\nprint a",
    ]));
}

#[test]
fn more_operators() {
    insta::assert_snapshot!(cases(&[
        "T | top-nested 3 of State by sum(x) desc",
        "T | top-nested 100000 of RemoteDomain by dcount(DeviceId) asc",
        "T | top-nested of s = State with others = 'Other' by total = count(), top-nested 2 of Type by m = max(x) asc",
        "T | sample 10 | sample-distinct 5 of tolower(Name)",
        "T | facet by State, EventType",
        "T | facet by State with (where x > 1 | take 5)",
        "T | partition by Device (top 1 by Timestamp desc)",
        "T | partition hint.strategy=native hint.concurrency=4 by Device { T | where x > 1 | take 1 }",
        "T | fork (where x > 1 | take 1) (summarize count()) named = (count | as Saved)",
        "T | scan with_match_id=Id declare (Step: string, Delta: timespan = 1h) with (\n    step A: Action == 'c' => Step = 's1';\n    step B output=last: Action == 'd' and DeviceId == A.DeviceId => Step = 's2', Delta = T - A.T;\n)",
        "T | scan with (step s: true)",
        "T | reduce by Text with threshold=0.1, characters='X' | reduce kind=source by Text",
        "T | top-hitters 5 of EventType by Damage | top-hitters 2 of x",
    ]));
}

#[test]
fn new_operator_diagnostics() {
    let bad = [
        "T | mv-expand | take 1",
        "T | mv-expand x to typeof(strin)",
        "T | mv-apply x on (where)",
        "T | mv-apply x on ()",
        "T | mv-apply x (take 1)",
        "T | render",
        "T | render timechart with (title 'x')",
        "T | parse x with * 5",
        "T | parse x",
        "T | make-series count() on T from 1 to 2",
        "T | make-series count() on T in range(1, 2)",
        "T | evaluate bag_unpack",
        "T | invoke f",
        "T | lookup U",
        "T | search",
        "externaldata (a: string) 'url'",
        "externaldata (a: string) ['url'",
        "declare query_parameters(x: (*));\nT",
        "declare query_parameters(x: long)\nT",
        "T | top-nested 3 by x",
        "T | fork",
        "T | scan with (step s: x == 1 step t: y)",
        "T | partition by x { T | take 1",
        "T | parse-where",
        "T | parse-kv",
        "T | top-nested",
        "T | make-series on x step 1",
        "T | sample-distinct | take 1",
        "T | mv-expand x, | take 1",
    ];
    let out: Vec<String> = bad.iter().map(|s| errors(s)).collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn children_cover_new_nodes() {
    // Every sub-expression is reachable through `Expr::children`, including subqueries.
    let src =
        "T | mv-apply a = x on (where y > 1 | extend z = f(w)) | render timechart with (ymin = m)";
    let r = parse(src);
    assert!(r.diagnostics.is_empty());
    let quarry_syntax::ast::Statement::Query(e) = &r.script.statements[0] else {
        panic!("expected a query");
    };
    let mut names = Vec::new();
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        if let quarry_syntax::ast::ExprKind::Name(id) = &e.kind {
            names.push(id.name.clone());
        }
        stack.extend(e.children());
    }
    names.sort();
    assert_eq!(names, ["T", "m", "w", "x", "y"]);
}

#[test]
fn comments_and_whitespace() {
    insta::assert_snapshot!(cases(&[
        "// leading comment\nT // trailing\n| where x == 1 // why\n// only comment\n| take 1\n// end",
        "T\r\n| where x == 1\r\n\t| take 1",
    ]));
}

#[test]
fn parse_expr_api() {
    let e = parse_expr("datetime(2024-01-01)").map(|e| quarry_syntax::dump_expr(&e));
    assert_eq!(e.as_deref(), Ok("(datetime \"2024-01-01\")"));
    let e = parse_expr("dynamic(['a', 1])").map(|e| quarry_syntax::dump_expr(&e));
    assert_eq!(e.as_deref(), Ok("(dynamic [\"a\", 1])"));
    let e = parse_expr("-5").map(|e| quarry_syntax::dump_expr(&e));
    assert_eq!(e.as_deref(), Ok("-5"));
    let err = parse_expr("1 +").err().unwrap_or_default();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].code, "KQL0001");
    let err = parse_expr("1 2").err().unwrap_or_default();
    assert_eq!(err[0].message, "expected end of input, found `2`");
    assert!(parse_expr("'unterminated").is_err());
}

#[test]
fn spans_point_at_source() {
    let src = "T | where Name has 'x' | take 5";
    let r = parse(src);
    let quarry_syntax::ast::Statement::Query(e) = &r.script.statements[0] else {
        panic!("expected a query");
    };
    assert_eq!(e.span.text(src), src);
    let quarry_syntax::ast::ExprKind::Pipe { input, op } = &e.kind else {
        panic!("expected a pipe");
    };
    assert_eq!(op.span.text(src), "take 5");
    let quarry_syntax::ast::ExprKind::Pipe { op, .. } = &input.kind else {
        panic!("expected a pipe");
    };
    assert_eq!(op.span.text(src), "where Name has 'x'");
    let quarry_syntax::ast::PipeOpKind::Where(pred) = &op.kind else {
        panic!("expected where");
    };
    assert_eq!(pred.span.text(src), "Name has 'x'");
}

#[test]
fn diagnostics() {
    let bad = [
        // Missing expression after an operator.
        "T | where x == | take 1",
        // Missing expression at end of input.
        "T | where x ==",
        // Unterminated strings.
        "T | where x == \"abc\n| take 1",
        "T | where x == @'abc",
        "print ```never closed",
        // Unknown operators, with and without a close name.
        "T | wher x > 1",
        "T | make-graph a --> b with N on id | take 1",
        "T | frobnicate",
        // `by` problems.
        "T | summarize count() by",
        "T | order x",
        "T | top 5 x",
        // Unbalanced parentheses.
        "T | where (x > 1 | take 1",
        "T | where f(x, y | take 1",
        "T | where x > 1) | take 1",
        // Two errors in one text, recovered at `|`.
        "T | where x == | extend = 5 | take 1",
        // Errors in two statements, recovered at `;`.
        "let a = ;\nlet b = 1 +;\nT | take a",
        // Invalid literals.
        "print 12abc, int(x), real(abc), dynamic([1, f(x)]), time(abc), datetime()",
        "print 99999999999999999999, \"bad \\q escape\"",
        // Unexpected characters.
        "T | where x ? 1",
        "T | where !x",
        // `=` used for comparison.
        "T | where x = 1",
        // Bad join condition.
        "T | join U on a > b",
        // Missing `;` between statements.
        "let x = 1\nT | take x",
        // Unsupported syntax.
        "declare pattern p;\nT",
        "T | extend y = a.f()",
        "T | where a !like 'x'",
        // Not a query operator after `|`.
        "T | | take 1",
        "T | 5",
        // `in` needs parentheses.
        "T | where x in list",
    ];
    let out: Vec<String> = bad.iter().map(|s| errors(s)).collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn diagnostic_spans_at_end_of_input_are_zero_width() {
    let src = "T | where x ==";
    let r = parse(src);
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(r.diagnostics[0].span.start as usize, src.len());
    assert_eq!(r.diagnostics[0].span.end as usize, src.len());
}

#[test]
fn recovery_keeps_good_parts() {
    let r = parse("T | where x == | extend y = 1 | take 1; U | count");
    assert_eq!(r.diagnostics.len(), 1);
    insta::assert_snapshot!(dump_script(&r.script), @r"
    (pipe (name T)
      | (extend (= y 1))
      | (take 1))
    (pipe (name U)
      | (count))
    ");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    // A 1 MiB stack: the nesting cap must keep even debug builds well inside it.
    let worker = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(deep_nesting_shapes)
        .expect("spawn");
    assert!(worker.join().is_ok());
}

fn deep_nesting_shapes() {
    use quarry_syntax::parser::{MAX_AST_DEPTH, MAX_NESTING};
    for n in [10usize, MAX_NESTING + 5, 5_000, 50_000] {
        let shapes = [
            format!("print {}1{}", "(".repeat(n), ")".repeat(n)),
            format!("print {}1{}", "f(".repeat(n), ")".repeat(n)),
            format!("print {}1{}", "x[".repeat(n), "]".repeat(n)),
            format!("print a in {}1{}", "(a in (".repeat(n), "))".repeat(n)),
            format!("print dynamic({}1{})", "[".repeat(n), "]".repeat(n)),
            format!("{}1{}", "let f = () {".repeat(n), "}".repeat(n)),
            format!(
                "T | where {}1{}",
                "(T | where x == ".repeat(n),
                ")".repeat(n)
            ),
            format!(
                "T | join kind=inner {}U{} on a",
                "(T | join ".repeat(n),
                " on b)".repeat(n)
            ),
            format!("print {}1{}", "-(".repeat(n), ")".repeat(n)),
            format!("print {}1", "-".repeat(n)),
            format!("print {}", "f(".repeat(n)),
            format!("print {}", "(".repeat(n)),
            format!("T{}{}", " | mv-apply x on (take 1".repeat(n), ")".repeat(n)),
            format!("T | fork {}(take 1){}", "(fork ".repeat(n), ")".repeat(n)),
            format!(
                "T | partition by x {}1{}",
                "{ T | partition by x ".repeat(n),
                "}".repeat(n)
            ),
            format!("T | evaluate p({}1{})", "f(".repeat(n), ")".repeat(n)),
            format!("T | parse {}1{} with *", "(".repeat(n), ")".repeat(n)),
        ];
        for src in &shapes {
            let r = parse(src);
            let too_deep = r.diagnostics.iter().any(|d| d.code == "KQL0006");
            if n <= 10 {
                assert!(!too_deep, "{src}");
            } else if n >= 5_000 && !src.starts_with("print -") {
                assert!(too_deep, "{}", &src[..40]);
            }
        }
        // Long flat chains are not nesting but make deep trees; those are capped too.
        let src = format!("print {}", vec!["a"; n].join(" or "));
        let r = parse(&src);
        assert_eq!(
            r.diagnostics.iter().any(|d| d.code == "KQL0006"),
            n > 2 * MAX_AST_DEPTH,
            "{n}"
        );
        let src = format!("T{}", " | take 1".repeat(n));
        let r = parse(&src);
        assert_eq!(
            r.diagnostics.iter().any(|d| d.code == "KQL0006"),
            n > 2 * MAX_AST_DEPTH,
            "{n}"
        );
        // A subquery's operators are a flat list, not a deep tree: any length is fine.
        let src = format!("T | mv-apply x on (take 1{})", " | take 1".repeat(n));
        let r = parse(&src);
        assert!(r.diagnostics.is_empty(), "{n}");
        let _ = dump_script(&r.script);
        // Long chains in a declared default are capped like other trees.
        let src = format!(
            "declare query_parameters(p: bool = {});\nT",
            vec!["a"; n].join(" or ")
        );
        let r = parse(&src);
        assert_eq!(
            r.diagnostics.iter().any(|d| d.code == "KQL0006"),
            n > 2 * MAX_AST_DEPTH,
            "{n}"
        );
    }
}

/// Kusto's query editors run blank-line separated blocks of one text as separate queries;
/// hunting-query files rely on it. A query statement followed by a blank line and more text
/// (no `;`) ends its block; everything else still needs `;`.
#[test]
fn blank_line_separated_query_blocks() {
    let src =
        "let a = 1;\nT | where x == a\n\n// second\nU | take 1\n\n\nlet b = 2;\nV | where y == b";
    let r = parse(src);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(r.script.statements.len(), 5);
    assert_eq!(r.script.block_starts, vec![2, 3]);
    // No blank line: a second query without `;` is an error, as in Kusto.
    assert!(!parse("T | take 1\nU | take 1").diagnostics.is_empty());
    // A comment line alone does not separate blocks.
    assert!(!parse("T | take 1\n// c\nU").diagnostics.is_empty());
    // A `let` must still end with `;`, blank line or not.
    assert!(!parse("let a = 1\n\nT").diagnostics.is_empty());
    // A blank line before `|` continues the pipeline; `;` texts have no blocks.
    let r = parse("T\n\n| take 1;\n\nU");
    assert!(r.diagnostics.is_empty());
    assert!(r.script.block_starts.is_empty());
    // Inside parentheses a blank line never ends anything.
    assert!(!parse("T | where x in (\n\nU V)").diagnostics.is_empty());
}

#[test]
fn project_by_names_takes_a_list_of_expressions() {
    let d = dump(r#"T | project-by-names "C*", dynamic(["a", "b"]), column_names_of(S)"#);
    assert!(d.contains("(project-by-names "), "{d}");
    assert!(d.contains("C*"), "{d}");
    assert!(d.contains("column_names_of"), "{d}");
    assert!(!parse("T | project-by-names").diagnostics.is_empty());
}
