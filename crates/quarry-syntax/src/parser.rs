//! The KQL parser: recursive descent for statements and operators, precedence climbing for
//! expressions.
//!
//! Entry points are [`parse`] (a whole query text: partial AST plus every diagnostic) and
//! [`parse_expr`] (one scalar expression, e.g. a `--param` value).
//!
//! Precedence, lowest to highest: `|` (pipe) < `or` < `and` < comparisons and string operators
//! (`==`, `!=`, `<>`, `<`, `<=`, `>`, `>=`, `=~`, `!~`, `has`, `contains_cs`, `!startswith`,
//! `matches regex`, `in`, `!in~`, `has_any`, `has_all`, `between`, ...) < `+ -` < `* / %` <
//! unary `- +` < postfix (`.name`, `[index]`, calls). All binary operators are left-associative.
//!
//! Keywords are contextual: `count`, `kind`, `title`, `type`, `time` (not followed by `(`) and
//! even `where` are valid column names wherever an operator keyword is not expected. Only
//! `and`, `or`, the string operator words (`has`, `contains`, `in`, `between`, ...) in operator
//! position, and `true`/`false` in operand position are reserved.
//!
//! The v1 operators live in this file; `mv-expand`, `mv-apply`, `render`, `parse`,
//! `parse-where`, `parse-kv`, `make-series`, `evaluate`, `invoke`, `lookup`, `search`, `find`,
//! `externaldata`, `top-nested`, `top-hitters`, `sample`, `sample-distinct`, `facet`,
//! `partition`, `fork`, `scan`, `reduce` and `declare query_parameters(...)` are in the
//! `operators` submodule. Subqueries with an implicit input (`mv-apply x on (where ...)`,
//! `fork (...)`, `partition by c (...)`, `facet ... with (...)`) parse their operators with the
//! same operator parser as a top-level pipeline. In a `search`/`find` predicate, `Col: "x"` is
//! accepted (as `Col has "x"`); anywhere, `*` directly before a string operator is an operand
//! (`* has "x"`: any column).
//!
//! # Error recovery
//!
//! Every error is a [`Diagnostic`] with a code and a span under the offending token (at end of
//! input, a zero-width span at the end). After an error inside a pipe operator the parser skips
//! to the next `|` or `;` at the same bracket depth and goes on, so one text can report several
//! errors; the failed operator is left out of the AST. A statement whose source (the part
//! before the first `|`) fails is left out. Nesting is capped ([`MAX_NESTING`] brackets/calls,
//! [`MAX_AST_DEPTH`] tree levels) so no input can overflow the stack.
//!
//! # Diagnostic codes
//!
//! | code | meaning |
//! |---|---|
//! | `KQL0001` | unexpected token: the message names what was expected and what was found |
//! | `KQL0002` | unterminated string literal or `datetime(`/`time(`/`guid(` literal |
//! | `KQL0003` | unknown or unsupported query operator or tabular source (with close names) |
//! | `KQL0004` | invalid literal: bad number, timespan, escape sequence, `int(...)`, `dynamic(...)` |
//! | `KQL0005` | unexpected character |
//! | `KQL0006` | expression nested too deeply |
//! | `KQL0007` | unsupported syntax (statements such as `declare pattern`, `alias`, method calls `a.f()`) |

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::{Token, TokenKind, TypedKind, lex, timespan_ticks};
use crate::span::Span;

mod operators;

/// Maximum nesting of brackets, calls, operators, function definitions and `dynamic` values
/// (one unit per level; an operator inside a parenthesised pipeline or a binary right operand
/// costs one more). Sized so the deepest accepted input needs well under 1 MiB of stack even in
/// debug builds.
pub const MAX_NESTING: usize = 128;
/// At most this many diagnostics are reported for one text (then a final "too many errors").
pub const MAX_DIAGNOSTICS: usize = 100;
/// Maximum depth of a statement's expression tree (long `or` chains and pipelines count).
pub const MAX_AST_DEPTH: usize = 1000;

/// A parsed text: the statements that parsed (partial when there were errors) and every diagnostic.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseResult {
    pub script: Script,
    pub diagnostics: Vec<Diagnostic>,
}

impl ParseResult {
    /// True when there is at least one error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == crate::diagnostic::Severity::Error)
    }
}

/// Parses a whole query text: `let`/`set` statements and query statements separated by `;`.
pub fn parse(source: &str) -> ParseResult {
    let lexed = lex(source);
    let mut p = Parser::new(source, lexed.tokens);
    let script = p.parse_script();
    let mut diagnostics = lexed.diagnostics;
    diagnostics.extend(p.diags);
    diagnostics.sort_by_key(|d| d.span.start);
    if diagnostics.len() > MAX_DIAGNOSTICS {
        diagnostics.truncate(MAX_DIAGNOSTICS);
        let end = Span::new(source.len(), source.len());
        diagnostics.push(Diagnostic::error(
            "KQL0001",
            format!("too many errors; only the first {MAX_DIAGNOSTICS} are shown"),
            end,
        ));
    }
    ParseResult {
        script,
        diagnostics,
    }
}

/// Parses one scalar expression (a `--param` value, a literal, `dynamic([...])`, ...).
pub fn parse_expr(source: &str) -> Result<Expr, Vec<Diagnostic>> {
    let lexed = lex(source);
    let mut p = Parser::new(source, lexed.tokens);
    let result = p.parse_or_expr();
    if result.is_ok() && !p.at(&TokenKind::Eof) {
        p.err_expected("end of input");
    }
    let mut diagnostics = lexed.diagnostics;
    diagnostics.extend(p.diags);
    match result {
        Ok(mut e) if diagnostics.is_empty() => {
            if expr_too_deep(&mut e) {
                let span = e.span;
                dispose(e);
                return Err(vec![too_deep_diag(span)]);
            }
            Ok(e)
        }
        Ok(e) => {
            dispose(e);
            diagnostics.sort_by_key(|d| d.span.start);
            Err(diagnostics)
        }
        Err(Fail) => {
            diagnostics.sort_by_key(|d| d.span.start);
            Err(diagnostics)
        }
    }
}

/// A consumed `(` whose `)` may have to be found during recovery.
struct OpenParen {
    span: Span,
    depth: u32,
}

/// A parse failure; the diagnostic has already been recorded.
#[derive(Debug)]
struct Fail;
type PResult<T> = Result<T, Fail>;

/// Query operators Quarry parses.
const SUPPORTED_OPERATORS: &[&str] = &[
    "where",
    "filter",
    "extend",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "summarize",
    "order",
    "sort",
    "take",
    "limit",
    "top",
    "distinct",
    "count",
    "union",
    "join",
    "as",
    "getschema",
    "serialize",
    "mv-expand",
    "mvexpand",
    "mv-apply",
    "render",
    "parse",
    "parse-where",
    "parse-kv",
    "make-series",
    "evaluate",
    "invoke",
    "lookup",
    "search",
    "top-nested",
    "sample",
    "sample-distinct",
    "facet",
    "partition",
    "fork",
    "scan",
    "reduce",
    "top-hitters",
    "project-by-names",
];

/// KQL operators that exist but Quarry does not support yet (for a better message).
const KNOWN_UNSUPPORTED: &[&str] = &[
    "find",
    "project-smart",
    "extend-with",
    "externaldata",
    "consume",
    "make-graph",
    "graph-match",
    "graph-to-table",
    "graph-merge",
    "macro-expand",
];

/// Binary operator precedence levels.
const PREC_OR: u8 = 1;
const PREC_AND: u8 = 2;
const PREC_CMP: u8 = 3;
const PREC_ADD: u8 = 4;
const PREC_MUL: u8 = 5;

#[derive(Debug, Clone, Copy)]
enum BinKind {
    Simple(BinaryOp),
    In { negated: bool, ci: bool },
    HasAnyAll { all: bool },
    Between { negated: bool },
}

