//! Generic traversal of the AST: the direct sub-expressions of an expression or operator.

use quarry_syntax::ast::{self, Expr, ExprKind, PipeOpKind};

/// The direct sub-expressions of `e` (for a pipe: its input and the operator's expressions).
pub fn children(e: &Expr) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = Vec::new();
    match &e.kind {
        ExprKind::Literal(_) | ExprKind::Name(_) | ExprKind::Star | ExprKind::TypeOf(_) => {}
        ExprKind::Unary { operand, .. } => out.push(operand),
        ExprKind::Binary { left, right, .. } => {
            out.push(left);
            out.push(right);
        }
        ExprKind::In { operand, list, .. } | ExprKind::HasAnyAll { operand, list, .. } => {
            out.push(operand);
            out.extend(list.iter());
        }
        ExprKind::Between {
            operand, low, high, ..
        } => {
            out.push(operand);
            out.push(low);
            out.push(high);
        }
        ExprKind::Call { args, .. } => out.extend(args.iter().map(|a| &a.value)),
        ExprKind::Member { object, .. } => out.push(object),
        ExprKind::Index { object, index } => {
            out.push(object);
            out.push(index);
        }
        ExprKind::Paren(inner) => out.push(inner),
        ExprKind::Pipe { input, op } => {
            out.push(input);
            out.extend(op_children(&op.kind));
        }
        ExprKind::Print(items) => out.extend(items.iter().map(|n| &n.expr)),
        ExprKind::Range { from, to, step, .. } => {
            out.push(from);
            out.push(to);
            out.push(step);
        }
        ExprKind::Datatable { values, .. } => out.extend(values.iter()),
        ExprKind::Union(u) => {
            out.extend(u.params.iter().map(|p| &p.value));
            out.extend(u.tables.iter());
        }
        // Sources the linter does not look into (externaldata, evaluate, search, find, and
        // forms added later).
        _ => {}
    }
    out
}

/// The expressions inside one pipe operator.
pub fn op_children(op: &PipeOpKind) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = Vec::new();
    match op {
        PipeOpKind::Where(p) | PipeOpKind::Take(p) => out.push(p),
        PipeOpKind::Extend(items) | PipeOpKind::Project(items) | PipeOpKind::Serialize(items) => {
            out.extend(items.iter().map(|n| &n.expr))
        }
        PipeOpKind::ProjectAway(_)
        | PipeOpKind::ProjectKeep(_)
        | PipeOpKind::ProjectRename(_)
        | PipeOpKind::ProjectReorder(_)
        | PipeOpKind::Count
        | PipeOpKind::As(_)
        | PipeOpKind::GetSchema => {}
        PipeOpKind::Summarize {
            params,
            aggregates,
            by,
        } => {
            out.extend(params.iter().map(|p| &p.value));
            out.extend(aggregates.iter().map(|n| &n.expr));
            out.extend(by.iter().map(|n| &n.expr));
        }
        PipeOpKind::Sort(keys) => out.extend(keys.iter().map(|k| &k.expr)),
        PipeOpKind::Top { count, key } => {
            out.push(count);
            out.push(&key.expr);
        }
        PipeOpKind::Distinct { columns, .. } => out.extend(columns.iter()),
        PipeOpKind::Union(u) => {
            out.extend(u.params.iter().map(|p| &p.value));
            out.extend(u.tables.iter());
        }
        PipeOpKind::Invoke(e) | PipeOpKind::Sample(e) => out.push(e),
        PipeOpKind::Join { params, right, on } | PipeOpKind::Lookup { params, right, on } => {
            out.extend(params.iter().map(|p| &p.value));
            out.push(right);
            for c in on {
                if let ast::JoinCondition::Equal { left, right } = c {
                    out.push(left);
                    out.push(right);
                }
            }
        }
        // Operators whose expressions the linter does not look into.
        _ => {}
    }
    out
}

/// Visits `e` and every expression below it, pre-order. Depth is bounded by the parser's
/// own limit on tree depth, so recursion is safe.
pub fn walk<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    for c in children(e) {
        walk(c, f);
    }
}
