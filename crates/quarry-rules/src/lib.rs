//! scratch
pub fn yaml_to_json(text: &str) -> Result<serde_json::Value, String> {
    serde_saphyr::from_str::<serde_json::Value>(text).map_err(|e| e.to_string())
}
#[cfg(test)]
mod t {
    #[test]
    fn y() {
        let v = super::yaml_to_json("a: [1, \"x\"]\nb: {type: dynamic, default: [\"svc_\", \"sa_\"], description: x y z}\nc: 0d\nd: true\ne: >\n  folded\n  text\nq: |\n  let x = 1;\n  T | where a == \"b\"\n").unwrap();
        println!("{v}");
        println!("{:?}", super::yaml_to_json("a: [1,\n  b: : :"));
        println!("{:?}", super::yaml_to_json("- a\n- b"));
        println!(
            "{:?}",
            super::yaml_to_json("a: &x [1]\nb: *x\nc: 2024-03-01\nd: 1h\ne: 010\nf: yes\ng: ~")
        );
    }
}
