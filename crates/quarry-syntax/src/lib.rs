//! KQL syntax: lexer, parser and AST with byte spans, plus the diagnostics type every stage uses.
//!
//! This crate has no execution dependencies, so its tests build in seconds. The parser is
//! hand-written recursive descent with precedence climbing for expressions; it never panics,
//! reports errors with a code and a span, and recovers at the next `|` or `;` so that several
//! errors are reported at once.
//!
//! ```
//! let result = quarry_syntax::parse("T | where x > 5 | take 10");
//! assert!(result.diagnostics.is_empty());
//! assert_eq!(result.script.statements.len(), 1);
//! ```

pub mod ast;
pub mod diagnostic;
pub mod dump;
pub mod lexer;
pub mod parser;
pub mod span;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use dump::{dump_expr, dump_script};
pub use parser::{ParseResult, parse, parse_expr};
pub use span::Span;
