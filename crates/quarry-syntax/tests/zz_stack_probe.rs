#[test]
fn probe() {
    let n = quarry_syntax::parser::MAX_NESTING + 5;
    let shapes: Vec<String> = vec![
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
    ];
    let kb: usize = std::env::var("KB").unwrap().parse().unwrap();
    {
        let shapes2 = shapes.clone();
        let ok = std::thread::Builder::new()
            .stack_size(kb * 1024)
            .spawn(move || {
                let only: usize = std::env::var("SHAPE").unwrap().parse().unwrap();
                let _ = quarry_syntax::parse(&shapes2[only]);
            })
            .unwrap()
            .join()
            .is_ok();
        eprintln!("{kb} KiB: {ok}");
    }
}
