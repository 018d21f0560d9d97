//! Scalar expressions: literals, names, operators, `in`, `between`, member access.

use super::{Binding, ColumnInfo, PResult, Planner, Typed, err};
use crate::functions::{dynamic, strings, udf};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, ScalarValue};
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{Expr, Operator, binary_expr, lit};
use quarry_syntax::ast::{self, BinaryOp, DynamicLiteral, Literal, ScalarType, StringOpKind};
use quarry_syntax::{Diagnostic, Span};
use std::ops::Not;

/// A column reference by exact (case-sensitive) name.
pub(crate) fn column(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}

pub(crate) fn string_lit(s: &str) -> Expr {
    lit(ScalarValue::Utf8(Some(s.to_string())))
}

fn is_numeric(t: ScalarType) -> bool {
    matches!(
        t,
        ScalarType::Int | ScalarType::Long | ScalarType::Real | ScalarType::Decimal
    )
}

/// The wider of two numeric types (int < long < real).
pub(crate) fn numeric_result(a: ScalarType, b: ScalarType) -> ScalarType {
    use ScalarType::*;
    match (a, b) {
        (Real | Decimal, _) | (_, Real | Decimal) => Real,
        (Long, _) | (_, Long) => Long,
        _ => Int,
    }
}

/// Renders a dynamic literal as compact JSON text (the storage form of `dynamic`).
pub(crate) fn dynamic_json(d: &DynamicLiteral) -> serde_json::Value {
    use serde_json::Value as J;
    match d {
        DynamicLiteral::Null => J::Null,
        DynamicLiteral::Bool(b) => J::Bool(*b),
        DynamicLiteral::Long(v) => J::from(*v),
        DynamicLiteral::Real(v) => serde_json::Number::from_f64(*v).map_or(J::Null, J::Number),
        DynamicLiteral::String(s) => J::String(s.clone()),
        DynamicLiteral::DateTime(s) => J::String(
            crate::datetime::parse_datetime(s)
                .map(crate::format::format_datetime)
                .unwrap_or_else(|| s.clone()),
        ),
        DynamicLiteral::TimeSpan(t) => {
            J::String(crate::format::format_timespan(t.saturating_mul(100)))
        }
        DynamicLiteral::Array(items) => J::Array(items.iter().map(dynamic_json).collect()),
        DynamicLiteral::Object(kv) => J::Object(
            kv.iter()
                .map(|(k, v)| (k.clone(), dynamic_json(v)))
                .collect(),
        ),
    }
}

