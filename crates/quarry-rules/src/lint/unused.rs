//! QL0001: a `let` name that nothing after it uses.
//!
//! Uses are found lexically (an identifier token with the name, after the `let`, that is not
//! itself the name of a later `let` or a function parameter), so every operator counts, also
//! ones the linter does not otherwise model. A column of the same name counts as a use: that
//! misses some unused `let`s but never reports a used one.

use crate::walk::walk;
use quarry_syntax::ast::{self, DynamicLiteral, ExprKind, LetStatement, Literal, Statement};
use quarry_syntax::lexer::{TokenKind, lex};
use quarry_syntax::{Diagnostic, Span};

/// Identifier tokens of the text (bare, or bracket-quoted `['x']`), with their spans.
fn identifiers(src: &str) -> Vec<(String, Span)> {
    let tokens = lex(src).tokens;
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match &t.kind {
            TokenKind::Ident(name) => out.push((name.clone(), t.span)),
            TokenKind::String(name)
                if i > 0
                    && matches!(tokens[i - 1].kind, TokenKind::LBracket)
                    && tokens
                        .get(i + 1)
                        .is_some_and(|n| matches!(n.kind, TokenKind::RBracket)) =>
            {
                out.push((name.clone(), t.span))
            }
            _ => {}
        }
    }
    out
}

/// Spans of names being defined (every `let` name and function parameter, at any depth), and
/// the scopes where a parameter shadows an outer name (parameter name, function span).
fn definitions(script: &ast::Script) -> (Vec<Span>, Vec<(String, Span)>) {
    fn of_let(l: &LetStatement, out: &mut Vec<Span>, shadows: &mut Vec<(String, Span)>) {
        out.push(l.name.span);
        if let ast::LetValue::Function(f) | ast::LetValue::View(f) = &l.value {
            for p in &f.params {
                out.push(p.name.span);
                shadows.push((p.name.name.clone(), f.span));
            }
            for bl in &f.body_lets {
                of_let(bl, out, shadows);
            }
        }
    }
    let mut out = Vec::new();
    let mut shadows = Vec::new();
    for s in &script.statements {
        if let Statement::Let(l) = s {
            of_let(l, &mut out, &mut shadows);
        }
    }
    (out, shadows)
}

pub fn check(script: &ast::Script, src: &str) -> Vec<Diagnostic> {
    let ids = identifiers(src);
    let (defs, shadows) = definitions(script);
    // Is `name` used in `start..end`, other than where a name is defined or inside a function
    // whose parameter of that name hides it? (A function's own parameters are checked with
    // `start` inside the function, where the shadowing is the binding itself.)
    let used_in = |name: &str, start: u32, end: u32| {
        ids.iter().any(|(n, s)| {
            n == name
                && s.start >= start
                && s.end <= end
                && !defs.iter().any(|d| d.start <= s.start && s.end <= d.end)
                && !shadows.iter().any(|(p, f)| {
                    p == name && f.start <= s.start && s.end <= f.end && (f.start > start)
                })
        })
    };
    let mut out = Vec::new();
    let stmts = &script.statements;
    for (i, s) in stmts.iter().enumerate() {
        let Statement::Let(l) = s else { continue };
        if !used_in(&l.name.name, l.span.end, u32::MAX) {
            out.push(unused(l, &stmts[i + 1..]));
        }
        if let ast::LetValue::Function(f) | ast::LetValue::View(f) = &l.value {
            check_body(f, &used_in, &mut out);
        }
    }
    out
}

fn check_body(
    f: &ast::FunctionDef,
    used_in: &dyn Fn(&str, u32, u32) -> bool,
    out: &mut Vec<Diagnostic>,
) {
    for l in &f.body_lets {
        if !used_in(&l.name.name, l.span.end, f.span.end) {
            out.push(
                Diagnostic::warning(
                    "QL0001",
                    format!("`{}` is declared but never used", l.name.name),
                    l.name.span,
                )
                .with_label("never used")
                .with_help("remove it, or use it where it was meant to apply"),
            );
        }
        if let ast::LetValue::Function(g) | ast::LetValue::View(g) = &l.value {
            check_body(g, used_in, out);
        }
    }
}

/// The diagnostic, pointing also at a string literal that repeats the list's values (the seed
/// declares `ServiceAccountPatterns` and then writes the same prefixes into its regex).
fn unused(l: &LetStatement, later: &[Statement]) -> Diagnostic {
    let mut d = Diagnostic::warning(
        "QL0001",
        format!("`{}` is declared but never used", l.name.name),
        l.name.span,
    )
    .with_label("never used");
    let values = string_list(l);
    let mut repeated: Option<Span> = None;
    if values.len() >= 2 {
        for s in later {
            let e = match s {
                Statement::Query(e) => e,
                Statement::Let(LetStatement {
                    value: ast::LetValue::Expr(e),
                    ..
                }) => e,
                _ => continue,
            };
            walk(e, &mut |x| {
                if repeated.is_none()
                    && let ExprKind::Literal(Literal::String(text)) = &x.kind
                    && values.iter().all(|v| text.contains(v.as_str()))
                {
                    repeated = Some(x.span);
                }
            });
        }
    }
    match repeated {
        Some(span) => {
            d = d.with_secondary(span, "its values are written out again here instead");
            d.help = Some(format!(
                "build the pattern from the list (e.g. `strcat(\"^(\", strcat_array({}, \"|\"), \")\")`) so that editing `{}` changes what the query matches, or remove the `let`",
                l.name.name, l.name.name
            ));
        }
        None => {
            d.help = Some("remove it, or use it where it was meant to apply".into());
        }
    }
    d
}

/// The strings of `let x = dynamic(["a", "b"])`.
fn string_list(l: &LetStatement) -> Vec<String> {
    let ast::LetValue::Expr(e) = &l.value else {
        return Vec::new();
    };
    let mut e = e;
    while let ExprKind::Paren(inner) = &e.kind {
        e = inner;
    }
    match &e.kind {
        ExprKind::Literal(Literal::Dynamic(DynamicLiteral::Array(items))) => items
            .iter()
            .filter_map(|i| match i {
                DynamicLiteral::String(s) if !s.is_empty() => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
