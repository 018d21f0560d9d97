//! QL0001: a `let` name that nothing after it uses.

use crate::walk::walk;
use quarry_syntax::ast::{self, DynamicLiteral, ExprKind, LetStatement, Literal, Statement};
use quarry_syntax::{Diagnostic, Span};

pub fn check(script: &ast::Script, src: &str) -> Vec<Diagnostic> {
    let _ = src;
    let mut out = Vec::new();
    let stmts = &script.statements;
    for (i, s) in stmts.iter().enumerate() {
        match s {
            Statement::Let(l) => {
                let used = stmts[i + 1..]
                    .iter()
                    .any(|later| stmt_uses(later, &l.name.name));
                if !used {
                    out.push(unused(l, &stmts[i + 1..]));
                }
                if let ast::LetValue::Function(f) | ast::LetValue::View(f) = &l.value {
                    check_body(f, &mut out);
                }
            }
            Statement::Query(_) | Statement::Set { .. } => {}
        }
    }
    out
}

fn check_body(f: &ast::FunctionDef, out: &mut Vec<Diagnostic>) {
    for (i, l) in f.body_lets.iter().enumerate() {
        let later_lets = &f.body_lets[i + 1..];
        let used = later_lets.iter().any(|x| let_uses(x, &l.name.name))
            || expr_uses(&f.body, &l.name.name);
        if !used {
            let mut d = Diagnostic::warning(
                "QL0001",
                format!("`{}` is declared but never used", l.name.name),
                l.name.span,
            )
            .with_label("never used");
            d.help = Some("remove it, or use it where it was meant to apply".into());
            out.push(d);
        }
        if let ast::LetValue::Function(g) | ast::LetValue::View(g) = &l.value {
            check_body(g, out);
        }
    }
}

fn stmt_uses(s: &Statement, name: &str) -> bool {
    match s {
        Statement::Let(l) => let_uses(l, name),
        Statement::Query(e) => expr_uses(e, name),
        Statement::Set { value, .. } => value.as_ref().is_some_and(|v| expr_uses(v, name)),
    }
}

fn let_uses(l: &LetStatement, name: &str) -> bool {
    match &l.value {
        ast::LetValue::Expr(e) => expr_uses(e, name),
        ast::LetValue::Function(f) | ast::LetValue::View(f) => {
            // A parameter of the same name shadows the outer `let` inside the body.
            let defaults = f
                .params
                .iter()
                .filter_map(|p| p.default.as_ref())
                .any(|d| expr_uses(d, name));
            if defaults {
                return true;
            }
            if f.params.iter().any(|p| p.name.name == name) {
                return false;
            }
            f.body_lets.iter().any(|bl| let_uses(bl, name)) || expr_uses(&f.body, name)
        }
    }
}

fn expr_uses(e: &ast::Expr, name: &str) -> bool {
    let mut found = false;
    walk(e, &mut |x| match &x.kind {
        ExprKind::Name(id) if id.name == name => found = true,
        ExprKind::Call { name: n, .. } if n.name == name => found = true,
        _ => {}
    });
    found
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