/// Parses plain JSON text into a dynamic literal (for `--param X='["a","b"]'`).
pub(crate) fn dynamic_from_json(text: &str) -> Option<DynamicLiteral> {
    fn conv(v: &serde_json::Value) -> DynamicLiteral {
        use serde_json::Value as J;
        match v {
            J::Null => DynamicLiteral::Null,
            J::Bool(b) => DynamicLiteral::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => DynamicLiteral::Long(i),
                None => DynamicLiteral::Real(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => DynamicLiteral::String(s.clone()),
            J::Array(a) => DynamicLiteral::Array(a.iter().map(conv).collect()),
            J::Object(o) => {
                DynamicLiteral::Object(o.iter().map(|(k, v)| (k.clone(), conv(v))).collect())
            }
        }
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .map(|v| conv(&v))
}

pub(crate) fn dynamic_constant(d: DynamicLiteral) -> Typed {
    let expr = match &d {
        DynamicLiteral::Null => lit(ScalarValue::Utf8(None)),
        other => string_lit(&dynamic_json(other).to_string()),
    };
    Typed {
        expr,
        ty: ScalarType::Dynamic,
        constant: Some(d),
    }
}

/// A dynamic scalar element as a typed literal (for flattening arrays in `in (...)`).
fn dynamic_element(d: &DynamicLiteral) -> Typed {
    match d {
        DynamicLiteral::Bool(b) => Typed::new(lit(*b), ScalarType::Bool),
        DynamicLiteral::Long(v) => Typed::new(lit(*v), ScalarType::Long),
        DynamicLiteral::Real(v) => Typed::new(lit(*v), ScalarType::Real),
        DynamicLiteral::String(s) => Typed::new(string_lit(s), ScalarType::String),
        DynamicLiteral::DateTime(s) => match crate::datetime::parse_datetime(s) {
            Some(ns) => Typed::new(
                crate::datetime::datetime_lit(Some(ns)),
                ScalarType::DateTime,
            ),
            None => Typed::new(string_lit(s), ScalarType::String),
        },
        DynamicLiteral::TimeSpan(t) => Typed::new(
            lit(ScalarValue::DurationNanosecond(Some(t.saturating_mul(100)))),
            ScalarType::TimeSpan,
        ),
        other => dynamic_constant(other.clone()),
    }
}

impl Planner<'_> {
    /// Compiles a scalar expression evaluated against rows with columns `row`.
    pub(super) fn scalar(&mut self, e: &ast::Expr, row: &[ColumnInfo]) -> PResult<Typed> {
        self.depth += 1;
        if self.depth > 200 {
            self.depth -= 1;
            return err("KQL1099", "expression nests too deeply", e.span);
        }
        let r = self.scalar_inner(e, row);
        self.depth -= 1;
        r
    }

    fn scalar_inner(&mut self, e: &ast::Expr, row: &[ColumnInfo]) -> PResult<Typed> {
        use ast::ExprKind as K;
        match &e.kind {
            K::Literal(l) => literal(l, e.span),
            K::Name(id) => self.name(id, row),
            K::Paren(inner) => self.scalar(inner, row),
            K::Unary { op, operand } => {
                let t = self.scalar(operand, row)?;
                if !is_numeric(t.ty) && t.ty != ScalarType::TimeSpan {
                    return err(
                        "KQL1030",
                        format!(
                            "unary minus needs a number or timespan, got {}",
                            t.ty.name()
                        ),
                        e.span,
                    );
                }
                Ok(match op {
                    ast::UnaryOp::Neg => Typed::new(Expr::Negative(Box::new(t.expr)), t.ty),
                    ast::UnaryOp::Plus => t,
                })
            }
            K::Binary { op, left, right } => self.binary(*op, left, right, row, e.span),
            K::In {
                operand,
                list,
                negated,
                case_insensitive,
            } => self.in_list(operand, list, *negated, *case_insensitive, row),
            K::HasAnyAll { operand, list, all } => {
                let x = self.string_operand(operand, row)?;
                // `has_any (T)`: the first column of a tabular set, as one dynamic array.
                let set_of_table;
                let list: &[ast::Expr] = match list.as_slice() {
                    [single] if self.is_tabular(single) => {
                        set_of_table = [self.table_as_list(single)?];
                        &set_of_table
                    }
                    _ => list,
                };
                let items = self.flatten_list(list, row)?;
                if items.is_empty() {
                    return Ok(Typed::new(lit(*all), ScalarType::Bool));
                }
                let mut acc: Option<Expr> = None;
                for it in items {
                    let test = if it.ty == ScalarType::Dynamic && it.constant.is_none() {
                        // A set known only at run time.
                        let (name, kernel): (&str, udf::Kernel) = if *all {
                            ("has_all_dynamic", crate::functions::hasany::has_all_dynamic)
                        } else {
                            ("has_any_dynamic", crate::functions::hasany::has_any_dynamic)
                        };
                        udf::call(
                            name,
                            DataType::Boolean,
                            kernel,
                            vec![x.expr.clone(), it.expr],
                        )
                    } else {
                        let needle = self.to_string_expr(it);
                        udf::call(
                            "has",
                            DataType::Boolean,
                            strings::has,
                            vec![x.expr.clone(), needle],
                        )
                    };
                    acc = Some(match acc {
                        None => test,
                        Some(a) if *all => a.and(test),
                        Some(a) => a.or(test),
                    });
                }
                Ok(Typed::new(acc.unwrap_or(lit(*all)), ScalarType::Bool))
            }
            K::Between {
                operand,
                low,
                high,
                negated,
            } => {
                let x = self.scalar(operand, row)?;
                let lo = self.scalar(low, row)?;
                let mut hi = self.scalar(high, row)?;
                // `between (datetime .. timespan)` means `low .. low + span`.
                if matches!(x.ty, ScalarType::DateTime) && hi.ty == ScalarType::TimeSpan {
                    hi = Typed::new(
                        binary_expr(lo.expr.clone(), Operator::Plus, hi.expr),
                        ScalarType::DateTime,
                    );
                }
                let test = x.expr.clone().gt_eq(lo.expr).and(x.expr.lt_eq(hi.expr));
                Ok(Typed::new(
                    if *negated { test.not() } else { test },
                    ScalarType::Bool,
                ))
            }
            K::Call { name, args } => self.call(name, args, row, e.span),
            K::Member { object, name } => {
                let obj = self.scalar(object, row)?;
                self.member(obj, string_lit(&name.name), e.span)
            }
            K::Index { object, index } => {
                let obj = self.scalar(object, row)?;
                let idx = self.scalar(index, row)?;
                self.member(obj, idx.expr, e.span)
            }
            K::TypeOf(_) => err(
                "KQL1031",
                "`typeof(...)` is only allowed where a type is expected",
                e.span,
            ),
            K::Star => err("KQL1031", "`*` is not allowed here", e.span),
            K::Pipe { .. }
            | K::Print(_)
            | K::Range { .. }
            | K::Datatable { .. }
            | K::Union(_)
            | K::ExternalData(_) => err(
                "KQL1032",
                "a tabular expression is used where a scalar value is expected",
                e.span,
            )
            .map_err(|d| Box::new(d.with_help("wrap it in toscalar(...) to use its first value"))),
            #[allow(unreachable_patterns)]
            _ => err(
                "KQL1005",
                "this expression is not supported here yet",
                e.span,
            ),
        }
    }

    fn member(&mut self, obj: Typed, key: Expr, span: Span) -> PResult<Typed> {
        if obj.ty != ScalarType::Dynamic {
            return err(
                "KQL1033",
                format!(
                    "property access needs a dynamic value, got {}",
                    obj.ty.name()
                ),
                span,
            )
            .map_err(|d| Box::new(d.with_help("use parse_json(...) or todynamic(...) first")));
        }
        Ok(Typed::new(
            udf::call(
                "dynamic_get",
                DataType::Utf8,
                dynamic::get,
                vec![obj.expr, key],
            ),
            ScalarType::Dynamic,
        ))
    }

    fn name(&mut self, id: &ast::Ident, row: &[ColumnInfo]) -> PResult<Typed> {
        if let Some(c) = row.iter().find(|c| c.name == id.name) {
            return Ok(Typed::new(column(&c.name), c.ty));
        }
        match self.lookup(&id.name) {
            Some(Binding::Scalar(t)) => return Ok(t.clone()),
            Some(Binding::Table(_)) => {
                return err(
                    "KQL1040",
                    format!("`{}` is a table; a scalar value is expected here", id.name),
                    id.span,
                );
            }
            // A function without parameters may be called without parentheses
            // (named-expressions reference: `let x = () {rand(1000)}; print x`).
            Some(Binding::Function(f)) if f.params.is_empty() => {
                return self.call(id, &[], row, id.span);
            }
            Some(Binding::Function(_)) => {
                return err(
                    "KQL1040",
                    format!("`{}` is a function; call it with `{}()`", id.name, id.name),
                    id.span,
                );
            }
            None => {}
        }
        // `True`/`TRUE`/`False`/`FALSE`: the reference spells bool literals `true`/`false`, but
        // Kusto also takes these spellings and Microsoft's published rules use them. Columns
        // and `let`s of those names still win (checked above).
        match id.name.as_str() {
            "True" | "TRUE" => return Ok(Typed::new(lit(true), ScalarType::Bool)),
            "False" | "FALSE" => return Ok(Typed::new(lit(false), ScalarType::Bool)),
            _ => {}
        }
        let mut d = Diagnostic::error(
            "KQL1001",
            format!("unknown column or name `{}`", id.name),
            id.span,
        );
        let lets: Vec<String> = self.scopes.iter().flat_map(|s| s.keys().cloned()).collect();
        let candidates = row
            .iter()
            .map(|c| c.name.as_str())
            .chain(lets.iter().map(String::as_str));
        if let Some(c) = crate::suggest::closest(&id.name, candidates) {
            d.help = Some(format!("did you mean `{c}`?"));
        } else if self.catalog.contains(&id.name) {
            d.help = Some(format!("`{}` is a table, not a column", id.name));
        }
        Err(Box::new(d))
    }

    /// A string-typed operand for string operators; dynamic and other values are converted as
    /// Kusto does (`tostring`).
    pub(super) fn string_operand(&mut self, e: &ast::Expr, row: &[ColumnInfo]) -> PResult<Typed> {
        let t = self.scalar(e, row)?;
        Ok(Typed::new(self.to_string_expr(t), ScalarType::String))
    }

    pub(super) fn to_string_expr(&self, t: Typed) -> Expr {
        match t.ty {
            ScalarType::String | ScalarType::Guid => t.expr,
            ScalarType::Dynamic => udf::call(
                "tostring",
                DataType::Utf8,
                dynamic::to_string_kernel,
                vec![t.expr],
            ),
            _ => udf::call(
                "tostring",
                DataType::Utf8,
                crate::functions::convert::to_string,
                vec![t.expr],
            ),
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        left: &ast::Expr,
        right: &ast::Expr,
        row: &[ColumnInfo],
        span: Span,
    ) -> PResult<Typed> {
        use ScalarType as T;
        match op {
            BinaryOp::And | BinaryOp::Or => {
                // Long `a or b or c ...` chains are flattened iteratively and rebuilt as a
                // balanced tree, so neither our recursion nor DataFusion's grows with length.
                let mut operands: Vec<&ast::Expr> = Vec::new();
                let mut stack: Vec<&ast::Expr> = vec![right, left];
                while let Some(e) = stack.pop() {
                    match &e.kind {
                        ast::ExprKind::Binary {
                            op: inner,
                            left: l,
                            right: r,
                        } if *inner == op => {
                            stack.push(r);
                            stack.push(l);
                        }
                        _ => operands.push(e),
                    }
                }
                let mut exprs = Vec::with_capacity(operands.len());
                for e in operands {
                    let t = self.scalar(e, row)?;
                    if t.ty != T::Bool {
                        return err(
                            "KQL1034",
                            format!(
                                "`{}` needs bool operands, this is {}",
                                if op == BinaryOp::And { "and" } else { "or" },
                                t.ty.name()
                            ),
                            e.span,
                        );
                    }
                    exprs.push(t.expr);
                }
                Ok(Typed::new(balanced(exprs, op == BinaryOp::And), T::Bool))
            }
            BinaryOp::MatchesRegex => {
                let l = self.string_operand(left, row)?;
                let r = self.scalar(right, row)?;
                if let Expr::Literal(ScalarValue::Utf8(Some(p)), _) = &r.expr
                    && let Err(e) = crate::functions::re2::compile(p)
                {
                    return err(
                        "KQL1035",
                        format!("invalid regular expression: {}", first_line(&e.to_string())),
                        right.span,
                    );
                }
                // DataFusion compiles the pattern itself: give it the RE2-compatible form.
                let pattern = match &r.expr {
                    Expr::Literal(ScalarValue::Utf8(Some(p)), _) => {
                        string_lit(&crate::functions::re2::translate(p))
                    }
                    _ => r.expr,
                };
                Ok(Typed::new(f::regexp_like(l.expr, pattern, None), T::Bool))
            }
            BinaryOp::Str(sop) => {
                let l = self.string_operand(left, row)?;
                let r = self.string_operand(right, row)?;
                let (name, kernel): (&str, udf::Kernel) = match (sop.kind, sop.case_sensitive) {
                    (StringOpKind::Has, false) => ("has", strings::has),
                    (StringOpKind::Has, true) => ("has_cs", strings::has_cs),
                    (StringOpKind::HasPrefix, false) => ("hasprefix", strings::hasprefix),
                    (StringOpKind::HasPrefix, true) => ("hasprefix_cs", strings::hasprefix_cs),
                    (StringOpKind::HasSuffix, false) => ("hassuffix", strings::hassuffix),
                    (StringOpKind::HasSuffix, true) => ("hassuffix_cs", strings::hassuffix_cs),
                    (StringOpKind::Contains, false) => ("contains", strings::contains),
                    (StringOpKind::Contains, true) => ("contains_cs", strings::contains_cs),
                    (StringOpKind::StartsWith, false) => ("startswith", strings::startswith),
                    (StringOpKind::StartsWith, true) => ("startswith_cs", strings::startswith_cs),
                    (StringOpKind::EndsWith, false) => ("endswith", strings::endswith),
                    (StringOpKind::EndsWith, true) => ("endswith_cs", strings::endswith_cs),
                };
                let test = udf::call(name, DataType::Boolean, kernel, vec![l.expr, r.expr]);
                Ok(Typed::new(
                    if sop.negated { test.not() } else { test },
                    T::Bool,
                ))
            }
            BinaryOp::EqTilde | BinaryOp::NotEqTilde => {
                let l = self.string_operand(left, row)?;
                let r = self.string_operand(right, row)?;
                let test = udf::call(
                    "equals_ci",
                    DataType::Boolean,
                    strings::equals_ci,
                    vec![l.expr, r.expr],
                );
                Ok(Typed::new(
                    if op == BinaryOp::NotEqTilde {
                        test.not()
                    } else {
                        test
                    },
                    T::Bool,
                ))
            }
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => {
                let mut l = self.scalar(left, row)?;
                let mut r = self.scalar(right, row)?;
                self.unify_for_compare(&mut l, &mut r, left.span.to(right.span))?;
                let dop = match op {
                    BinaryOp::Eq => Operator::Eq,
                    BinaryOp::NotEq => Operator::NotEq,
                    BinaryOp::Lt => Operator::Lt,
                    BinaryOp::Le => Operator::LtEq,
                    BinaryOp::Gt => Operator::Gt,
                    _ => Operator::GtEq,
                };
                if matches!(op, BinaryOp::Eq | BinaryOp::NotEq) {
                    let test = kusto_equality(l, r, op == BinaryOp::Eq)
                        .map_err(|e| crate::plan::tabular::df_error(e, span))?;
                    return Ok(Typed::new(test, T::Bool));
                }
                Ok(Typed::new(binary_expr(l.expr, dop, r.expr), T::Bool))
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                let l = self.scalar(left, row)?;
                let r = self.scalar(right, row)?;
                self.arithmetic(op, l, r, span)
            }
        }
    }

    /// Makes two operands comparable the way Kusto does: numbers of any width compare by
    /// value, dynamic compares through its string form against strings.
    fn unify_for_compare(&mut self, l: &mut Typed, r: &mut Typed, span: Span) -> PResult<()> {
        use ScalarType as T;
        let (a, b) = (l.ty, r.ty);
        if a == b || (is_numeric(a) && is_numeric(b)) {
            return Ok(());
        }
        match (a, b) {
            (T::Dynamic, T::String | T::Guid) | (T::Guid, T::String) => {
                l.expr = self.to_string_expr(l.clone());
                l.ty = T::String;
            }
            (T::String | T::Guid, T::Dynamic) | (T::String, T::Guid) => {
                r.expr = self.to_string_expr(r.clone());
                r.ty = T::String;
            }
            // Kusto compares a string with a number numerically (`ResultType == 0` on
            // SigninLogs' string ResultType); text that is not a number gives null.
            (T::String, n) | (n, T::String) if is_numeric(n) => {
                let strside = if a == T::String { &mut *l } else { &mut *r };
                strside.expr =
                    crate::functions::convert::convert(strside.expr.clone(), T::String, T::Real);
                strside.ty = T::Real;
            }
            // bool is true (1) / false (0) (bool data type reference): `IsLocalAdmin == 1`.
            (T::Bool, n) | (n, T::Bool) if is_numeric(n) => {
                let boolside = if a == T::Bool { &mut *l } else { &mut *r };
                boolside.expr = super::calls::cast(boolside.expr.clone(), DataType::Int64);
                boolside.ty = T::Long;
            }
            (T::Dynamic, x) | (x, T::Dynamic) if x != T::Dynamic => {
                // Convert the dynamic side to the other side's type.
                let (dynside, ty) = if a == T::Dynamic {
                    (&mut *l, b)
                } else {
                    (&mut *r, a)
                };
                // A dynamic number may be fractional: compare numbers as real.
                let ty = if is_numeric(ty) { T::Real } else { ty };
                dynside.expr = crate::functions::convert::cast_dynamic(dynside.expr.clone(), ty);
                dynside.ty = ty;
            }
            _ => {
                return err(
                    "KQL1036",
                    format!("cannot compare {} with {}", a.name(), b.name()),
                    span,
                );
            }
        }
        Ok(())
    }

    fn arithmetic(&mut self, op: BinaryOp, l: Typed, r: Typed, span: Span) -> PResult<Typed> {
        use ScalarType as T;
        let dop = match op {
            BinaryOp::Add => Operator::Plus,
            BinaryOp::Sub => Operator::Minus,
            BinaryOp::Mul => Operator::Multiply,
            BinaryOp::Div => Operator::Divide,
            _ => Operator::Modulo,
        };
        let ty = match (l.ty, r.ty, op) {
            (a, b, _) if is_numeric(a) && is_numeric(b) => numeric_result(a, b),
            (T::DateTime, T::DateTime, BinaryOp::Sub) => T::TimeSpan,
            (T::DateTime, T::TimeSpan, BinaryOp::Add | BinaryOp::Sub) => T::DateTime,
            (T::TimeSpan, T::DateTime, BinaryOp::Add) => T::DateTime,
            (T::TimeSpan, T::TimeSpan, BinaryOp::Add | BinaryOp::Sub) => T::TimeSpan,
            (T::TimeSpan, T::TimeSpan, BinaryOp::Div) => {
                // timespan / timespan → real ratio.
                let l = Expr::Cast(datafusion::logical_expr::Cast::new(
                    Box::new(l.expr),
                    DataType::Int64,
                ));
                let r = Expr::Cast(datafusion::logical_expr::Cast::new(
                    Box::new(r.expr),
                    DataType::Float64,
                ));
                return Ok(Typed::new(binary_expr(l, dop, r), T::Real));
            }
            (T::TimeSpan, n, BinaryOp::Mul | BinaryOp::Div) if is_numeric(n) => {
                return Ok(Typed::new(
                    crate::functions::convert::scale_timespan(l.expr, r.expr, op == BinaryOp::Div),
                    T::TimeSpan,
                ));
            }
            (n, T::TimeSpan, BinaryOp::Mul) if is_numeric(n) => {
                return Ok(Typed::new(
                    crate::functions::convert::scale_timespan(r.expr, l.expr, false),
                    T::TimeSpan,
                ));
            }
            (a, b, _) => {
                return err(
                    "KQL1037",
                    format!(
                        "operator `{}` is not defined for {} and {}",
                        match op {
                            BinaryOp::Add => "+",
                            BinaryOp::Sub => "-",
                            BinaryOp::Mul => "*",
                            BinaryOp::Div => "/",
                            _ => "%",
                        },
                        a.name(),
                        b.name()
                    ),
                    span,
                );
            }
        };
        // Make DataFusion compute in the KQL result type (e.g. real division, not integer).
        let (le, re) = if is_numeric(ty) && (l.ty != ty || r.ty != ty) {
            let at = crate::types::arrow_type(ty);
            (
                super::calls::cast(l.expr, at.clone()),
                super::calls::cast(r.expr, at),
            )
        } else {
            (l.expr, r.expr)
        };
        if dop == Operator::Modulo && matches!(ty, T::Int | T::Long) {
            // Kusto's integer `%` is the Euclidean remainder, never negative (numerical
            // operators reference: -14 % 12 == 10, 14 % -12 == 2, -14 % -12 == 10).
            let m = datafusion::functions::expr_fn::abs(re.clone());
            let rem = binary_expr(le, Operator::Modulo, re);
            let e = binary_expr(
                binary_expr(rem, Operator::Plus, m.clone()),
                Operator::Modulo,
                m,
            );
            return Ok(Typed::new(e, ty));
        }
        Ok(Typed::new(binary_expr(le, dop, re), ty))
    }

    /// Elements of an `in (...)`/`has_any(...)` list: dynamic array constants are expanded.
    fn flatten_list(&mut self, list: &[ast::Expr], row: &[ColumnInfo]) -> PResult<Vec<Typed>> {
        let mut out = Vec::new();
        for item in list {
            let t = self.scalar(item, row)?;
            match &t.constant {
                Some(DynamicLiteral::Array(items)) => {
                    out.extend(items.iter().map(dynamic_element));
                }
                Some(DynamicLiteral::Null) => {}
                _ => out.push(t),
            }
        }
        Ok(out)
    }

    fn in_list(
        &mut self,
        operand: &ast::Expr,
        list: &[ast::Expr],
        negated: bool,
        case_insensitive: bool,
        row: &[ColumnInfo],
    ) -> PResult<Typed> {
        // `x in (T | project c)`: a subquery's first column.
        if let [single] = list
            && self.is_tabular(single)
        {
            let sub = self.tabular(single)?;
            let Some(first) = sub.columns.first().cloned() else {
                return err("KQL1038", "the subquery has no columns", single.span);
            };
            let x = self.scalar(operand, row)?;
            // The subquery's column gets a name of its own: the outer table often has a column
            // of the same name (`where DeviceId in (Other | project DeviceId)`), which the
            // semi join that runs the subquery would otherwise find ambiguous.
            let mut value = Typed::new(column(&first.name), first.ty);
            let xe = if case_insensitive {
                value = Typed::new(f::lower(self.to_string_expr(value)), ScalarType::String);
                f::lower(self.to_string_expr(x))
            } else {
                x.expr
            };
            let sub_plan = datafusion::logical_expr::LogicalPlanBuilder::from(sub.plan)
                .project(vec![value.expr.alias("__quarry_in_value")])
                .map_err(|e| crate::plan::tabular::df_error(e, single.span))?
                .build()
                .map_err(|e| crate::plan::tabular::df_error(e, single.span))?;
            let subquery = datafusion::logical_expr::Subquery {
                subquery: std::sync::Arc::new(sub_plan),
                outer_ref_columns: vec![],
                spans: Default::default(),
            };
            let e = Expr::InSubquery(datafusion::logical_expr::expr::InSubquery::new(
                Box::new(xe),
                subquery,
                negated,
            ));
            return Ok(Typed::new(e, ScalarType::Bool));
        }
        let x = self.scalar(operand, row)?;
        let items = self.flatten_list(list, row)?;
        if case_insensitive {
            let xe = f::lower(self.to_string_expr(x));
            let items: Vec<Expr> = items
                .into_iter()
                .map(|t| match &t.expr {
                    Expr::Literal(ScalarValue::Utf8(Some(s)), _) => string_lit(&strings::fold(s)),
                    _ => f::lower(self.to_string_expr(t)),
                })
                .collect();
            return Ok(Typed::new(xe.in_list(items, negated), ScalarType::Bool));
        }
        // A string operand compares with each element's string form: a dynamic list may mix
        // types (`dynamic(["a", 1])`), and one numeric element must not turn the whole test
        // into a numeric one.
        if x.ty == ScalarType::String {
            let exprs: Vec<Expr> = items
                .into_iter()
                .map(|t| match t.ty {
                    ScalarType::String => t.expr,
                    _ => self.to_string_expr(t),
                })
                .collect();
            return Ok(Typed::new(x.expr.in_list(exprs, negated), ScalarType::Bool));
        }
        let mut xt = x;
        let mut exprs = Vec::with_capacity(items.len());
        for mut it in items {
            let mut probe = xt.clone();
            self.unify_for_compare(&mut probe, &mut it, operand.span)?;
            if probe.ty != xt.ty {
                xt = probe;
            }
            exprs.push(it.expr);
        }
        let test = xt.expr.clone().in_list(exprs, negated);
        // Kusto: a null value is in no list (`in` is false, `!in` true); strings are never null.
        let test = if xt.ty == ScalarType::String {
            test
        } else {
            f::coalesce(vec![test, lit(negated)])
        };
        Ok(Typed::new(test, ScalarType::Bool))
    }

    /// Whether an expression denotes a table (so `in (T)` is a subquery).
    /// `toscalar(T | summarize make_list(FirstColumn))` for a tabular set.
    fn table_as_list(&mut self, e: &ast::Expr) -> PResult<ast::Expr> {
        let t = self.tabular(e)?;
        let Some(first) = t.columns.first() else {
            return err("KQL1038", "the subquery has no columns", e.span);
        };
        let span = e.span;
        let id = |name: &str| ast::Ident {
            name: name.into(),
            span,
        };
        let call = |f: &str, args: Vec<ast::Expr>| ast::Expr {
            kind: ast::ExprKind::Call {
                name: id(f),
                args: args
                    .into_iter()
                    .map(|value| ast::Arg { name: None, value })
                    .collect(),
            },
            span,
        };
        let col = ast::Expr {
            kind: ast::ExprKind::Name(id(&first.name)),
            span,
        };
        let summarize = ast::Expr {
            kind: ast::ExprKind::Pipe {
                input: Box::new(e.clone()),
                op: Box::new(ast::PipeOp {
                    kind: ast::PipeOpKind::Summarize {
                        params: vec![],
                        aggregates: vec![ast::NamedExpr {
                            names: vec![],
                            expr: call("make_list", vec![col]),
                            span,
                        }],
                        by: vec![],
                    },
                    span,
                }),
            },
            span,
        };
        Ok(call("toscalar", vec![summarize]))
    }

    pub(super) fn is_tabular(&self, e: &ast::Expr) -> bool {
        use ast::ExprKind as K;
        match &e.kind {
            K::Pipe { .. }
            | K::Print(_)
            | K::Range { .. }
            | K::Datatable { .. }
            | K::Union(_)
            | K::ExternalData(_) => true,
            K::Paren(inner) => self.is_tabular(inner),
            K::Name(id) => match self.lookup(&id.name) {
                Some(Binding::Table(_)) => true,
                Some(_) => false,
                None => self.catalog.contains(&id.name),
            },
            _ => false,
        }
    }
}

/// Combines predicates with `and`/`or` as a balanced tree (depth log2 n).
fn balanced(mut exprs: Vec<Expr>, and: bool) -> Expr {
    if exprs.is_empty() {
        return lit(and);
    }
    while exprs.len() > 1 {
        let mut next = Vec::with_capacity(exprs.len().div_ceil(2));
        let mut it = exprs.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) if and => a.and(b),
                Some(b) => a.or(b),
                None => a,
            });
        }
        exprs = next;
    }
    exprs.pop().unwrap_or(lit(and))
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

