//! The KQL lexer: source text to tokens with byte spans.
//!
//! Hand-written, single pass, never panics. Comments (`// ...` to end of line) and whitespace are
//! skipped. Problems (unterminated strings, bad escapes, stray characters) are reported as
//! [`Diagnostic`]s; the lexer always produces a token stream ending in [`TokenKind::Eof`], using
//! [`TokenKind::Error`] where nothing sensible could be produced, so the parser can go on and
//! report later errors too. Codes used here: `KQL0002` (unterminated literal), `KQL0004`
//! (invalid literal), `KQL0005` (unexpected character). See the table in [`crate::parser`].
//!
//! A few KQL forms are decided here because they need raw text:
//!
//! * `datetime(...)`, `time(...)`, `timespan(...)` and `guid(...)` (the keyword immediately
//!   followed, after optional whitespace, by `(`) become one [`TokenKind::Typed`] token holding
//!   the raw text between the parentheses, so `datetime(2015-12-31 23:59:59.9)` survives.
//! * A number immediately followed by a unit (`1.5h`, `30s`, `100ms`, `2d`) is a
//!   [`TokenKind::TimeSpan`] in 100 ns ticks.
//! * `!has`, `!contains_cs`, `!in`, `!between`, ... are one [`TokenKind::BangWord`] token;
//!   `in~` and `!in~` are [`TokenKind::InTilde`] / [`TokenKind::NotInTilde`].
//!
//! Bracket-quoted names (`['My Col']`) are *not* folded here: `[` then a string then `]` is
//! ambiguous with indexing (`x['key']`), so the parser decides by position.

