//! Fuzz the KQL parser: any UTF-8 text must parse (with or without diagnostics) without
//! panicking or overflowing the stack, and rendering the diagnostics and dumping the AST must
//! not panic either.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run parse -- -max_total_time=120`

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let result = quarry_syntax::parse(src);
        for d in &result.diagnostics {
            let _ = d.render("fuzz.kql", src);
        }
        let _ = quarry_syntax::dump_script(&result.script);
        let _ = quarry_syntax::parse_expr(src);
    }
});
