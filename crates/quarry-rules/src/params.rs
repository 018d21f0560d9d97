//! Rule parameters: their types, YAML defaults as KQL literals, and validation of
//! `--param NAME=VALUE` texts before they reach the engine.

use quarry_syntax::ast::{ExprKind, Literal, UnaryOp};
use serde_json::Value;

/// A parameter's type: a KQL scalar type.
pub type ParamType = quarry_syntax::ast::ScalarType;

fn example(ty: ParamType) -> &'static str {
    match ty {
        ParamType::Bool => "true or false",
        ParamType::Int | ParamType::Long => "10",
        ParamType::Real | ParamType::Decimal => "0.5",
        ParamType::String => "abc",
        ParamType::DateTime => "2024-03-01T00:00:00Z",
        ParamType::TimeSpan => "7d, 12h or 30m",
        ParamType::Guid => "74be27de-1e4e-49d9-b579-fe0b331d3642",
        ParamType::Dynamic => "[\"svc_\",\"sa_\"]",
    }
}

/// A KQL string literal for `s`.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The literal a parsed KQL text denotes, with a leading minus folded in.
fn literal(text: &str) -> Option<Literal> {
    let e = quarry_syntax::parse_expr(text).ok()?;
    match e.kind {
        ExprKind::Literal(l) => Some(l),
        ExprKind::Unary {
            op: UnaryOp::Neg,
            operand,
        } => match operand.kind {
            ExprKind::Literal(Literal::Long(Some(v))) => {
                Some(Literal::Long(Some(v.checked_neg()?)))
            }
            ExprKind::Literal(Literal::Real(Some(v))) => Some(Literal::Real(Some(-v))),
            ExprKind::Literal(Literal::TimeSpan(Some(v))) => {
                Some(Literal::TimeSpan(Some(v.checked_neg()?)))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The KQL literal text of a metadata default (a YAML value) for a parameter of type `ty`.
pub fn default_literal(ty: ParamType, v: &Value) -> Result<String, String> {
    let bad = || {
        format!(
            "`{}` is not a {} value (e.g. {})",
            compact(v),
            ty.name(),
            example(ty)
        )
    };
    match (ty, v) {
        (ParamType::Dynamic, Value::String(s)) if s.trim_start().starts_with("dynamic(") => {
            match literal(s) {
                Some(Literal::Dynamic(_)) => Ok(s.trim().to_string()),
                _ => Err(bad()),
            }
        }
        (ParamType::Dynamic, v) => Ok(format!("dynamic({})", compact(v))),
        (ParamType::String, Value::String(s)) => Ok(string_literal(s)),
        (_, Value::String(s)) => param_value(ty, s).map_err(|_| bad()),
        (ParamType::Bool, Value::Bool(b)) => Ok(b.to_string()),
        (
            ParamType::Int | ParamType::Long | ParamType::Real | ParamType::Decimal,
            Value::Number(n),
        ) => param_value(ty, &n.to_string()).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Checks a `--param` value against a parameter type and returns the KQL text to bind:
/// bare words for strings, JSON or `dynamic(...)` for dynamic, `7d`/`time(...)` for timespans,
/// ISO text or `datetime(...)` for datetimes. `Err` says what was expected.
pub fn param_value(ty: ParamType, text: &str) -> Result<String, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "expected a {} value such as {}, got `{text}`",
            ty.name(),
            example(ty)
        )
    };
    let lit = literal(t);
    match ty {
        ParamType::String => match lit {
            Some(Literal::String(_)) => Ok(t.to_string()),
            _ => Ok(string_literal(text)),
        },
        ParamType::Bool => match (lit, t.to_ascii_lowercase().as_str()) {
            (Some(Literal::Bool(Some(b))), _) => Ok(b.to_string()),
            (_, "true") => Ok("true".into()),
            (_, "false") => Ok("false".into()),
            _ => Err(bad()),
        },
        ParamType::Int => match lit {
            Some(Literal::Long(Some(v))) if i32::try_from(v).is_ok() => Ok(format!("int({v})")),
            Some(Literal::Int(Some(v))) => Ok(format!("int({v})")),
            _ => Err(bad()),
        },
        ParamType::Long => match lit {
            Some(Literal::Long(Some(v))) => Ok(v.to_string()),
            Some(Literal::Int(Some(v))) => Ok(v.to_string()),
            _ => Err(bad()),
        },
        ParamType::Real | ParamType::Decimal => match lit {
            Some(Literal::Real(Some(v))) if v.is_finite() => Ok(format_real(v)),
            Some(Literal::Long(Some(v))) => Ok(format_real(v as f64)),
            _ => Err(bad()),
        },
        ParamType::TimeSpan => match lit {
            Some(Literal::TimeSpan(Some(v))) => Ok(if v < 0 {
                format!("-{}", t.trim_start_matches('-'))
            } else {
                t.to_string()
            }),
            _ => match quarry_sources::parse_timespan(t) {
                // `01:00:00`-style text: wrap it.
                Some(_) if !t.contains(['(', ')', '"', '\'']) => Ok(format!("time({t})")),
                _ => Err(bad()),
            },
        },
        ParamType::DateTime => match lit {
            Some(Literal::DateTime(Some(_))) => Ok(t.to_string()),
            _ => match quarry_sources::parse_datetime(t) {
                Some(_) if !t.contains(['(', ')']) => Ok(format!("datetime({t})")),
                _ => Err(bad()),
            },
        },
        ParamType::Guid => match lit {
            Some(Literal::Guid(Some(_))) => Ok(t.to_string()),
            _ if is_guid(t) => Ok(format!("guid({t})")),
            _ => Err(bad()),
        },
        ParamType::Dynamic => match lit {
            Some(Literal::Dynamic(_)) => Ok(t.to_string()),
            _ => match serde_json::from_str::<Value>(t) {
                Ok(v) => Ok(format!("dynamic({})", compact(&v))),
                Err(_) => Err(bad()),
            },
        },
    }
}

fn format_real(v: f64) -> String {
    let s = format!("{v:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn is_guid(t: &str) -> bool {
    let parts: Vec<&str> = t.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_by_type() {
        assert_eq!(
            param_value(ParamType::String, "svc_").as_deref(),
            Ok("\"svc_\"")
        );
        assert_eq!(param_value(ParamType::String, "'a'").as_deref(), Ok("'a'"));
        assert_eq!(
            param_value(ParamType::Bool, "False").as_deref(),
            Ok("false")
        );
        assert!(param_value(ParamType::Bool, "yes").is_err());
        assert_eq!(param_value(ParamType::Long, "10").as_deref(), Ok("10"));
        assert_eq!(param_value(ParamType::Long, "-3").as_deref(), Ok("-3"));
        assert!(param_value(ParamType::Long, "ten").is_err());
        assert_eq!(param_value(ParamType::TimeSpan, "7d").as_deref(), Ok("7d"));
        assert!(param_value(ParamType::TimeSpan, "yesterday").is_err());
        assert_eq!(
            param_value(ParamType::DateTime, "2024-03-01T00:00:00Z").as_deref(),
            Ok("datetime(2024-03-01T00:00:00Z)")
        );
        assert_eq!(
            param_value(ParamType::Dynamic, r#"["sa_"]"#).as_deref(),
            Ok(r#"dynamic(["sa_"])"#)
        );
        assert!(param_value(ParamType::Dynamic, "[sa_").is_err());
        assert_eq!(param_value(ParamType::Real, "1").as_deref(), Ok("1.0"));
    }

    #[test]
    fn defaults_from_yaml() {
        let v: Value = serde_json::json!(["svc_", "sa_"]);
        assert_eq!(
            default_literal(ParamType::Dynamic, &v).as_deref(),
            Ok(r#"dynamic(["svc_","sa_"])"#)
        );
        assert_eq!(
            default_literal(ParamType::TimeSpan, &serde_json::json!("0d")).as_deref(),
            Ok("0d")
        );
        assert_eq!(
            default_literal(ParamType::Bool, &serde_json::json!(true)).as_deref(),
            Ok("true")
        );
        assert!(default_literal(ParamType::Bool, &serde_json::json!(3)).is_err());
        assert_eq!(
            default_literal(ParamType::String, &serde_json::json!("a\"b")).as_deref(),
            Ok("\"a\\\"b\"")
        );
    }
}
