#[test]
fn sp() {
    for s in [
        "print (((1)))",
        "print f(f(f(1)))",
        "T | where (T | where (T | where x == 1))",
        "print -(-(-(1)))",
        "print x[x[x[1]]]",
        "print 1 + (1 + (1 + (1)))",
        "T | join (T | join (T | join U on a) on a) on a",
    ] {
        eprintln!("== {s}");
        let _ = quarry_syntax::parse(s);
    }
}