use crate::diagnostic::Diagnostic;
use crate::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// Which typed literal a [`TokenKind::Typed`] token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypedKind {
    /// `datetime(...)`.
    DateTime,
    /// `time(...)` / `timespan(...)`.
    TimeSpan,
    /// `guid(...)`.
    Guid,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A bare word: identifier or contextual keyword (`where`, `and`, `has`, ...). May start with `$`.
    Ident(String),
    /// Any string literal form, already unescaped. Adjacent literals are separate tokens.
    String(String),
    /// An integer literal (decimal or hex). Kept unsigned so `-9223372036854775808` can be folded.
    Long(u64),
    Real(f64),
    /// A timespan literal (`1h`, `1.5d`) in 100 ns ticks.
    TimeSpan(i64),
    /// `datetime(...)`, `time(...)`, `timespan(...)`, `guid(...)`: the raw text between the parens.
    Typed {
        kind: TypedKind,
        raw: String,
    },
    /// `!` immediately followed by a word: `!has`, `!in`, `!between`, `!contains_cs`...
    BangWord(String),
    /// `in~`.
    InTilde,
    /// `!in~`.
    NotInTilde,
    Pipe,
    Semi,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Dot,
    DotDot,
    Colon,
    /// `=`.
    Assign,
    /// `==`.
    EqEq,
    /// `!=`.
    NotEq,
    /// `<>`.
    LtGt,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=~`.
    EqTilde,
    /// `!~`.
    NotTilde,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// `=>`.
    FatArrow,
    /// Something the lexer already reported; the parser stays quiet about it.
    Error,
    Eof,
}

impl TokenKind {
    /// True for tokens after which `.5` is member access (`x.5`) rather than the number `0.5`.
    fn ends_operand(&self) -> bool {
        matches!(
            self,
            TokenKind::Ident(_) | TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace
        )
    }
}

/// The result of lexing: tokens (always ending with `Eof`) and diagnostics.
#[derive(Debug, Clone)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Lexes `source` into tokens.
pub fn lex(source: &str) -> Lexed {
    let mut lx = Lexer {
        src: source,
        pos: 0,
        tokens: Vec::new(),
        diags: Vec::new(),
        last_recorded: false,
    };
    lx.run();
    let end = source.len();
    lx.tokens.push(Token {
        kind: TokenKind::Eof,
        span: Span::new(end, end),
    });
    Lexed {
        tokens: lx.tokens,
        diagnostics: lx.diags,
    }
}

/// 100 ns ticks per unit, as a rational `num / den`.
fn unit_ticks(unit: &str) -> Option<(i128, i128)> {
    Some(match unit {
        "d" | "day" | "days" => (864_000_000_000, 1),
        "h" | "hr" | "hrs" | "hour" | "hours" => (36_000_000_000, 1),
        "m" | "min" | "minute" | "minutes" => (600_000_000, 1),
        "s" | "sec" | "second" | "seconds" => (10_000_000, 1),
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => (10_000, 1),
        "microsecond" | "microseconds" => (10, 1),
        "tick" | "ticks" => (1, 1),
        "nanosecond" | "nanoseconds" => (1, 100),
        _ => return None,
    })
}

/// Converts `number unit` (number as written, e.g. `1.5`) to ticks. `None` on overflow/bad text.
pub(crate) fn timespan_ticks(number: &str, unit: &str) -> Option<i64> {
    let (num, den) = unit_ticks(unit)?;
    if number.bytes().all(|b| b.is_ascii_digit()) && !number.is_empty() {
        let n: i128 = number.parse().ok()?;
        let t = n.checked_mul(num)? / den;
        i64::try_from(t).ok()
    } else {
        let v: f64 = number.parse().ok()?;
        let t = (v * num as f64 / den as f64).round();
        if t.is_finite() && t.abs() < 9.2e18 {
            Some(t as i64)
        } else {
            None
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    diags: Vec<Diagnostic>,
    /// Whether the latest `error` was recorded (not dropped by the cap), for `diags_last_help`.
    last_recorded: bool,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && c.is_alphabetic())
}

fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (!c.is_ascii() && c.is_alphanumeric())
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.src
            .get(self.pos + offset..)
            .and_then(|s| s.chars().next())
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, self.pos),
        });
    }

    fn error(&mut self, code: &str, msg: impl Into<String>, start: usize, end: usize) {
        // Bounded: a megabyte of garbage must not become a million diagnostics.
        self.last_recorded = self.diags.len() <= crate::parser::MAX_DIAGNOSTICS;
        if self.last_recorded {
            self.diags
                .push(Diagnostic::error(code, msg, Span::new(start, end)));
        }
    }

    /// True when a `.` at `self.pos` continues the previous token (`x.5`, `f().5`) rather than
    /// starting a number (`print .5`, `x > .5`).
    fn prev_ends_operand(&self) -> bool {
        self.tokens
            .last()
            .is_some_and(|t| t.kind.ends_operand() && t.span.end as usize == self.pos)
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            let start = self.pos;
            if c.is_whitespace() {
                self.pos += c.len_utf8();
                continue;
            }
            if self.rest().starts_with("//") {
                match self.rest().find('\n') {
                    Some(i) => self.pos += i,
                    None => self.pos = self.src.len(),
                }
                continue;
            }
            match c {
                'h' | 'H'
                    if matches!(self.peek_at(1), Some('"' | '\''))
                        || (self.peek_at(1) == Some('@')
                            && matches!(self.peek_at(2), Some('"' | '\''))) =>
                {
                    // Obfuscated string: same value, the `h` only hides it from logs.
                    self.pos += 1;
                    if self.peek() == Some('@') {
                        self.pos += 1;
                        self.verbatim_string(start);
                    } else {
                        self.string(start);
                    }
                }
                c if is_ident_start(c)
                    || (c == '$' && self.peek_at(1).is_some_and(is_ident_start)) =>
                {
                    self.word(start)
                }
                '0'..='9' => self.number(start),
                '.' if self.peek_at(1).is_some_and(|c| c.is_ascii_digit())
                    && !self.prev_ends_operand() =>
                {
                    self.number(start)
                }
                '"' | '\'' => self.string(start),
                '@' if matches!(self.peek_at(1), Some('"' | '\'')) => {
                    self.pos += 1;
                    self.verbatim_string(start);
                }
                '`' if self.rest().starts_with("```") => self.multiline_string(start),
                '!' => self.bang(start),
                _ => self.punct(start, c),
            }
        }
    }

    fn word(&mut self, start: usize) {
        if self.peek() == Some('$') {
            self.pos += 1;
        }
        while let Some(c) = self.peek() {
            if is_ident_continue(c) {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        let text = self.src.get(start..self.pos).unwrap_or("");
        match text {
            "in" if self.peek() == Some('~') => {
                self.pos += 1;
                self.push(TokenKind::InTilde, start);
            }
            "datetime" | "time" | "timespan" | "guid" => {
                let kind = match text {
                    "datetime" => TypedKind::DateTime,
                    "guid" => TypedKind::Guid,
                    _ => TypedKind::TimeSpan,
                };
                // Optional whitespace, then `(`.
                let after = self.rest();
                let ws = after.len() - after.trim_start().len();
                if after.get(ws..).is_some_and(|s| s.starts_with('(')) {
                    self.pos += ws + 1;
                    self.typed_raw(start, text, kind);
                } else {
                    self.push(TokenKind::Ident(text.to_string()), start);
                }
            }
            _ => self.push(TokenKind::Ident(text.to_string()), start),
        }
    }

    /// After `datetime(`: raw text up to the matching `)`.
    fn typed_raw(&mut self, start: usize, keyword: &str, kind: TypedKind) {
        let inner_start = self.pos;
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    let raw = self.src.get(inner_start..self.pos).unwrap_or("");
                    let raw = raw.trim().to_string();
                    self.pos += 1;
                    self.push(TokenKind::Typed { kind, raw }, start);
                    return;
                }
                ')' => depth -= 1,
                '\n' | '|' | ';' => break,
                _ => {}
            }
            self.pos += c.len_utf8();
        }
        self.error(
            "KQL0002",
            format!("unterminated `{keyword}(` literal: expected `)`"),
            start,
            self.pos,
        );
        self.push(TokenKind::Error, start);
    }

    fn number(&mut self, start: usize) {
        let bytes = self.src.as_bytes();
        let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
        // Hex.
        if at(self.pos) == b'0'
            && matches!(at(self.pos + 1), b'x' | b'X')
            && at(self.pos + 2).is_ascii_hexdigit()
        {
            self.pos += 2;
            let digits_start = self.pos;
            while at(self.pos).is_ascii_hexdigit() {
                self.pos += 1;
            }
            let digits = self.src.get(digits_start..self.pos).unwrap_or("");
            if self.peek().is_some_and(is_ident_continue) {
                self.bad_number_suffix(start);
                return;
            }
            match u64::from_str_radix(digits, 16) {
                Ok(v) => self.push(TokenKind::Long(v), start),
                Err(_) => {
                    self.error(
                        "KQL0004",
                        "hexadecimal literal is out of range for `long`",
                        start,
                        self.pos,
                    );
                    self.push(TokenKind::Error, start);
                }
            }
            return;
        }
        let mut is_real = false;
        while at(self.pos).is_ascii_digit() {
            self.pos += 1;
        }
        if at(self.pos) == b'.' && at(self.pos + 1).is_ascii_digit() {
            is_real = true;
            self.pos += 1;
            while at(self.pos).is_ascii_digit() {
                self.pos += 1;
            }
        } else if at(self.pos) == b'.'
            && at(self.pos + 1) != b'.'
            && !(at(self.pos + 1) as char).is_ascii_alphabetic()
            && at(self.pos + 1) != b'_'
        {
            // `1.` is a real.
            is_real = true;
            self.pos += 1;
        }
        if matches!(at(self.pos), b'e' | b'E') {
            let sign = usize::from(matches!(at(self.pos + 1), b'+' | b'-'));
            if at(self.pos + 1 + sign).is_ascii_digit() {
                is_real = true;
                self.pos += 1 + sign;
                while at(self.pos).is_ascii_digit() {
                    self.pos += 1;
                }
            }
        }
        let number = self.src.get(start..self.pos).unwrap_or("");
        // A unit directly after the number makes a timespan.
        if self.peek().is_some_and(is_ident_start) {
            let unit_start = self.pos;
            while let Some(c) = self.peek() {
                if is_ident_continue(c) {
                    self.pos += c.len_utf8();
                } else {
                    break;
                }
            }
            let unit = self.src.get(unit_start..self.pos).unwrap_or("");
            if unit_ticks(unit).is_none() {
                let text = self.src.get(start..self.pos).unwrap_or("");
                self.error(
                    "KQL0004",
                    format!("invalid literal `{text}`: `{unit}` is not a timespan unit"),
                    start,
                    self.pos,
                );
                self.diags_last_help(
                    "timespan units are d, h, m (min), s (sec), ms, microsecond, tick",
                );
                self.push(TokenKind::Error, start);
                return;
            }
            match timespan_ticks(number, unit) {
                Some(t) => self.push(TokenKind::TimeSpan(t), start),
                None => {
                    self.error(
                        "KQL0004",
                        "timespan literal is out of range",
                        start,
                        self.pos,
                    );
                    self.push(TokenKind::Error, start);
                }
            }
            return;
        }
        if is_real {
            match number.parse::<f64>() {
                Ok(v) => self.push(TokenKind::Real(v), start),
                Err(_) => {
                    self.error(
                        "KQL0004",
                        format!("invalid real literal `{number}`"),
                        start,
                        self.pos,
                    );
                    self.push(TokenKind::Error, start);
                }
            }
        } else {
            match number.parse::<u64>() {
                Ok(v) if v <= 1u64 << 63 => self.push(TokenKind::Long(v), start),
                _ => {
                    self.error(
                        "KQL0004",
                        format!("integer literal `{number}` is out of range for `long`"),
                        start,
                        self.pos,
                    );
                    self.push(TokenKind::Error, start);
                }
            }
        }
    }

    fn bad_number_suffix(&mut self, start: usize) {
        while let Some(c) = self.peek() {
            if is_ident_continue(c) {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        let text = self.src.get(start..self.pos).unwrap_or("");
        self.error(
            "KQL0004",
            format!("invalid numeric literal `{text}`"),
            start,
            self.pos,
        );
        self.push(TokenKind::Error, start);
    }

    fn diags_last_help(&mut self, help: &str) {
        if self.last_recorded
            && let Some(d) = self.diags.last_mut()
        {
            d.help = Some(help.to_string());
        }
    }

    /// `"..."` or `'...'` with backslash escapes; `start` may precede the quote (`h"..."`).
    fn string(&mut self, start: usize) {
        let Some(quote) = self.peek() else { return };
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.unterminated(start, quote);
                return;
            };
            match c {
                '\n' | '\r' => {
                    self.unterminated(start, quote);
                    return;
                }
                c if c == quote => {
                    self.pos += 1;
                    break;
                }
                '\\' => {
                    let esc_start = self.pos;
                    self.pos += 1;
                    let Some(e) = self.peek() else {
                        self.unterminated(start, quote);
                        return;
                    };
                    if e == '\n' || e == '\r' {
                        self.unterminated(start, quote);
                        return;
                    }
                    self.pos += e.len_utf8();
                    match e {
                        'n' => value.push('\n'),
                        't' => value.push('\t'),
                        'r' => value.push('\r'),
                        '0' => value.push('\0'),
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        '\'' => value.push('\''),
                        'u' => {
                            let hex = self.src.get(self.pos..self.pos + 4).unwrap_or("");
                            let ch = (hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                                .then(|| u32::from_str_radix(hex, 16).ok())
                                .flatten()
                                .and_then(char::from_u32);
                            match ch {
                                Some(ch) => {
                                    self.pos += 4;
                                    value.push(ch);
                                }
                                None => {
                                    self.error(
                                        "KQL0004",
                                        "invalid `\\u` escape: expected four hexadecimal digits",
                                        esc_start,
                                        self.pos,
                                    );
                                }
                            }
                        }
                        other => {
                            self.error(
                                "KQL0004",
                                format!("invalid escape sequence `\\{other}` in string literal"),
                                esc_start,
                                self.pos,
                            );
                            self.diags_last_help(
                                "write `\\\\` for a backslash, or use a verbatim string: @\"C:\\path\"",
                            );
                            value.push('\\');
                            value.push(other);
                        }
                    }
                }
                c => {
                    value.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        self.push(TokenKind::String(value), start);
    }

    fn unterminated(&mut self, start: usize, quote: char) {
        self.error(
            "KQL0002",
            format!("unterminated string literal: expected a closing `{quote}`"),
            start,
            self.pos,
        );
        let value = self.src.get(start..self.pos).unwrap_or("");
        let value = value.trim_start_matches(['h', 'H', '@']);
        let value = value.get(1..).unwrap_or("").to_string();
        self.push(TokenKind::String(value), start);
    }

    /// After `@`: `"..."` or `'...'`, no escapes, a doubled quote is one quote.
    fn verbatim_string(&mut self, start: usize) {
        let Some(quote) = self.peek() else { return };
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.unterminated(start, quote);
                return;
            };
            match c {
                '\n' | '\r' => {
                    self.unterminated(start, quote);
                    return;
                }
                c if c == quote => {
                    self.pos += 1;
                    if self.peek() == Some(quote) {
                        self.pos += 1;
                        value.push(quote);
                    } else {
                        break;
                    }
                }
                c => {
                    value.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        self.push(TokenKind::String(value), start);
    }

    fn multiline_string(&mut self, start: usize) {
        self.pos += 3;
        match self.rest().find("```") {
            Some(i) => {
                let value = self.rest().get(..i).unwrap_or("").to_string();
                self.pos += i + 3;
                self.push(TokenKind::String(value), start);
            }
            None => {
                let value = self.rest().to_string();
                self.pos = self.src.len();
                self.error(
                    "KQL0002",
                    "unterminated multi-line string literal: expected a closing ```",
                    start,
                    start + 3,
                );
                self.push(TokenKind::String(value), start);
            }
        }
    }

    fn bang(&mut self, start: usize) {
        self.pos += 1;
        match self.peek() {
            Some('=') => {
                self.pos += 1;
                self.push(TokenKind::NotEq, start);
            }
            Some('~') => {
                self.pos += 1;
                self.push(TokenKind::NotTilde, start);
            }
            Some(c) if is_ident_start(c) => {
                let word_start = self.pos;
                while let Some(c) = self.peek() {
                    if is_ident_continue(c) {
                        self.pos += c.len_utf8();
                    } else {
                        break;
                    }
                }
                let word = self.src.get(word_start..self.pos).unwrap_or("").to_string();
                if word == "in" && self.peek() == Some('~') {
                    self.pos += 1;
                    self.push(TokenKind::NotInTilde, start);
                } else {
                    self.push(TokenKind::BangWord(word), start);
                }
            }
            _ => {
                self.error("KQL0005", "unexpected character `!`", start, self.pos);
                self.diags_last_help("for logical negation use `not(expr)`; `!` is only a prefix of operators such as `!=`, `!~`, `!has`, `!in`");
                self.push(TokenKind::Error, start);
            }
        }
    }

    fn punct(&mut self, start: usize, c: char) {
        let next = self.peek_at(1);
        let (kind, len) = match (c, next) {
            ('|', _) => (TokenKind::Pipe, 1),
            (';', _) => (TokenKind::Semi, 1),
            (',', _) => (TokenKind::Comma, 1),
            ('(', _) => (TokenKind::LParen, 1),
            (')', _) => (TokenKind::RParen, 1),
            ('[', _) => (TokenKind::LBracket, 1),
            (']', _) => (TokenKind::RBracket, 1),
            ('{', _) => (TokenKind::LBrace, 1),
            ('}', _) => (TokenKind::RBrace, 1),
            ('.', Some('.')) => (TokenKind::DotDot, 2),
            ('.', _) => (TokenKind::Dot, 1),
            (':', _) => (TokenKind::Colon, 1),
            ('=', Some('=')) => (TokenKind::EqEq, 2),
            ('=', Some('~')) => (TokenKind::EqTilde, 2),
            ('=', Some('>')) => (TokenKind::FatArrow, 2),
            ('=', _) => (TokenKind::Assign, 1),
            ('<', Some('=')) => (TokenKind::Le, 2),
            ('<', Some('>')) => (TokenKind::LtGt, 2),
            ('<', _) => (TokenKind::Lt, 1),
            ('>', Some('=')) => (TokenKind::Ge, 2),
            ('>', _) => (TokenKind::Gt, 1),
            ('+', _) => (TokenKind::Plus, 1),
            ('-', _) => (TokenKind::Minus, 1),
            ('*', _) => (TokenKind::Star, 1),
            ('/', _) => (TokenKind::Slash, 1),
            ('%', _) => (TokenKind::Percent, 1),
            _ => {
                self.pos += c.len_utf8();
                self.error(
                    "KQL0005",
                    format!("unexpected character `{}`", c.escape_debug()),
                    start,
                    self.pos,
                );
                self.push(TokenKind::Error, start);
                return;
            }
        };
        self.pos += len;
        self.push(kind, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        let l = lex(src);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        l.tokens.into_iter().map(|t| t.kind).collect()
    }

    fn ident(s: &str) -> TokenKind {
        TokenKind::Ident(s.to_string())
    }

    fn string(s: &str) -> TokenKind {
        TokenKind::String(s.to_string())
    }

    #[test]
    fn words_and_comments() {
        assert_eq!(
            kinds("a // comment\n$left _x1"),
            vec![ident("a"), ident("$left"), ident("_x1"), TokenKind::Eof]
        );
    }

    #[test]
    fn strings() {
        assert_eq!(
            kinds(
                r#""a\"b\n" 'c\'d' @"x""y\z" @'p''q' h"s" H'o' h@"v\w" ```m
l```"#
            ),
            vec![
                string("a\"b\n"),
                string("c'd"),
                string("x\"y\\z"),
                string("p'q"),
                string("s"),
                string("o"),
                string("v\\w"),
                string("m\nl"),
                TokenKind::Eof
            ]
        );
        assert_eq!(
            kinds(r#""\u00e9\t\\""#),
            vec![string("é\t\\"), TokenKind::Eof]
        );
    }

    #[test]
    fn numbers_and_timespans() {
        assert_eq!(
            kinds("123 0x1F 1.5 1e3 2.5E-1 .5 1h 1.5h 30s 100ms 2d 10microsecond 3tick 5min 1.."),
            vec![
                TokenKind::Long(123),
                TokenKind::Long(31),
                TokenKind::Real(1.5),
                TokenKind::Real(1000.0),
                TokenKind::Real(0.25),
                TokenKind::Real(0.5),
                TokenKind::TimeSpan(36_000_000_000),
                TokenKind::TimeSpan(54_000_000_000),
                TokenKind::TimeSpan(300_000_000),
                TokenKind::TimeSpan(1_000_000),
                TokenKind::TimeSpan(1_728_000_000_000),
                TokenKind::TimeSpan(100),
                TokenKind::TimeSpan(3),
                TokenKind::TimeSpan(3_000_000_000),
                TokenKind::Long(1),
                TokenKind::DotDot,
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn typed_raw() {
        assert_eq!(
            kinds("datetime(2015-12-31 23:59:59.9) time (1.02:03:04) guid(null) datetime"),
            vec![
                TokenKind::Typed {
                    kind: TypedKind::DateTime,
                    raw: "2015-12-31 23:59:59.9".into()
                },
                TokenKind::Typed {
                    kind: TypedKind::TimeSpan,
                    raw: "1.02:03:04".into()
                },
                TokenKind::Typed {
                    kind: TypedKind::Guid,
                    raw: "null".into()
                },
                ident("datetime"),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn operators() {
        assert_eq!(
            kinds("a!has b !in~ c in~ d != e !~ f =~ g <> h <= i => j !between"),
            vec![
                ident("a"),
                TokenKind::BangWord("has".into()),
                ident("b"),
                TokenKind::NotInTilde,
                ident("c"),
                TokenKind::InTilde,
                ident("d"),
                TokenKind::NotEq,
                ident("e"),
                TokenKind::NotTilde,
                ident("f"),
                TokenKind::EqTilde,
                ident("g"),
                TokenKind::LtGt,
                ident("h"),
                TokenKind::Le,
                ident("i"),
                TokenKind::FatArrow,
                ident("j"),
                TokenKind::BangWord("between".into()),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn errors_do_not_stop_lexing() {
        let l = lex("a ? \"open\n b # 12x");
        let codes: Vec<_> = l.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, vec!["KQL0005", "KQL0002", "KQL0005", "KQL0004"]);
        assert_eq!(l.tokens.last().map(|t| &t.kind), Some(&TokenKind::Eof));
    }
}