fn string_op(word: &str, negated: bool) -> Option<StringOp> {
    let (base, cs) = match word {
        "containscs" => ("contains", true),
        "notcontains" => return string_op("contains", !negated),
        "notcontainscs" => return string_op("contains_cs", !negated),
        _ => match word.strip_suffix("_cs") {
            Some(b) => (b, true),
            None => (word, false),
        },
    };
    let kind = match base {
        "has" => StringOpKind::Has,
        "hasprefix" => StringOpKind::HasPrefix,
        "hassuffix" => StringOpKind::HasSuffix,
        "contains" => StringOpKind::Contains,
        "startswith" => StringOpKind::StartsWith,
        "endswith" => StringOpKind::EndsWith,
        _ => return None,
    };
    Some(StringOp {
        kind,
        negated,
        case_sensitive: cs,
    })
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    /// Bracket depth of each token (an opener and its closer share the outer depth).
    depths: Vec<u32>,
    /// Innermost open bracket around each token (`b'('`, `b'['`, `b'{'`, or 0).
    enclosing: Vec<u8>,
    pos: usize,
    diags: Vec<Diagnostic>,
    nesting: usize,
    too_deep_reported: bool,
    /// Inside a `search`/`find` predicate: `Col: "x"` is accepted (as `Col has "x"`).
    search_mode: bool,
    prev_end: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, mut toks: Vec<Token>) -> Parser<'a> {
        if toks.last().map(|t| &t.kind) != Some(&TokenKind::Eof) {
            toks.push(Token {
                kind: TokenKind::Eof,
                span: Span::new(src.len(), src.len()),
            });
        }
        let mut depths = Vec::with_capacity(toks.len());
        let mut enclosing = Vec::with_capacity(toks.len());
        let mut stack: Vec<u8> = Vec::new();
        for t in &toks {
            match t.kind {
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => {
                    depths.push(stack.len() as u32);
                    enclosing.push(stack.last().copied().unwrap_or(0));
                    stack.push(match t.kind {
                        TokenKind::LParen => b'(',
                        TokenKind::LBracket => b'[',
                        _ => b'{',
                    });
                }
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    stack.pop();
                    depths.push(stack.len() as u32);
                    enclosing.push(stack.last().copied().unwrap_or(0));
                }
                _ => {
                    depths.push(stack.len() as u32);
                    enclosing.push(stack.last().copied().unwrap_or(0));
                }
            }
        }
        Parser {
            src,
            toks,
            depths,
            enclosing,
            pos: 0,
            diags: Vec::new(),
            nesting: 0,
            too_deep_reported: false,
            search_mode: false,
            prev_end: 0,
        }
    }

    // ----- token access -------------------------------------------------------------------

    fn tok_at(&self, n: usize) -> &Token {
        let i = (self.pos + n).min(self.toks.len().saturating_sub(1));
        // `toks` always ends with Eof, so it is never empty.
        &self.toks[i]
    }

    fn kind(&self) -> &TokenKind {
        &self.tok_at(0).kind
    }

    fn kind_at(&self, n: usize) -> &TokenKind {
        &self.tok_at(n).kind
    }

    fn span(&self) -> Span {
        self.tok_at(0).span
    }

    fn depth(&self) -> u32 {
        self.depths.get(self.pos).copied().unwrap_or(0)
    }

    fn at(&self, k: &TokenKind) -> bool {
        self.kind() == k
    }

    fn at_word(&self, w: &str) -> bool {
        self.word_at(0, w)
    }

    fn word_at(&self, n: usize, w: &str) -> bool {
        matches!(self.kind_at(n), TokenKind::Ident(s) if s == w)
    }

    fn current_word(&self) -> Option<&str> {
        match self.kind() {
            TokenKind::Ident(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Consumes a `(` (the current token), remembering its depth for recovery.
    fn bump_open(&mut self) -> OpenParen {
        let depth = self.depth();
        let span = self.bump().span;
        OpenParen { span, depth }
    }

    fn bump(&mut self) -> Token {
        let t = self.tok_at(0).clone();
        if t.kind != TokenKind::Eof {
            self.pos += 1;
            self.prev_end = t.span.end as usize;
        }
        t
    }

    fn eat(&mut self, k: &TokenKind) -> bool {
        if self.at(k) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.at_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// True if token `n` (0 = the current token) starts right where the token before it ends
    /// (no whitespace or comment between).
    fn adjacent(&self, n: usize) -> bool {
        let i = self.pos + n;
        match (
            self.toks.get(i),
            i.checked_sub(1).and_then(|j| self.toks.get(j)),
        ) {
            (Some(t), Some(prev)) => t.kind != TokenKind::Eof && t.span.start == prev.span.end,
            _ => false,
        }
    }

    fn since(&self, start: Span) -> Span {
        Span::new(
            start.start as usize,
            self.prev_end.max(start.start as usize),
        )
    }

    // ----- diagnostics ----------------------------------------------------------------------

    fn describe(&self, t: &Token) -> String {
        match &t.kind {
            TokenKind::Eof => "end of input".to_string(),
            _ => {
                let text = t.span.text(self.src);
                let short: String = text.chars().take(32).collect();
                let short = short.replace('\n', " ");
                if short.len() < text.len() {
                    format!("`{short}...`")
                } else {
                    format!("`{short}`")
                }
            }
        }
    }

    fn prev_text(&self) -> Option<String> {
        if self.pos == 0 {
            return None;
        }
        let t = self.toks.get(self.pos - 1)?;
        let text = t.span.text(self.src);
        let short: String = text.chars().take(32).collect();
        Some(short.replace('\n', " "))
    }

    /// Records "expected {what}, found {current}" at the current token (unless the lexer already
    /// complained about it).
    fn err_expected(&mut self, what: &str) -> Fail {
        if self.at(&TokenKind::Error) {
            return Fail;
        }
        let found = self.describe(self.tok_at(0));
        let mut d = Diagnostic::error(
            "KQL0001",
            format!("expected {what}, found {found}"),
            self.span(),
        );
        if self.at(&TokenKind::Assign) {
            d = d.with_help(
                "use `==` to compare values; `=` only names a result (`extend x = ...`)",
            );
        }
        self.push_diag(d);
        Fail
    }

    /// Records "expected {what} after `{previous}`, found {current}".
    fn err_expected_after(&mut self, what: &str) -> Fail {
        match self.prev_text() {
            Some(prev) => self.err_expected(&format!("{what} after `{prev}`")),
            None => self.err_expected(what),
        }
    }

    fn expect(&mut self, k: TokenKind, what: &str) -> PResult<Span> {
        if self.at(&k) {
            Ok(self.bump().span)
        } else {
            Err(self.err_expected(what))
        }
    }

    /// Expects the `)` matching the `(` at `open`; on failure also labels the opener.
    fn expect_closing(&mut self, open: Span, what: &str) -> PResult<Span> {
        if self.at(&TokenKind::RParen) {
            return Ok(self.bump().span);
        }
        let n = self.diags.len();
        let f = self.err_expected(what);
        if self.diags.len() > n
            && let Some(d) = self.diags.last_mut()
        {
            d.labels.push(crate::diagnostic::Label {
                span: open,
                message: "unclosed `(`".into(),
            });
        }
        Err(f)
    }

    fn expect_word(&mut self, w: &str, context: &str) -> PResult<Span> {
        if self.at_word(w) {
            Ok(self.bump().span)
        } else {
            Err(self.err_expected(&format!("`{w}` {context}")))
        }
    }

    /// Records a diagnostic, up to [`MAX_DIAGNOSTICS`] per text.
    fn push_diag(&mut self, d: Diagnostic) {
        if self.diags.len() < MAX_DIAGNOSTICS {
            self.diags.push(d);
        }
    }

    fn enter(&mut self) -> PResult<()> {
        if self.nesting >= MAX_NESTING {
            if !self.too_deep_reported {
                self.too_deep_reported = true;
                self.push_diag(
                    Diagnostic::error(
                        "KQL0006",
                        format!("expression is nested too deeply (more than {MAX_NESTING} levels)"),
                        self.span(),
                    )
                    .with_label("nesting limit reached here"),
                );
            }
            return Err(Fail);
        }
        self.nesting += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    /// Skips tokens until a `;` (or, with `stop_at_pipe`, a `|`) at bracket depth `depth`, a closing
    /// bracket of an enclosing level, or the end.
    fn recover(&mut self, depth: u32, stop_at_pipe: bool) {
        loop {
            let d = self.depth();
            match self.kind() {
                TokenKind::Eof => break,
                _ if d < depth => break,
                TokenKind::Semi if d == depth => break,
                TokenKind::Pipe if stop_at_pipe && d == depth => break,
                _ => {
                    self.bump();
                }
            }
        }
    }

    fn closing_for_enclosing(&self) -> &'static str {
        match self.enclosing.get(self.pos).copied().unwrap_or(0) {
            b'(' => "`)`",
            b'[' => "`]`",
            b'{' => "`}`",
            _ => "end of input",
        }
    }

    // ----- identifiers --------------------------------------------------------------------

    /// How many tokens an identifier occupies at offset `n`: 1 for a word, 3 for `['quoted']`.
    fn ident_len_at(&self, n: usize) -> Option<usize> {
        match self.kind_at(n) {
            TokenKind::Ident(_) => Some(1),
            TokenKind::LBracket
                if matches!(self.kind_at(n + 1), TokenKind::String(_))
                    && self.kind_at(n + 2) == &TokenKind::RBracket =>
            {
                Some(3)
            }
            _ => None,
        }
    }

    fn parse_ident(&mut self, what: &str) -> PResult<Ident> {
        match self.ident_len_at(0) {
            Some(1) => {
                let t = self.bump();
                let name = match t.kind {
                    TokenKind::Ident(s) => s,
                    _ => String::new(),
                };
                Ok(Ident { name, span: t.span })
            }
            Some(_) => {
                let open = self.bump();
                let s = self.bump();
                let close = self.bump();
                let name = match s.kind {
                    TokenKind::String(s) => s,
                    _ => String::new(),
                };
                Ok(Ident {
                    name,
                    span: open.span.to(close.span),
                })
            }
            None => Err(self.err_expected_after(what)),
        }
    }

    /// `hint.strategy` style dotted names followed by `=`: returns the token count of the name.
    fn dotted_param_len(&self) -> Option<usize> {
        if !matches!(self.kind_at(0), TokenKind::Ident(_)) {
            return None;
        }
        let mut n = 1;
        while self.kind_at(n) == &TokenKind::Dot
            && matches!(self.kind_at(n + 1), TokenKind::Ident(_))
        {
            n += 2;
        }
        (self.kind_at(n) == &TokenKind::Assign).then_some(n)
    }

    fn parse_dotted_name(&mut self, n: usize) -> Ident {
        let start = self.span();
        let mut name = String::new();
        for _ in 0..n {
            let t = self.bump();
            match t.kind {
                TokenKind::Ident(s) => name.push_str(&s),
                TokenKind::Dot => name.push('.'),
                _ => {}
            }
        }
        Ident {
            name,
            span: self.since(start),
        }
    }

    /// Operator parameters `name=value` (`kind=inner`, `hint.strategy=shuffle`, `isfuzzy=true`).
    fn parse_op_params(&mut self, only_hints: bool) -> PResult<Vec<OpParam>> {
        let mut params = Vec::new();
        while let Some(n) = self.dotted_param_len() {
            if only_hints && !self.at_word("hint") {
                break;
            }
            let name = self.parse_dotted_name(n);
            self.bump(); // `=`
            let value = self.parse_param_value()?;
            params.push(OpParam { name, value });
        }
        Ok(params)
    }

    /// The value of `name=value`: a bare word is a name even when a `(` follows
    /// (`kind=inner (T)`), anything else a unary expression.
    fn parse_param_value(&mut self) -> PResult<Expr> {
        if let TokenKind::Ident(w) = self.kind() {
            let w = w.clone();
            let span = self.bump().span;
            let kind = match w.as_str() {
                "true" => ExprKind::Literal(Literal::Bool(Some(true))),
                "false" => ExprKind::Literal(Literal::Bool(Some(false))),
                _ => ExprKind::Name(Ident { name: w, span }),
            };
            return Ok(Expr { kind, span });
        }
        if matches!(
            self.kind(),
            TokenKind::String(_) | TokenKind::Long(_) | TokenKind::Real(_) | TokenKind::TimeSpan(_)
        ) {
            return self.parse_primary();
        }
        self.parse_unary()
    }

    // ----- statements -----------------------------------------------------------------------

    fn parse_script(&mut self) -> Script {
        let mut statements = Vec::new();
        let mut declarations = Vec::new();
        let mut block_starts = Vec::new();
        loop {
            while self.eat(&TokenKind::Semi) {}
            if self.at(&TokenKind::Eof) {
                break;
            }
            let start_pos = self.pos;
            if self.at_declare_query_parameters() {
                match self.parse_declare_query_parameters() {
                    Ok(d) => {
                        if !self.at(&TokenKind::Semi) && !self.at(&TokenKind::Eof) {
                            self.err_expected("`;` after the statement");
                            self.recover(0, false);
                        }
                        declarations.push(d);
                    }
                    Err(Fail) => self.recover(0, false),
                }
                continue;
            }
            match self.parse_statement() {
                Ok(mut stmt) => {
                    let block_break = matches!(stmt, Statement::Query(_)) && self.at_block_break();
                    if block_break {
                        block_starts.push(statements.len() + 1);
                    } else if !self.at(&TokenKind::Semi) && !self.at(&TokenKind::Eof) {
                        let what = match stmt {
                            Statement::Query(_) => "`|`, `;` or end of input",
                            _ => "`;` after the statement",
                        };
                        self.err_expected(what);
                        self.recover(0, false);
                    }
                    if statement_too_deep(&mut stmt) {
                        let span = statement_span(&stmt);
                        self.push_diag(too_deep_diag(span));
                        dispose_statement(stmt);
                    } else {
                        statements.push(stmt);
                    }
                }
                Err(Fail) => self.recover(0, false),
            }
            if self.pos == start_pos && !self.at(&TokenKind::Eof) && !self.at(&TokenKind::Semi) {
                // Never loop without progress (e.g. a stray `)` at the top level).
                self.bump();
            }
        }
        block_starts.retain(|&i| i < statements.len());
        Script {
            statements,
            declarations,
            block_starts,
        }
    }

    /// True at the top level when the current token starts a new query block: it is not `|`,
    /// `;` or the end, and a blank line (only spaces) separates it from the previous token.
    fn at_block_break(&self) -> bool {
        if self.depth() != 0
            || matches!(
                self.kind(),
                TokenKind::Pipe | TokenKind::Semi | TokenKind::Eof
            )
        {
            return false;
        }
        let start = self.span().start as usize;
        let Some(gap) = self.src.get(self.prev_end.min(start)..start) else {
            return false;
        };
        // Lines wholly inside the gap: not the rest of the previous token's line (first part)
        // nor the indentation before the current token (last part). Comments are in the gap.
        let parts: Vec<&str> = gap.split('\n').collect();
        parts.len() >= 3
            && parts[1..parts.len() - 1]
                .iter()
                .any(|l| l.trim().is_empty())
    }

    fn parse_statement(&mut self) -> PResult<Statement> {
        if self.at_word("let") && self.ident_len_at(1).is_some() {
            return Ok(Statement::Let(self.parse_let()?));
        }
        if self.at_word("set")
            && matches!(self.kind_at(1), TokenKind::Ident(_))
            && matches!(
                self.kind_at(2),
                TokenKind::Assign | TokenKind::Semi | TokenKind::Eof | TokenKind::Dot
            )
        {
            return self.parse_set();
        }
        if let Some(w) = self.current_word()
            && matches!(w, "declare" | "alias" | "restrict" | "pattern")
            && matches!(self.kind_at(1), TokenKind::Ident(_))
        {
            let msg = format!("the `{w}` statement is not supported");
            self.diags
                .push(Diagnostic::error("KQL0007", msg, self.span()));
            return Err(Fail);
        }
        Ok(Statement::Query(self.parse_pipe_expr()?))
    }

    fn parse_set(&mut self) -> PResult<Statement> {
        let start = self.bump().span;
        let mut n = 1;
        while self.kind_at(n) == &TokenKind::Dot
            && matches!(self.kind_at(n + 1), TokenKind::Ident(_))
        {
            n += 2;
        }
        let name = self.parse_dotted_name(n);
        let value = if self.eat(&TokenKind::Assign) {
            Some(self.parse_or_expr()?)
        } else {
            None
        };
        Ok(Statement::Set {
            name,
            value,
            span: self.since(start),
        })
    }

    fn parse_let(&mut self) -> PResult<LetStatement> {
        let start = self.bump().span; // `let`
        let name = self.parse_ident("a name after `let`")?;
        self.expect(TokenKind::Assign, &format!("`=` after `let {}`", name.name))?;
        let value = if self.at_function_def() {
            LetValue::Function(self.parse_function_def()?)
        } else if self.at_word("view") && self.kind_at(1) == &TokenKind::LParen {
            self.bump();
            LetValue::View(self.parse_function_def()?)
        } else {
            LetValue::Expr(self.parse_pipe_expr()?)
        };
        Ok(LetStatement {
            name,
            value,
            span: self.since(start),
        })
    }

    /// After `let x =`: `(` followed by `) {` or by `name :`.
    fn at_function_def(&self) -> bool {
        if !self.at(&TokenKind::LParen) {
            return false;
        }
        if self.kind_at(1) == &TokenKind::RParen {
            return self.kind_at(2) == &TokenKind::LBrace;
        }
        match self.ident_len_at(1) {
            Some(n) => self.kind_at(1 + n) == &TokenKind::Colon,
            None => false,
        }
    }

    fn parse_function_def(&mut self) -> PResult<FunctionDef> {
        self.enter()?;
        let r = self.parse_function_def_inner();
        self.leave();
        r
    }

    fn parse_function_def_inner(&mut self) -> PResult<FunctionDef> {
        let start = self.expect(TokenKind::LParen, "`(` to start the parameter list")?;
        let mut params = Vec::new();
        if !self.eat(&TokenKind::RParen) {
            loop {
                params.push(self.parse_param()?);
                if self.eat(&TokenKind::Comma) {
                    continue;
                }
                self.expect(TokenKind::RParen, "`,` or `)` in the parameter list")?;
                break;
            }
        }
        self.expect(TokenKind::LBrace, "`{` to start the function body")?;
        let mut body_lets = Vec::new();
        while self.at_word("let") && self.ident_len_at(1).is_some() {
            body_lets.push(self.parse_let()?);
            self.expect(TokenKind::Semi, "`;` after the `let` statement")?;
            while self.eat(&TokenKind::Semi) {}
        }
        let body = self.parse_pipe_expr()?;
        while self.eat(&TokenKind::Semi) {}
        self.expect(TokenKind::RBrace, "`}` to end the function body")?;
        Ok(FunctionDef {
            params,
            body_lets,
            body: Box::new(body),
            span: self.since(start),
        })
    }

    fn parse_param(&mut self) -> PResult<Param> {
        let name = self.parse_ident("a parameter name")?;
        self.expect(
            TokenKind::Colon,
            &format!("`:` and a type after parameter `{}`", name.name),
        )?;
        let ty = if self.at(&TokenKind::LParen) {
            self.bump();
            if self.eat(&TokenKind::Star) {
                self.expect(TokenKind::RParen, "`)` after `(*`")?;
                ParamType::Tabular(None)
            } else {
                let cols = self.parse_column_decls()?;
                ParamType::Tabular(Some(cols))
            }
        } else {
            ParamType::Scalar(self.parse_type_name()?)
        };
        let default = if self.eat(&TokenKind::Assign) {
            Some(self.parse_or_expr()?)
        } else {
            None
        };
        Ok(Param {
            span: self.since(name.span),
            name,
            ty,
            default,
        })
    }

    fn parse_type_name(&mut self) -> PResult<TypeName> {
        if let TokenKind::Ident(w) = self.kind()
            && let Some(ty) = ScalarType::from_name(w)
        {
            let span = self.bump().span;
            return Ok(TypeName { ty, span });
        }
        Err(self.err_expected("a type name (`string`, `long`, `int`, `real`, `bool`, `datetime`, `timespan`, `guid`, `decimal`, `dynamic`)"))
    }

    /// `name: type, ...)` — consumes the closing `)`, allows `*` as the last entry.
    fn parse_column_decls(&mut self) -> PResult<Vec<ColumnDecl>> {
        let mut cols = Vec::new();
        if self.eat(&TokenKind::RParen) {
            return Ok(cols);
        }
        loop {
            let name = self.parse_ident("a column name")?;
            self.expect(
                TokenKind::Colon,
                &format!("`:` and a type after column `{}`", name.name),
            )?;
            let ty = self.parse_type_name()?;
            cols.push(ColumnDecl { name, ty });
            if self.eat(&TokenKind::Comma) {
                continue;
            }
            self.expect(TokenKind::RParen, "`,` or `)` in the column list")?;
            return Ok(cols);
        }
    }

    // ----- pipelines ------------------------------------------------------------------------

    /// A tabular or scalar expression, possibly with `| operator`s.
    fn parse_pipe_expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.parse_pipe_expr_inner();
        self.leave();
        r
    }

    fn parse_pipe_expr_inner(&mut self) -> PResult<Expr> {
        let depth = self.depth();
        let input = match self.parse_source() {
            Ok(e) => Some(e),
            Err(Fail) => {
                self.recover(depth, true);
                None
            }
        };
        self.parse_pipe_ops(input, depth)
    }

    /// The `| operator` tail of a pipeline (kept apart so the recursive path stays small).
    #[inline(never)]
    fn parse_pipe_ops(&mut self, mut input: Option<Expr>, depth: u32) -> PResult<Expr> {
        while self.at(&TokenKind::Pipe) && self.depth() == depth {
            self.bump();
            match self.parse_pipe_op(depth) {
                Ok(op) => {
                    if let Some(inp) = input.take() {
                        input = Some(Expr {
                            span: inp.span.to(op.span),
                            kind: ExprKind::Pipe {
                                input: Box::new(inp),
                                op: Box::new(op),
                            },
                        });
                    }
                }
                Err(Fail) => self.recover(depth, true),
            }
        }
        input.ok_or(Fail)
    }

    /// True when the current token can end a pipeline element at `depth`.
    fn at_pipeline_end(&self, depth: u32) -> bool {
        match self.kind() {
            TokenKind::Pipe | TokenKind::Semi | TokenKind::Eof | TokenKind::Comma => true,
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => self.depth() < depth,
            _ => depth == 0 && self.at_block_break(),
        }
    }

    fn parse_pipe_op(&mut self, depth: u32) -> PResult<PipeOp> {
        // Operators sit on the recursive path (`where x in (T | where ...)`), so they count
        // against the nesting budget too.
        self.enter()?;
        let r = self.parse_pipe_op_inner(depth);
        self.leave();
        r
    }

    fn parse_pipe_op_inner(&mut self, depth: u32) -> PResult<PipeOp> {
        let start = self.span();
        let Some(name) = self.parse_operator_name() else {
            return Err(self.err_expected("a query operator after `|`"));
        };
        let kind = self.dispatch_operator(&name, start, depth)?;
        let span = self.since(start);
        if !self.at_pipeline_end(depth) {
            return Err(self.err_after_operator(depth, &name));
        }
        Ok(PipeOp { kind, span })
    }

    fn dispatch_operator(&mut self, name: &str, start: Span, depth: u32) -> PResult<PipeOpKind> {
        match name {
            "where" | "filter" => self.op_where(depth),
            "extend" => self.parse_named_list().map(PipeOpKind::Extend),
            "project" => self.parse_named_list().map(PipeOpKind::Project),
            "project-away" => self.parse_pattern_list().map(PipeOpKind::ProjectAway),
            "project-keep" => self.parse_pattern_list().map(PipeOpKind::ProjectKeep),
            "project-rename" => self.op_project_rename(),
            "project-reorder" => self.op_project_reorder(),
            "summarize" => self.op_summarize(depth),
            "order" | "sort" => self.op_sort(name),
            "take" | "limit" => self.op_take(depth),
            "top" => self.op_top(depth),
            "distinct" => self.op_distinct(),
            "count" => Ok(PipeOpKind::Count),
            "getschema" => Ok(PipeOpKind::GetSchema),
            "serialize" => self.op_serialize(depth),
            "union" => self.parse_union_spec().map(PipeOpKind::Union),
            "as" => self.op_as(),
            "join" => self.op_join(depth),
            _ => self.dispatch_more_operators(name, start, depth),
        }
    }

    /// Operators added after v1 (see [`operators`]).
    fn dispatch_more_operators(
        &mut self,
        name: &str,
        start: Span,
        depth: u32,
    ) -> PResult<PipeOpKind> {
        match name {
            "mv-expand" | "mvexpand" => self.op_mv_expand(),
            "mv-apply" | "mvapply" => self.op_mv_apply(),
            "render" => self.op_render(depth),
            "parse" => self.op_parse(depth, name).map(PipeOpKind::Parse),
            "parse-where" => self.op_parse(depth, name).map(PipeOpKind::ParseWhere),
            "parse-kv" => self.op_parse_kv(),
            "make-series" => self.op_make_series(),
            "evaluate" => self.parse_evaluate_spec().map(PipeOpKind::Evaluate),
            "invoke" => self.op_invoke(),
            "lookup" => self.op_lookup(depth),
            "search" => self.parse_search_spec().map(PipeOpKind::Search),
            "top-nested" => self.op_top_nested(),
            "sample" => self.op_sample(depth),
            "sample-distinct" => self.op_sample_distinct(),
            "facet" => self.op_facet(),
            "partition" => self.op_partition(),
            "fork" => self.op_fork(),
            "scan" => self.op_scan(),
            "reduce" => self.op_reduce(),
            "top-hitters" => self.op_top_hitters(),
            "project-by-names" => self.op_project_by_names(),
            _ => {
                let name_span = self.since(start);
                self.unknown_operator(name, name_span);
                Err(Fail)
            }
        }
    }

    /// The operator word after `|`, with hyphenated parts joined (`project-away`, `mv-expand`:
    /// written without spaces).
    #[inline(never)]
    fn parse_operator_name(&mut self) -> Option<String> {
        let mut name = self.current_word()?.to_string();
        self.bump();
        while self.at(&TokenKind::Minus)
            && self.adjacent(0)
            && matches!(self.kind_at(1), TokenKind::Ident(_))
            && self.adjacent(1)
        {
            self.bump();
            if let TokenKind::Ident(w) = self.bump().kind {
                name.push('-');
                name.push_str(&w);
            }
        }
        Some(name)
    }

    #[cold]
    #[inline(never)]
    fn err_after_operator(&mut self, depth: u32, name: &str) -> Fail {
        let what = if depth == 0 {
            "`|`, `;` or end of input".to_string()
        } else {
            format!("`|` or {}", self.closing_for_enclosing())
        };
        let n = self.diags.len();
        let f = self.err_expected(&format!("{what} after the `{name}` operator"));
        // A name or `let` at the start of a line: most likely a second query without `;`.
        let cur = self.span();
        let new_line = self
            .src
            .get(self.prev_end..cur.start as usize)
            .is_some_and(|gap| gap.contains('\n'));
        if new_line
            && matches!(self.kind(), TokenKind::Ident(_))
            && self.diags.len() > n
            && let Some(d) = self.diags.last_mut()
        {
            d.help = Some("if a new query starts here, end the previous statement with `;`".into());
        }
        f
    }

    #[inline(never)]
    fn op_where(&mut self, depth: u32) -> PResult<PipeOpKind> {
        if self.at_pipeline_end(depth) {
            return Err(self.err_expected_after("a predicate"));
        }
        Ok(PipeOpKind::Where(self.parse_or_expr()?))
    }

    #[inline(never)]
    fn op_project_rename(&mut self) -> PResult<PipeOpKind> {
        let mut pairs = Vec::new();
        loop {
            let new = self.parse_ident("a new column name")?;
            if !self.eat(&TokenKind::Assign) {
                return Err(self.err_expected(&format!("`=` after `{}` (`new = old`)", new.name)));
            }
            let old = self.parse_ident("an existing column name")?;
            pairs.push((new, old));
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(PipeOpKind::ProjectRename(pairs))
    }

    #[inline(never)]
    fn op_project_reorder(&mut self) -> PResult<PipeOpKind> {
        let mut cols = Vec::new();
        loop {
            let pat = self.parse_column_pattern()?;
            let dir = self.parse_reorder_direction();
            cols.push((pat, dir));
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(PipeOpKind::ProjectReorder(cols))
    }

    #[inline(never)]
    fn op_summarize(&mut self, depth: u32) -> PResult<PipeOpKind> {
        let params = self.parse_op_params(true)?;
        let aggregates = if self.at_word("by") || self.at_pipeline_end(depth) {
            Vec::new()
        } else {
            self.parse_named_list()?
        };
        let by = if self.eat_word("by") {
            self.parse_named_list()?
        } else {
            Vec::new()
        };
        if aggregates.is_empty() && by.is_empty() {
            return Err(self.err_expected_after("an aggregate or `by`"));
        }
        Ok(PipeOpKind::Summarize {
            params,
            aggregates,
            by,
        })
    }

    #[inline(never)]
    fn op_sort(&mut self, name: &str) -> PResult<PipeOpKind> {
        self.parse_op_params(true)?;
        self.expect_word("by", &format!("after `{name}`"))?;
        let mut keys = Vec::new();
        loop {
            keys.push(self.parse_sort_key()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(PipeOpKind::Sort(keys))
    }

    #[inline(never)]
    fn op_take(&mut self, depth: u32) -> PResult<PipeOpKind> {
        self.parse_op_params(true)?;
        if self.at_pipeline_end(depth) {
            return Err(self.err_expected_after("a row count"));
        }
        Ok(PipeOpKind::Take(self.parse_or_expr()?))
    }

    #[inline(never)]
    fn op_top(&mut self, depth: u32) -> PResult<PipeOpKind> {
        self.parse_op_params(true)?;
        if self.at_pipeline_end(depth) {
            return Err(self.err_expected_after("a row count"));
        }
        let count = self.parse_or_expr()?;
        self.expect_word("by", "after the row count of `top`")?;
        let key = self.parse_sort_key()?;
        Ok(PipeOpKind::Top { count, key })
    }

    #[inline(never)]
    fn op_distinct(&mut self) -> PResult<PipeOpKind> {
        self.parse_op_params(true)?;
        if self.eat(&TokenKind::Star) {
            return Ok(PipeOpKind::Distinct {
                columns: Vec::new(),
                all: true,
            });
        }
        let mut columns = Vec::new();
        loop {
            columns.push(self.parse_or_expr()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(PipeOpKind::Distinct {
            columns,
            all: false,
        })
    }

    #[inline(never)]
    fn op_serialize(&mut self, depth: u32) -> PResult<PipeOpKind> {
        if self.at_pipeline_end(depth) {
            Ok(PipeOpKind::Serialize(Vec::new()))
        } else {
            Ok(PipeOpKind::Serialize(self.parse_named_list()?))
        }
    }

    #[inline(never)]
    fn op_as(&mut self) -> PResult<PipeOpKind> {
        self.parse_op_params(false)?;
        Ok(PipeOpKind::As(self.parse_ident("a name after `as`")?))
    }

    #[inline(never)]
    fn op_join(&mut self, depth: u32) -> PResult<PipeOpKind> {
        let params = self.parse_op_params(false)?;
        if self.at_word("on") || self.at_pipeline_end(depth) {
            return Err(self.err_expected_after("the right-hand table of `join`"));
        }
        let right = self.parse_postfix()?;
        self.expect_word("on", "after the right-hand table of `join`")?;
        let mut on = Vec::new();
        loop {
            let e = self.parse_or_expr()?;
            self.join_conditions(e, &mut on)?;
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(PipeOpKind::Join { params, right, on })
    }

    fn unknown_operator(&mut self, name: &str, span: Span) {
        let mut d = Diagnostic::error(
            "KQL0003",
            format!("unknown or unsupported query operator `{name}`"),
            span,
        );
        if KNOWN_UNSUPPORTED.contains(&name) {
            d = d.with_help(format!(
                "`{name}` is a KQL operator that Quarry does not support yet"
            ));
        } else {
            let close: Vec<&str> = SUPPORTED_OPERATORS
                .iter()
                .copied()
                .filter(|op| edit_distance(op, name) <= 2)
                .collect();
            match close.as_slice() {
                [] => {}
                [one] => d = d.with_help(format!("did you mean `{one}`?")),
                many => {
                    let list: Vec<String> = many.iter().map(|s| format!("`{s}`")).collect();
                    d = d.with_help(format!("did you mean one of {}?", list.join(", ")));
                }
            }
        }
        self.push_diag(d);
    }

    fn join_conditions(&mut self, e: Expr, out: &mut Vec<JoinCondition>) -> PResult<()> {
        match e.kind {
            ExprKind::Paren(inner) => self.join_conditions(*inner, out),
            ExprKind::Binary {
                op: BinaryOp::And,
                left,
                right,
            } => {
                self.join_conditions(*left, out)?;
                self.join_conditions(*right, out)
            }
            ExprKind::Binary {
                op: BinaryOp::Eq,
                left,
                right,
            } => {
                out.push(JoinCondition::Equal {
                    left: *left,
                    right: *right,
                });
                Ok(())
            }
            ExprKind::Name(id) => {
                out.push(JoinCondition::Column(id));
                Ok(())
            }
            _ => {
                self.push_diag(
                    Diagnostic::error(
                        "KQL0001",
                        "expected a column name or `$left.column == $right.column` in the `join` condition",
                        e.span,
                    )
                    .with_help("join on a shared column (`on Id`) or on equality (`on $left.a == $right.b`)"),
                );
                Err(Fail)
            }
        }
    }

    fn parse_reorder_direction(&mut self) -> Option<SortDirection> {
        if self.eat_word("asc") {
            return Some(SortDirection::Asc);
        }
        if self.eat_word("desc") {
            return Some(SortDirection::Desc);
        }
        if self.at_word("granny")
            && self.kind_at(1) == &TokenKind::Minus
            && self.adjacent(1)
            && self.adjacent(2)
        {
            let dir = if self.word_at(2, "asc") {
                SortDirection::Asc
            } else if self.word_at(2, "desc") {
                SortDirection::Desc
            } else {
                return None;
            };
            self.bump();
            self.bump();
            self.bump();
            return Some(dir);
        }
        None
    }

    fn parse_sort_key(&mut self) -> PResult<SortKey> {
        let expr = self.parse_or_expr()?;
        let direction = if self.eat_word("asc") {
            Some(SortDirection::Asc)
        } else if self.eat_word("desc") {
            Some(SortDirection::Desc)
        } else {
            None
        };
        let nulls_first = if self.eat_word("nulls") {
            if self.eat_word("first") {
                Some(true)
            } else if self.eat_word("last") {
                Some(false)
            } else {
                return Err(self.err_expected("`first` or `last` after `nulls`"));
            }
        } else {
            None
        };
        Ok(SortKey {
            expr,
            direction,
            nulls_first,
        })
    }

    fn parse_pattern_list(&mut self) -> PResult<Vec<ColumnPattern>> {
        let mut pats = Vec::new();
        loop {
            pats.push(self.parse_column_pattern()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(pats)
    }

    /// A column name, possibly with `*` wildcards written without spaces (`Initiating*`, `*Id`).
    fn parse_column_pattern(&mut self) -> PResult<ColumnPattern> {
        if self.ident_len_at(0) == Some(3) {
            let id = self.parse_ident("a column name")?;
            return Ok(ColumnPattern {
                pattern: id.name,
                span: id.span,
            });
        }
        if !matches!(self.kind(), TokenKind::Ident(_) | TokenKind::Star) {
            return Err(self.err_expected_after("a column name or pattern"));
        }
        let start = self.span();
        let mut pattern = String::new();
        loop {
            match self.kind() {
                TokenKind::Ident(w) => pattern.push_str(w),
                TokenKind::Star => pattern.push('*'),
                TokenKind::Long(_) if !pattern.is_empty() => {
                    pattern.push_str(self.span().text(self.src));
                }
                _ => break,
            }
            self.bump();
            if !self.adjacent(0) {
                break;
            }
        }
        Ok(ColumnPattern {
            pattern,
            span: self.since(start),
        })
    }

    fn parse_named_list(&mut self) -> PResult<Vec<NamedExpr>> {
        let mut items = Vec::new();
        loop {
            items.push(self.parse_named_expr()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(items)
    }

    /// `name = expr`, `(a, b) = expr` or `expr`.
    fn parse_named_expr(&mut self) -> PResult<NamedExpr> {
        let start = self.span();
        let mut names = Vec::new();
        if let Some(n) = self.ident_len_at(0)
            && self.kind_at(n) == &TokenKind::Assign
        {
            names.push(self.parse_ident("a name")?);
            self.bump(); // `=`
        } else if let Some(n) = self.tuple_names_len() {
            self.bump(); // `(`
            loop {
                names.push(self.parse_ident("a name")?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
            self.expect(TokenKind::RParen, "`)` after the names")?;
            let _ = n;
            self.bump(); // `=`
        }
        if self.at_pipeline_end(u32::MAX) || self.at_word("by") && names.is_empty() {
            return Err(self.err_expected_after("an expression"));
        }
        let expr = self.parse_or_expr()?;
        Ok(NamedExpr {
            names,
            expr,
            span: self.since(start),
        })
    }

    /// `(a, b) =`: the token count up to and including `)`.
    fn tuple_names_len(&self) -> Option<usize> {
        if !self.at(&TokenKind::LParen) {
            return None;
        }
        let mut n = 1;
        loop {
            n += self.ident_len_at(n)?;
            match self.kind_at(n) {
                TokenKind::Comma => n += 1,
                TokenKind::RParen => {
                    return (self.kind_at(n + 1) == &TokenKind::Assign).then_some(n + 1);
                }
                _ => return None,
            }
        }
    }

    // ----- tabular sources ------------------------------------------------------------------

    fn parse_source(&mut self) -> PResult<Expr> {
        if let Some(r) = self.keyword_source() {
            return r;
        }
        self.parse_or_expr()
    }

    /// `print`, `range`, `datatable`, `union` (and unsupported sources) at the start of a
    /// pipeline; `None` when the current token does not start one.
    #[inline(never)]
    fn keyword_source(&mut self) -> Option<PResult<Expr>> {
        let w = self.current_word()?;
        Some(match w {
            "print" => self.parse_print(),
            "range"
                if self
                    .ident_len_at(1)
                    .is_some_and(|n| self.word_at(1 + n, "from")) =>
            {
                self.parse_range()
            }
            "datatable" if self.kind_at(1) == &TokenKind::LParen => self.parse_datatable(),
            "union"
                if !matches!(
                    self.kind_at(1),
                    TokenKind::Pipe
                        | TokenKind::Semi
                        | TokenKind::Eof
                        | TokenKind::RParen
                        | TokenKind::Comma
                ) =>
            {
                let start = self.bump().span;
                self.parse_union_spec().map(|spec| Expr {
                    kind: ExprKind::Union(spec),
                    span: self.since(start),
                })
            }
            "externaldata" if self.kind_at(1) == &TokenKind::LParen => self.parse_externaldata(),
            "evaluate" if matches!(self.kind_at(1), TokenKind::Ident(_)) => {
                let start = self.bump().span;
                self.parse_evaluate_spec().map(|spec| Expr {
                    kind: ExprKind::Evaluate(Box::new(spec)),
                    span: self.since(start),
                })
            }
            "search"
                if matches!(
                    self.kind_at(1),
                    TokenKind::Ident(_) | TokenKind::String(_) | TokenKind::Star
                ) =>
            {
                let start = self.bump().span;
                self.parse_search_spec().map(|spec| Expr {
                    kind: ExprKind::Search(Box::new(spec)),
                    span: self.since(start),
                })
            }
            "find"
                if self.word_at(1, "in")
                    || self.word_at(1, "where")
                    || self.word_at(1, "withsource")
                    || self.word_at(1, "hint")
                    || (self.ident_len_at(1).is_some()
                        && !matches!(
                            self.kind_at(1 + self.ident_len_at(1).unwrap_or(1)),
                            TokenKind::Pipe
                                | TokenKind::Semi
                                | TokenKind::Eof
                                | TokenKind::RParen
                                | TokenKind::Comma
                                | TokenKind::Dot
                                | TokenKind::LBracket
                        )) =>
            {
                self.parse_find()
            }
            _ => return None,
        })
    }

    fn parse_print(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        let items = if self.at_pipeline_end(u32::MAX) {
            return Err(self.err_expected_after("an expression"));
        } else {
            self.parse_named_list()?
        };
        Ok(Expr {
            kind: ExprKind::Print(items),
            span: self.since(start),
        })
    }

    fn parse_range(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        let column = self.parse_ident("a column name after `range`")?;
        self.expect_word("from", "after the column name of `range`")?;
        let from = self.parse_or_expr()?;
        self.expect_word("to", "in `range x from a to b step s`")?;
        let to = self.parse_or_expr()?;
        self.expect_word("step", "in `range x from a to b step s`")?;
        let step = self.parse_or_expr()?;
        Ok(Expr {
            kind: ExprKind::Range {
                column,
                from: Box::new(from),
                to: Box::new(to),
                step: Box::new(step),
            },
            span: self.since(start),
        })
    }

    fn parse_datatable(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        self.expect(TokenKind::LParen, "`(` after `datatable`")?;
        let columns = self.parse_column_decls()?;
        self.expect(TokenKind::LBracket, "`[` and the values of the `datatable`")?;
        let mut values = Vec::new();
        while !self.at(&TokenKind::RBracket) {
            values.push(self.parse_or_expr()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(TokenKind::RBracket, "`,` or `]` in the `datatable` values")?;
        Ok(Expr {
            kind: ExprKind::Datatable { columns, values },
            span: self.since(start),
        })
    }

    fn parse_union_spec(&mut self) -> PResult<UnionSpec> {
        let params = self.parse_op_params(false)?;
        let mut tables = Vec::new();
        loop {
            tables.push(self.parse_table_item()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(UnionSpec { params, tables })
    }

    /// One table of `union`, `search in (...)`, `find in (...)`: a name pattern with `*`
    /// wildcards (kept as [`ExprKind::Name`]) or a postfix expression.
    fn parse_table_item(&mut self) -> PResult<Expr> {
        let wildcard = self.at(&TokenKind::Star)
            || (matches!(self.kind(), TokenKind::Ident(_))
                && self.kind_at(1) == &TokenKind::Star
                && self.adjacent(1));
        if wildcard {
            let pat = self.parse_column_pattern()?;
            Ok(Expr {
                kind: ExprKind::Name(Ident {
                    name: pat.pattern,
                    span: pat.span,
                }),
                span: pat.span,
            })
        } else if self.at_pipeline_end(u32::MAX) {
            Err(self.err_expected_after("a table"))
        } else {
            self.parse_postfix()
        }
    }

    // ----- expressions ----------------------------------------------------------------------

    fn parse_or_expr(&mut self) -> PResult<Expr> {
        self.parse_binary(PREC_OR)
    }

    fn peek_binop(&self) -> Option<(BinKind, u8, usize)> {
        use BinaryOp as B;
        let simple = |op, prec| Some((BinKind::Simple(op), prec, 1));
        match self.kind() {
            TokenKind::EqEq => simple(B::Eq, PREC_CMP),
            TokenKind::NotEq | TokenKind::LtGt => simple(B::NotEq, PREC_CMP),
            TokenKind::Lt => simple(B::Lt, PREC_CMP),
            TokenKind::Le => simple(B::Le, PREC_CMP),
            TokenKind::Gt => simple(B::Gt, PREC_CMP),
            TokenKind::Ge => simple(B::Ge, PREC_CMP),
            TokenKind::EqTilde => simple(B::EqTilde, PREC_CMP),
            TokenKind::NotTilde => simple(B::NotEqTilde, PREC_CMP),
            TokenKind::Plus => simple(B::Add, PREC_ADD),
            TokenKind::Minus => simple(B::Sub, PREC_ADD),
            TokenKind::Star => simple(B::Mul, PREC_MUL),
            TokenKind::Slash => simple(B::Div, PREC_MUL),
            TokenKind::Percent => simple(B::Mod, PREC_MUL),
            // `Col: "x"` in a `search`/`find` predicate means `Col has "x"`.
            TokenKind::Colon if self.search_mode => simple(
                B::Str(StringOp {
                    kind: StringOpKind::Has,
                    negated: false,
                    case_sensitive: false,
                }),
                PREC_CMP,
            ),
            TokenKind::InTilde => Some((
                BinKind::In {
                    negated: false,
                    ci: true,
                },
                PREC_CMP,
                1,
            )),
            TokenKind::NotInTilde => Some((
                BinKind::In {
                    negated: true,
                    ci: true,
                },
                PREC_CMP,
                1,
            )),
            TokenKind::Ident(w) => match w.as_str() {
                "or" => simple(B::Or, PREC_OR),
                "and" => simple(B::And, PREC_AND),
                "in" => Some((
                    BinKind::In {
                        negated: false,
                        ci: false,
                    },
                    PREC_CMP,
                    1,
                )),
                "has_any" => Some((BinKind::HasAnyAll { all: false }, PREC_CMP, 1)),
                "has_all" => Some((BinKind::HasAnyAll { all: true }, PREC_CMP, 1)),
                "between" => Some((BinKind::Between { negated: false }, PREC_CMP, 1)),
                "matches" if self.word_at(1, "regex") => {
                    Some((BinKind::Simple(B::MatchesRegex), PREC_CMP, 2))
                }
                w => string_op(w, false).map(|op| (BinKind::Simple(B::Str(op)), PREC_CMP, 1)),
            },
            TokenKind::BangWord(w) => match w.as_str() {
                "in" => Some((
                    BinKind::In {
                        negated: true,
                        ci: false,
                    },
                    PREC_CMP,
                    1,
                )),
                "between" => Some((BinKind::Between { negated: true }, PREC_CMP, 1)),
                w => string_op(w, true).map(|op| (BinKind::Simple(B::Str(op)), PREC_CMP, 1)),
            },
            _ => None,
        }
    }

    fn parse_binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut left = self.parse_unary()?;
        loop {
            let Some((op, prec, ntok)) = self.peek_binop() else {
                if matches!(self.kind(), TokenKind::BangWord(_)) {
                    return Err(self.err_unknown_bang_operator());
                }
                return Ok(left);
            };
            if prec < min_prec {
                return Ok(left);
            }
            for _ in 0..ntok {
                self.bump();
            }
            left = self.apply_binop(left, op, prec)?;
        }
    }

    #[cold]
    #[inline(never)]
    fn err_unknown_bang_operator(&mut self) -> Fail {
        let msg = format!("unknown operator `{}`", self.span().text(self.src));
        self.push_diag(
            Diagnostic::error("KQL0001", msg, self.span())
                .with_help("negated operators are `!=`, `!~`, `!has`, `!contains`, `!startswith`, `!endswith`, `!hasprefix`, `!hassuffix`, `!in`, `!in~`, `!between` (and `_cs` forms)"),
        );
        Fail
    }

    /// Parses the right side of `op` (already consumed) and builds the node.
    #[inline(never)]
    fn apply_binop(&mut self, left: Expr, op: BinKind, prec: u8) -> PResult<Expr> {
        self.enter()?;
        let r = self.apply_binop_inner(left, op, prec);
        self.leave();
        r
    }

    fn apply_binop_inner(&mut self, left: Expr, op: BinKind, prec: u8) -> PResult<Expr> {
        Ok(match op {
            BinKind::Simple(op) => {
                let right = self.parse_binary(prec + 1)?;
                Expr {
                    span: left.span.to(right.span),
                    kind: ExprKind::Binary {
                        op,
                        left: Box::new(left),
                        right: Box::new(right),
                    },
                }
            }
            BinKind::In { negated, ci } => {
                let list = self.parse_paren_list()?;
                Expr {
                    span: self.since(left.span),
                    kind: ExprKind::In {
                        operand: Box::new(left),
                        list,
                        negated,
                        case_insensitive: ci,
                    },
                }
            }
            BinKind::HasAnyAll { all } => {
                let list = self.parse_paren_list()?;
                Expr {
                    span: self.since(left.span),
                    kind: ExprKind::HasAnyAll {
                        operand: Box::new(left),
                        list,
                        all,
                    },
                }
            }
            BinKind::Between { negated } => {
                let (low, high) = self.parse_between_range()?;
                Expr {
                    span: self.since(left.span),
                    kind: ExprKind::Between {
                        operand: Box::new(left),
                        low: Box::new(low),
                        high: Box::new(high),
                        negated,
                    },
                }
            }
        })
    }

    /// `(low .. high)` after `between`.
    #[inline(never)]
    fn parse_between_range(&mut self) -> PResult<(Expr, Expr)> {
        let open = self.span();
        self.expect(
            TokenKind::LParen,
            "`(` after `between` (`between (low .. high)`)",
        )?;
        let low = self.parse_or_expr()?;
        self.expect(TokenKind::DotDot, "`..` in `between (low .. high)`")?;
        let high = self.parse_or_expr()?;
        self.expect_closing(open, "`)` after `between (low .. high`")?;
        Ok((low, high))
    }

    /// `(a, b, ...)` after `in`/`has_any`; elements may be tabular expressions.
    fn parse_paren_list(&mut self) -> PResult<Vec<Expr>> {
        if !self.at(&TokenKind::LParen) {
            return Err(self.err_expected_after("`(` and a list"));
        }
        self.bump();
        let mut list = Vec::new();
        if self.eat(&TokenKind::RParen) {
            return Ok(list);
        }
        loop {
            list.push(self.parse_pipe_expr()?);
            if self.eat(&TokenKind::Comma) {
                continue;
            }
            self.expect(TokenKind::RParen, "`,` or `)` in the list")?;
            return Ok(list);
        }
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        if !matches!(self.kind(), TokenKind::Minus | TokenKind::Plus) {
            return self.parse_postfix();
        }
        self.parse_unary_ops()
    }

    /// `-x`, `+x`, `- -x`; `-` directly before a number folds into a negative literal.
    #[inline(never)]
    fn parse_unary_ops(&mut self) -> PResult<Expr> {
        let mut ops: Vec<(UnaryOp, Span)> = Vec::new();
        loop {
            let op = match self.kind() {
                TokenKind::Minus => UnaryOp::Neg,
                TokenKind::Plus => UnaryOp::Plus,
                _ => break,
            };
            let numeric_next = matches!(
                self.kind_at(1),
                TokenKind::Long(_) | TokenKind::Real(_) | TokenKind::TimeSpan(_)
            );
            if op == UnaryOp::Neg && numeric_next {
                break;
            }
            ops.push((op, self.bump().span));
        }
        let mut e = if self.at(&TokenKind::Minus) {
            let lit = self.negative_literal();
            self.parse_postfix_tail(lit)?
        } else {
            self.parse_postfix()?
        };
        while let Some((op, span)) = ops.pop() {
            e = Expr {
                span: span.to(e.span),
                kind: ExprKind::Unary {
                    op,
                    operand: Box::new(e),
                },
            };
        }
        Ok(e)
    }

    /// `-` followed by a number token.
    fn negative_literal(&mut self) -> Expr {
        let minus = self.bump().span;
        let t = self.bump();
        let span = minus.to(t.span);
        let lit = match t.kind {
            TokenKind::Long(v) => Literal::Long(Some((v as i128).wrapping_neg() as i64)),
            TokenKind::Real(v) => Literal::Real(Some(-v)),
            TokenKind::TimeSpan(v) => Literal::TimeSpan(Some(v.saturating_neg())),
            _ => Literal::Long(None),
        };
        Expr {
            kind: ExprKind::Literal(lit),
            span,
        }
    }

    fn parse_postfix(&mut self) -> PResult<Expr> {
        let e = self.parse_primary()?;
        self.parse_postfix_tail(e)
    }

    fn parse_postfix_tail(&mut self, mut e: Expr) -> PResult<Expr> {
        loop {
            match self.kind() {
                TokenKind::Dot
                    if self.kind_at(1) == &TokenKind::LBracket
                        && self.ident_len_at(1).is_none() =>
                {
                    // `x.[0]`: same as `x[0]`.
                    self.bump();
                }
                TokenKind::Dot => {
                    self.bump();
                    let name = self.parse_ident("a name")?;
                    e = Expr {
                        span: e.span.to(name.span),
                        kind: ExprKind::Member {
                            object: Box::new(e),
                            name,
                        },
                    };
                    if self.at(&TokenKind::LParen) {
                        self.push_diag(Diagnostic::error(
                            "KQL0007",
                            "calling a function on a value (`x.f()`) is not supported",
                            self.span(),
                        ));
                        return Err(Fail);
                    }
                }
                TokenKind::LBracket => {
                    self.bump();
                    let index = self.parse_pipe_expr()?;
                    self.expect(TokenKind::RBracket, "`]` after the index")?;
                    e = Expr {
                        span: self.since(e.span),
                        kind: ExprKind::Index {
                            object: Box::new(e),
                            index: Box::new(index),
                        },
                    };
                }
                _ => return Ok(e),
            }
        }
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        match self.kind() {
            TokenKind::Ident(_) if self.kind_at(1) == &TokenKind::LParen => self.parse_call(),
            TokenKind::LParen => self.parse_paren(),
            _ => self.parse_atom(),
        }
    }

    /// `( pipe-expr )`.
    fn parse_paren(&mut self) -> PResult<Expr> {
        let open = self.bump().span;
        let inner = self.parse_pipe_expr()?;
        self.expect_closing(open, "`)`")?;
        Ok(Expr {
            kind: ExprKind::Paren(Box::new(inner)),
            span: self.since(open),
        })
    }

    /// Literals, names, and errors: the non-recursive primaries.
    #[inline(never)]
    fn parse_atom(&mut self) -> PResult<Expr> {
        let span = self.span();
        let lit = |l: Literal, span: Span| {
            Ok(Expr {
                kind: ExprKind::Literal(l),
                span,
            })
        };
        match self.kind().clone() {
            TokenKind::Long(v) => {
                self.bump();
                match i64::try_from(v) {
                    Ok(v) => lit(Literal::Long(Some(v)), span),
                    Err(_) => {
                        self.push_diag(Diagnostic::error(
                            "KQL0004",
                            "integer literal is out of range for `long`",
                            span,
                        ));
                        lit(Literal::Long(None), span)
                    }
                }
            }
            TokenKind::Real(v) => {
                self.bump();
                lit(Literal::Real(Some(v)), span)
            }
            TokenKind::TimeSpan(v) => {
                self.bump();
                lit(Literal::TimeSpan(Some(v)), span)
            }
            TokenKind::String(_) => {
                let (s, span) = self.parse_strings();
                lit(Literal::String(s), span)
            }
            TokenKind::Typed { kind, raw } => {
                self.bump();
                let l = self.typed_literal(kind, &raw, span);
                lit(l, span)
            }
            TokenKind::Ident(w) => {
                self.bump();
                match w.as_str() {
                    "true" => lit(Literal::Bool(Some(true)), span),
                    "false" => lit(Literal::Bool(Some(false)), span),
                    _ => Ok(Expr {
                        kind: ExprKind::Name(Ident { name: w, span }),
                        span,
                    }),
                }
            }
            // `* has "x"`: any column (a `where`/`search` form).
            TokenKind::Star if self.star_operand_next() => {
                self.bump();
                Ok(Expr {
                    kind: ExprKind::Star,
                    span,
                })
            }
            TokenKind::LBracket if self.ident_len_at(0).is_some() => {
                let id = self.parse_ident("a name")?;
                Ok(Expr {
                    span: id.span,
                    kind: ExprKind::Name(id),
                })
            }
            TokenKind::Error => {
                // Already reported by the lexer: stand in a null so later errors still show.
                self.bump();
                lit(Literal::Long(None), span)
            }
            TokenKind::BangWord(_) => {
                let f = self.err_expected_after("an expression");
                if let Some(d) = self.diags.last_mut() {
                    d.help = Some("for logical negation use `not(expr)`".into());
                }
                Err(f)
            }
            _ => Err(self.err_expected_after("an expression")),
        }
    }

    /// One or more adjacent string literals, concatenated.
    fn parse_strings(&mut self) -> (String, Span) {
        let start = self.span();
        let mut s = String::new();
        while let TokenKind::String(part) = self.kind() {
            s.push_str(part);
            self.bump();
        }
        (s, self.since(start))
    }

    fn typed_literal(&mut self, kind: TypedKind, raw: &str, span: Span) -> Literal {
        let is_null = raw == "null";
        match kind {
            TypedKind::DateTime | TypedKind::Guid => {
                let value = (!is_null).then(|| raw.to_string());
                if raw.is_empty() {
                    let what = if kind == TypedKind::Guid {
                        "guid"
                    } else {
                        "datetime"
                    };
                    self.push_diag(Diagnostic::error(
                        "KQL0004",
                        format!("empty `{what}()` literal"),
                        span,
                    ));
                }
                if kind == TypedKind::Guid {
                    Literal::Guid(value)
                } else {
                    Literal::DateTime(value)
                }
            }
            TypedKind::TimeSpan => match parse_timespan_text(raw) {
                Ok(v) => Literal::TimeSpan(v),
                Err(()) => {
                    self.push_diag(
                        Diagnostic::error(
                            "KQL0004",
                            format!("invalid timespan literal `{raw}`"),
                            span,
                        )
                        .with_help("write e.g. `time(1h)`, `time(2d)`, `time(15 seconds)` or `time(1.02:03:04.5)`"),
                    );
                    Literal::TimeSpan(None)
                }
            },
        }
    }

    fn parse_call(&mut self) -> PResult<Expr> {
        let name_tok = self.bump();
        let name = match name_tok.kind {
            TokenKind::Ident(s) => s,
            _ => String::new(),
        };
        let open = self.bump_open(); // `(`
        let kind = match name.as_str() {
            "int" | "long" | "real" | "double" | "bool" | "boolean" | "decimal" => {
                ExprKind::Literal(self.literal_ctor(&name, open))
            }
            "dynamic" => ExprKind::Literal(Literal::Dynamic(self.parse_dynamic_contents(open)?)),
            "typeof" => ExprKind::TypeOf(self.parse_typeof()?),
            _ => {
                let args = self.parse_args(&name, open.span)?;
                ExprKind::Call {
                    name: Ident {
                        name,
                        span: name_tok.span,
                    },
                    args,
                }
            }
        };
        Ok(Expr {
            kind,
            span: self.since(name_tok.span),
        })
    }

    #[inline(never)]
    fn parse_typeof(&mut self) -> PResult<TypeName> {
        let ty = self.parse_type_name()?;
        self.expect(TokenKind::RParen, "`)` after the type in `typeof(...)`")?;
        Ok(ty)
    }

    /// Arguments after `name(`, through the closing `)`.
    fn parse_args(&mut self, name: &str, open: Span) -> PResult<Vec<Arg>> {
        let mut args = Vec::new();
        if self.eat(&TokenKind::RParen) {
            return Ok(args);
        }
        loop {
            args.push(self.parse_arg()?);
            if self.eat(&TokenKind::Comma) {
                continue;
            }
            if self.at(&TokenKind::RParen) {
                self.bump();
                return Ok(args);
            }
            return Err(self.err_in_args(name, open));
        }
    }

    #[cold]
    #[inline(never)]
    fn err_in_args(&mut self, name: &str, open: Span) -> Fail {
        match self.expect_closing(open, &format!("`,` or `)` in the arguments of `{name}`")) {
            Ok(_) => Fail,
            Err(f) => f,
        }
    }

    /// One argument: `*`, `name = value` or `value`.
    fn parse_arg(&mut self) -> PResult<Arg> {
        if self.at(&TokenKind::Star)
            && matches!(self.kind_at(1), TokenKind::Comma | TokenKind::RParen)
        {
            let span = self.bump().span;
            return Ok(Arg {
                name: None,
                value: Expr {
                    kind: ExprKind::Star,
                    span,
                },
            });
        }
        let name = match self.ident_len_at(0) {
            Some(n) if self.kind_at(n) == &TokenKind::Assign => {
                let id = self.parse_ident("an argument name")?;
                self.bump(); // `=`
                Some(id)
            }
            _ => None,
        };
        let value = self.parse_pipe_expr()?;
        Ok(Arg { name, value })
    }

    /// Skips to the `)` that closes `open` (consuming it).
    fn skip_to_close(&mut self, open: &OpenParen) {
        // An opener and its closer share the same depth.
        let open_depth = open.depth;
        loop {
            match self.kind() {
                TokenKind::Eof => return,
                TokenKind::RParen if self.depth() == open_depth => {
                    self.bump();
                    return;
                }
                _ if self.depth() < open_depth => return,
                _ => {
                    self.bump();
                }
            }
        }
    }

    /// `int(5)`, `long(null)`, `real(+inf)`, `bool(true)`, `decimal(1.5)` after the `(`.
    fn literal_ctor(&mut self, name: &str, open: OpenParen) -> Literal {
        let null = |name: &str| match name {
            "int" => Literal::Int(None),
            "long" => Literal::Long(None),
            "real" | "double" => Literal::Real(None),
            "bool" | "boolean" => Literal::Bool(None),
            _ => Literal::Decimal(None),
        };
        let inner_start = self.span();
        let value = self.literal_ctor_value(name);
        match value {
            Some(l) if self.at(&TokenKind::RParen) => {
                self.bump();
                l
            }
            _ => {
                if !self.at(&TokenKind::Error) {
                    let found = self.describe(self.tok_at(0));
                    let expected = match name {
                        "int" | "long" => "an integer or `null`",
                        "real" | "double" => "a number, `nan`, `+inf`, `-inf` or `null`",
                        "bool" | "boolean" => "`true`, `false` or `null`",
                        _ => "a number or `null`",
                    };
                    let msg =
                        format!("invalid `{name}` literal: expected {expected}, found {found}");
                    self.push_diag(Diagnostic::error(
                        "KQL0004",
                        msg,
                        self.span().to(inner_start),
                    ));
                }
                self.skip_to_close(&open);
                null(name)
            }
        }
    }

    fn literal_ctor_value(&mut self, name: &str) -> Option<Literal> {
        if self.at_word("null") {
            self.bump();
            return Some(match name {
                "int" => Literal::Int(None),
                "long" => Literal::Long(None),
                "real" | "double" => Literal::Real(None),
                "bool" | "boolean" => Literal::Bool(None),
                _ => Literal::Decimal(None),
            });
        }
        if matches!(name, "bool" | "boolean") {
            let v = if self.at_word("true") {
                true
            } else if self.at_word("false") {
                false
            } else {
                return None;
            };
            self.bump();
            return Some(Literal::Bool(Some(v)));
        }
        let start = self.span();
        let neg = match self.kind() {
            TokenKind::Minus => {
                self.bump();
                true
            }
            TokenKind::Plus => {
                self.bump();
                false
            }
            _ => false,
        };
        match (name, self.kind().clone()) {
            ("int", TokenKind::Long(v)) => {
                // A hex literal is a bit pattern: `int(0xf090013d)` wraps to a negative int.
                let hex = self.span().text(self.src).starts_with("0x")
                    || self.span().text(self.src).starts_with("0X");
                let v = if neg { -(v as i128) } else { v as i128 };
                let v = match i32::try_from(v) {
                    Ok(v) => v,
                    Err(_) if hex && (0..=u32::MAX as i128).contains(&v) => v as u32 as i32,
                    Err(_) => return None,
                };
                self.bump();
                Some(Literal::Int(Some(v)))
            }
            ("long", TokenKind::Long(v)) => {
                let v = if neg { -(v as i128) } else { v as i128 };
                let v = i64::try_from(v).ok()?;
                self.bump();
                Some(Literal::Long(Some(v)))
            }
            ("real" | "double", TokenKind::Long(v)) => {
                self.bump();
                let v = v as f64;
                Some(Literal::Real(Some(if neg { -v } else { v })))
            }
            ("real" | "double", TokenKind::Real(v)) => {
                self.bump();
                Some(Literal::Real(Some(if neg { -v } else { v })))
            }
            ("real" | "double", TokenKind::Ident(w)) if w == "nan" || w == "inf" => {
                self.bump();
                let v = if w == "nan" { f64::NAN } else { f64::INFINITY };
                Some(Literal::Real(Some(if neg { -v } else { v })))
            }
            ("decimal", TokenKind::Long(_) | TokenKind::Real(_)) => {
                self.bump();
                let text = self
                    .since(start)
                    .text(self.src)
                    .replace(char::is_whitespace, "");
                Some(Literal::Decimal(Some(text)))
            }
            _ => None,
        }
    }

    /// `dynamic(` already consumed: a constant, then `)`.
    fn parse_dynamic_contents(&mut self, open: OpenParen) -> PResult<DynamicLiteral> {
        match self.parse_dynamic_value() {
            Ok(d) => {
                if self.at(&TokenKind::RParen) {
                    self.bump();
                    Ok(d)
                } else {
                    Err(self.err_expected("`)` to close `dynamic(`"))
                }
            }
            Err(Fail) => {
                // Reported already; skip the rest of the constant and go on with a null.
                self.skip_to_close(&open);
                Ok(DynamicLiteral::Null)
            }
        }
    }

    fn parse_dynamic_value(&mut self) -> PResult<DynamicLiteral> {
        self.enter()?;
        let r = self.parse_dynamic_value_inner();
        self.leave();
        r
    }

    fn parse_dynamic_value_inner(&mut self) -> PResult<DynamicLiteral> {
        let neg = match self.kind() {
            TokenKind::Minus => {
                self.bump();
                true
            }
            TokenKind::Plus => {
                self.bump();
                false
            }
            _ => false,
        };
        let span = self.span();
        match self.kind().clone() {
            TokenKind::Long(v) => {
                self.bump();
                let v = if neg { -(v as i128) } else { v as i128 };
                match i64::try_from(v) {
                    Ok(v) => Ok(DynamicLiteral::Long(v)),
                    Err(_) => Ok(DynamicLiteral::Real(v as f64)),
                }
            }
            TokenKind::Real(v) => {
                self.bump();
                Ok(DynamicLiteral::Real(if neg { -v } else { v }))
            }
            TokenKind::TimeSpan(v) => {
                self.bump();
                Ok(DynamicLiteral::TimeSpan(if neg {
                    v.saturating_neg()
                } else {
                    v
                }))
            }
            _ if neg => Err(self.err_expected_after("a number")),
            TokenKind::String(_) => Ok(DynamicLiteral::String(self.parse_strings().0)),
            TokenKind::Typed { kind, raw } => {
                self.bump();
                Ok(match self.typed_literal(kind, &raw, span) {
                    Literal::DateTime(Some(s)) => DynamicLiteral::DateTime(s),
                    Literal::Guid(Some(s)) => DynamicLiteral::String(s),
                    Literal::TimeSpan(Some(t)) => DynamicLiteral::TimeSpan(t),
                    _ => DynamicLiteral::Null,
                })
            }
            TokenKind::Ident(w) => match w.as_str() {
                "null" => {
                    self.bump();
                    Ok(DynamicLiteral::Null)
                }
                "true" | "false" => {
                    self.bump();
                    Ok(DynamicLiteral::Bool(w == "true"))
                }
                "dynamic" if self.kind_at(1) == &TokenKind::LParen => {
                    self.bump();
                    let open = self.bump_open();
                    self.parse_dynamic_contents(open)
                }
                _ => Err(self.dynamic_error()),
            },
            TokenKind::LBracket => {
                self.bump();
                let mut items = Vec::new();
                while !self.at(&TokenKind::RBracket) {
                    items.push(self.parse_dynamic_value()?);
                    if !self.eat(&TokenKind::Comma) {
                        break;
                    }
                }
                self.expect(TokenKind::RBracket, "`,` or `]` in the dynamic array")?;
                Ok(DynamicLiteral::Array(items))
            }
            TokenKind::LBrace => {
                self.bump();
                let mut entries = Vec::new();
                while !self.at(&TokenKind::RBrace) {
                    let key = match self.kind().clone() {
                        TokenKind::String(_) => self.parse_strings().0,
                        TokenKind::Ident(w) => {
                            self.bump();
                            w
                        }
                        _ => return Err(self.err_expected("a property name in the dynamic object")),
                    };
                    self.expect(TokenKind::Colon, "`:` after the property name")?;
                    let value = self.parse_dynamic_value()?;
                    entries.push((key, value));
                    if !self.eat(&TokenKind::Comma) {
                        break;
                    }
                }
                self.expect(TokenKind::RBrace, "`,` or `}` in the dynamic object")?;
                Ok(DynamicLiteral::Object(entries))
            }
            TokenKind::Error => Err(Fail),
            _ => Err(self.dynamic_error()),
        }
    }

    fn dynamic_error(&mut self) -> Fail {
        if self.at(&TokenKind::Error) {
            return Fail;
        }
        let found = self.describe(self.tok_at(0));
        self.push_diag(
            Diagnostic::error(
                "KQL0004",
                format!("expected a constant in `dynamic(...)` (a number, string, `true`, `false`, `null`, `[...]` or `{{...}}`), found {found}"),
                self.span(),
            )
            .with_help("`dynamic(...)` holds constants only; build values from columns with `pack_array(...)` or `bag_pack(...)`"),
        );
        Fail
    }
}

/// Parses the inside of `time(...)` / `timespan(...)`: `null`, `1h`, `15 seconds`, `2` (days),
/// or `[-][d.]hh:mm[:ss[.fffffff]]`. Returns ticks.
pub(crate) fn parse_timespan_text(raw: &str) -> Result<Option<i64>, ()> {
    let s = raw.trim();
    if s == "null" {
        return Ok(None);
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, s.strip_prefix('+').unwrap_or(s).trim_start()),
    };
    let ticks = if body.contains(':') {
        clock_ticks(body).ok_or(())?
    } else {
        let num_end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (num, unit) = body.split_at(num_end);
        if num.is_empty() || num.starts_with('.') && num.len() == 1 {
            return Err(());
        }
        let unit = unit.trim();
        let unit = if unit.is_empty() { "d" } else { unit };
        timespan_ticks(num, unit).ok_or(())?
    };
    Ok(Some(if neg {
        ticks.checked_neg().ok_or(())?
    } else {
        ticks
    }))
}

/// `[d.]hh:mm[:ss[.fffffff]]` to ticks.
fn clock_ticks(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split(':').collect();
    let (first, minutes, seconds) = match parts.as_slice() {
        [a, b] => (*a, *b, None),
        [a, b, c] => (*a, *b, Some(*c)),
        _ => return None,
    };
    let digits = |t: &str| -> Option<i64> {
        if t.is_empty() || t.len() > 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (days, hours) = match first.split_once('.') {
        Some((d, h)) => (digits(d)?, digits(h)?),
        None => (0, digits(first)?),
    };
    let minutes = digits(minutes)?;
    let (secs, frac) = match seconds {
        None => (0, 0),
        Some(sec) => match sec.split_once('.') {
            Some((s, f)) => {
                if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let mut f7: String = f.chars().take(7).collect();
                while f7.len() < 7 {
                    f7.push('0');
                }
                (digits(s)?, f7.parse::<i64>().ok()?)
            }
            None => (digits(sec)?, 0),
        },
    };
    let total = (days as i128) * 864_000_000_000
        + (hours as i128) * 36_000_000_000
        + (minutes as i128) * 600_000_000
        + (secs as i128) * 10_000_000
        + frac as i128;
    i64::try_from(total).ok()
}

/// Levenshtein distance (small strings only).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

// ----- depth limiting and iterative disposal ----------------------------------------------------

fn too_deep_diag(span: Span) -> Diagnostic {
    Diagnostic::error(
        "KQL0006",
        format!("expression is nested too deeply (more than {MAX_AST_DEPTH} levels)"),
        Span::new(span.start as usize, span.start as usize),
    )
    .with_help("split long `and`/`or` chains or pipelines with `let` statements")
}

/// Mutable references to the direct child expressions of `e`.
fn children_mut<'a>(e: &'a mut Expr, out: &mut Vec<&'a mut Expr>) {
    e.push_children_mut(out);
}

/// Root expressions of a statement (function bodies included, recursively; function nesting
/// is bounded by [`MAX_NESTING`]).
fn statement_roots_mut<'a>(stmt: &'a mut Statement, out: &mut Vec<&'a mut Expr>) {
    fn let_roots<'a>(l: &'a mut LetStatement, out: &mut Vec<&'a mut Expr>) {
        match &mut l.value {
            LetValue::Expr(e) => out.push(e),
            LetValue::Function(f) | LetValue::View(f) => {
                for p in &mut f.params {
                    if let Some(d) = &mut p.default {
                        out.push(d);
                    }
                }
                for bl in &mut f.body_lets {
                    let_roots(bl, out);
                }
                out.push(&mut f.body);
            }
        }
    }
    match stmt {
        Statement::Let(l) => let_roots(l, out),
        Statement::Query(e) => out.push(e),
        Statement::Set { value, .. } => {
            if let Some(v) = value {
                out.push(v);
            }
        }
    }
}

fn expr_too_deep(root: &mut Expr) -> bool {
    let mut stack: Vec<(&mut Expr, usize)> = vec![(root, 1)];
    let mut kids = Vec::new();
    while let Some((e, d)) = stack.pop() {
        if d > MAX_AST_DEPTH {
            return true;
        }
        children_mut(e, &mut kids);
        stack.extend(kids.drain(..).map(|k| (k, d + 1)));
    }
    false
}

fn statement_too_deep(stmt: &mut Statement) -> bool {
    let mut roots = Vec::new();
    statement_roots_mut(stmt, &mut roots);
    roots.into_iter().any(expr_too_deep)
}

fn statement_span(stmt: &Statement) -> Span {
    match stmt {
        Statement::Let(l) => l.span,
        Statement::Query(e) => e.span,
        Statement::Set { span, .. } => *span,
    }
}

/// Drops an expression tree without recursion (for trees too deep to drop recursively).
fn dispose(root: Expr) {
    let mut stack = vec![root];
    while let Some(mut e) = stack.pop() {
        let mut kids = Vec::new();
        children_mut(&mut e, &mut kids);
        for k in kids {
            stack.push(std::mem::replace(
                k,
                Expr {
                    kind: ExprKind::Star,
                    span: Span::default(),
                },
            ));
        }
    }
}

fn dispose_statement(mut stmt: Statement) {
    let mut roots = Vec::new();
    statement_roots_mut(&mut stmt, &mut roots);
    let owned: Vec<Expr> = roots
        .into_iter()
        .map(|r| {
            std::mem::replace(
                r,
                Expr {
                    kind: ExprKind::Star,
                    span: Span::default(),
                },
            )
        })
        .collect();
    for e in owned {
        dispose(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespan_text() {
        assert_eq!(parse_timespan_text("1h"), Ok(Some(36_000_000_000)));
        assert_eq!(parse_timespan_text("15 seconds"), Ok(Some(150_000_000)));
        assert_eq!(parse_timespan_text("2"), Ok(Some(1_728_000_000_000)));
        assert_eq!(parse_timespan_text("00:01:00"), Ok(Some(600_000_000)));
        assert_eq!(
            parse_timespan_text("1.02:03:04.5"),
            Ok(Some(
                864_000_000_000 + 2 * 36_000_000_000 + 3 * 600_000_000 + 4 * 10_000_000 + 5_000_000
            ))
        );
        assert_eq!(parse_timespan_text("-0:30"), Ok(Some(-18_000_000_000)));
        assert_eq!(parse_timespan_text("null"), Ok(None));
        assert_eq!(parse_timespan_text("abc"), Err(()));
        assert_eq!(parse_timespan_text("1:2:3:4"), Err(()));
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("where", "wher"), 1);
        assert_eq!(edit_distance("project", "porject"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