/// A literal as a typed constant.
pub(crate) fn literal(l: &Literal, span: Span) -> PResult<Typed> {
    use ScalarType as T;
    Ok(match l {
        Literal::Bool(v) => Typed::new(lit(ScalarValue::Boolean(*v)), T::Bool),
        Literal::Int(v) => Typed::new(lit(ScalarValue::Int32(*v)), T::Int),
        Literal::Long(v) => Typed::new(lit(ScalarValue::Int64(*v)), T::Long),
        Literal::Real(v) => Typed::new(lit(ScalarValue::Float64(*v)), T::Real),
        Literal::Decimal(v) => {
            let parsed = match v {
                None => None,
                Some(s) => match s.trim().parse::<f64>() {
                    Ok(x) => Some(x),
                    Err(_) => {
                        return err("KQL1050", format!("invalid decimal literal `{s}`"), span);
                    }
                },
            };
            Typed::new(lit(ScalarValue::Float64(parsed)), T::Real)
        }
        Literal::String(s) => Typed::new(string_lit(s), T::String),
        Literal::DateTime(None) => Typed::new(crate::datetime::datetime_lit(None), T::DateTime),
        Literal::DateTime(Some(text)) => match crate::datetime::parse_datetime(text) {
            Some(ns) => Typed::new(crate::datetime::datetime_lit(Some(ns)), T::DateTime),
            None => {
                return err(
                    "KQL1051",
                    format!("invalid datetime literal `{text}`"),
                    span,
                )
                .map_err(|d| {
                    Box::new(d.with_help(
                        "use ISO 8601, e.g. datetime(2024-03-01), datetime(2024-03-01 10:00:00) or datetime(2024-03-01T10:00:00.1234567Z)",
                    ))
                });
            }
        },
        Literal::TimeSpan(t) => Typed::new(
            lit(ScalarValue::DurationNanosecond(
                t.map(|t| t.saturating_mul(100)),
            )),
            T::TimeSpan,
        ),
        Literal::Guid(g) => Typed::new(
            lit(ScalarValue::Utf8(
                g.as_ref().map(|g| g.trim().to_lowercase()),
            )),
            T::Guid,
        ),
        Literal::Dynamic(d) => dynamic_constant(d.clone()),
    })
}

/// `l == r` (or `l != r`) as Kusto defines it for nullable values: a null and a non-null value
/// are unequal (`==` is false, `!=` true), two nulls compare to null. Strings are never null,
/// so their comparison stays the plain one.
fn kusto_equality(l: Typed, r: Typed, equal: bool) -> datafusion::error::Result<Expr> {
    let plain = if equal { Operator::Eq } else { Operator::NotEq };
    if l.ty == ScalarType::String && r.ty == ScalarType::String {
        return Ok(binary_expr(l.expr, plain, r.expr));
    }
    let distinct = if equal {
        Operator::IsNotDistinctFrom
    } else {
        Operator::IsDistinctFrom
    };
    let non_null_literal = |e: &Expr| matches!(e, Expr::Literal(v, _) if !v.is_null());
    if non_null_literal(&l.expr) || non_null_literal(&r.expr) {
        return Ok(binary_expr(l.expr, distinct, r.expr));
    }
    let both_null = l.expr.clone().is_null().and(r.expr.clone().is_null());
    datafusion::logical_expr::when(both_null, lit(ScalarValue::Boolean(None)))
        .otherwise(binary_expr(l.expr, distinct, r.expr))
}
