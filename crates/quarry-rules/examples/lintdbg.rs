fn main() {
    for p in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&p).unwrap();
        match quarry_rules::load_rule(&p, &text) {
            Ok(rule) => {
                let (d, t) = quarry_rules::lint_rule(&rule);
                print!("{}", quarry_syntax::diagnostic::render_all(&d, &p, t));
                println!("-- {} diags; tables {:?}", d.len(), rule.tables);
            }
            Err(e) => println!("load error {e}"),
        }
    }
}
