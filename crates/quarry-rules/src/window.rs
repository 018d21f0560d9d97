//! Preparing a rule to run in a hunt: parameter injection, the time window (`--since`,
//! `--until`, `--now`, the rule's own look-back), and Sentinel's `{{StartTimeISO}}` /
//! `{{EndTimeISO}}` placeholders.
//!
//! The window is applied by rewriting the query text, so that it stays ordinary KQL and every
//! engine feature works on it: each table the rule reads is shadowed by a `let` that filters it
//! on its time column, `let T = T | where TimeCol >= datetime(S) and TimeCol < datetime(U);`,
//! prepended to the text. [`Edited`] keeps the edits so diagnostics from the engine map back to
//! the rule's own text.

use crate::params::param_value;
use crate::rule::{Rule, RuleFormat};
use quarry_syntax::Span;
use quarry_syntax::ast::Statement;

/// A text produced from an original by insertions/replacements, with the edits kept so offsets
/// in the new text map back to the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    pub text: String,
    /// (original range, new range), ascending and non-overlapping.
    edits: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
}

impl Edited {
    /// Applies `edits` (original range → replacement text), which must not overlap.
    pub fn new(original: &str, mut edits: Vec<(std::ops::Range<usize>, String)>) -> Edited {
        edits.sort_by_key(|(r, _)| (r.start, r.end));
        let mut text = String::with_capacity(original.len() + 256);
        let mut kept = Vec::new();
        let mut pos = 0;
        for (r, rep) in edits {
            if r.start < pos || r.end > original.len() || r.start > r.end {
                continue;
            }
            text.push_str(original.get(pos..r.start).unwrap_or(""));
            let new_start = text.len();
            text.push_str(&rep);
            kept.push((r.clone(), new_start..text.len()));
            pos = r.end;
        }
        text.push_str(original.get(pos..).unwrap_or(""));
        Edited { text, edits: kept }
    }

    /// The original offset of new offset `n`; `None` inside inserted or replaced text.
    pub fn map_back(&self, n: usize) -> Option<usize> {
        let mut delta: isize = 0;
        for (orig, new) in &self.edits {
            if n < new.start {
                break;
            }
            if n < new.end || (new.is_empty() && n == new.start && !orig.is_empty()) {
                return None;
            }
            delta = orig.end as isize - new.end as isize;
        }
        usize::try_from(n as isize + delta).ok()
    }

    /// The original span of `s`, if both ends fall in original text.
    pub fn map_span(&self, s: Span) -> Option<Span> {
        let start = self.map_back(s.start as usize)?;
        let end = self.map_back(s.end as usize).or_else(|| {
            self.map_back((s.end as usize).saturating_sub(1))
                .map(|e| e + 1)
        })?;
        Some(Span::new(start, end.max(start)))
    }
}

const START: &str = "{{StartTimeISO}}";
const END: &str = "{{EndTimeISO}}";

/// Replaces Sentinel's time placeholders (used inside string literals) with ISO datetimes.
fn placeholder_edits(query: &str, start: &str, end: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let mut out = Vec::new();
    for (pat, rep) in [(START, start), (END, end)] {
        for (i, _) in query.match_indices(pat) {
            out.push((i..i + pat.len(), rep.to_string()));
        }
    }
    out
}

/// The query with placeholders filled by a fixed datetime, for linting and table discovery.
pub fn fill_placeholders_for_lint(query: &str) -> String {
    Edited::new(
        query,
        placeholder_edits(query, "2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z"),
    )
    .text
}

/// Like [`fill_placeholders_for_lint`], keeping the edits.
pub fn placeholders_for_lint(query: &str) -> Edited {
    Edited::new(
        query,
        placeholder_edits(query, "2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z"),
    )
}

/// ISO 8601 text (`2024-03-01T10:00:00Z`, fractional digits only when non-zero) of ns since
/// the epoch.
pub fn iso(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    let base = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    );
    if frac == 0 {
        format!("{base}Z")
    } else {
        let f = format!("{frac:09}");
        format!("{base}.{}Z", f.trim_end_matches('0'))
    }
}

/// A human text for a duration in ns (`14d`, `1h`, `90m`, `30s`).
pub fn span_text(ns: i64) -> String {
    const S: i64 = 1_000_000_000;
    for (unit, n) in [("d", 86_400 * S), ("h", 3600 * S), ("m", 60 * S), ("s", S)] {
        if ns != 0 && ns % n == 0 {
            return format!("{}{unit}", ns / n);
        }
    }
    if ns == 0 {
        "0d".into()
    } else {
        format!("{}ms", ns / 1_000_000)
    }
}

/// What a hunt asks of every rule.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub since_ns: Option<i64>,
    pub until_ns: Option<i64>,
    /// `--now`.
    pub now_ns: Option<i64>,
    /// The wall clock, used for `now()` when neither `--now` nor `--until` is given.
    pub wall_now_ns: i64,
    /// `--param NAME=VALUE`, raw.
    pub params: Vec<(String, String)>,
}

/// The time range a rule run looks at (for "the data lies outside the window" notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub from_ns: Option<i64>,
    pub to_ns: Option<i64>,
    /// Where the window comes from, for messages (`--since/--until`, `Lookback 1d before now()`).
    pub why: String,
}

/// A rule ready for the engine.
#[derive(Debug, Clone)]
pub struct PreparedRun {
    pub text: Edited,
    /// `let` overrides for the engine (name, KQL value text).
    pub params: Vec<(String, String)>,
    pub now_ns: i64,
    /// The time window the run is restricted to, if any.
    pub window: Option<Window>,
    /// Tables filtered by the window, with their time column.
    pub windowed: Vec<(String, String)>,
    pub notes: Vec<String>,
}

/// The top-level `let` names of a query.
pub fn top_level_lets(query: &str) -> Vec<String> {
    quarry_syntax::parse(query)
        .script
        .statements
        .iter()
        .filter_map(|s| match s {
            Statement::Let(l) => Some(l.name.name.clone()),
            _ => None,
        })
        .collect()
}

/// Prepares `rule` for a run. `time_column(table)` gives the time column of a bound table
/// (`None`: the table has none). `Err` is a clear message (a bad `--param` value).
pub fn prepare(
    rule: &Rule,
    opts: &RunOptions,
    time_column: &dyn Fn(&str) -> Option<String>,
) -> Result<PreparedRun, String> {
    let now = opts.now_ns.or(opts.until_ns).unwrap_or(opts.wall_now_ns);
    let lets = top_level_lets(&rule.query);
    let mut params = Vec::new();
    let mut notes = Vec::new();
    for (name, value) in &opts.params {
        if !lets.contains(name) {
            continue;
        }
        let text = match rule.param(name) {
            Some(spec) => {
                param_value(spec.ty, value).map_err(|m| format!("--param {name}: {m}"))?
            }
            None => value.clone(),
        };
        params.push((name.clone(), text));
    }
    let explicit = opts.since_ns.is_some() || opts.until_ns.is_some();
    let mut window = None;
    // The rule's look-back parameter: replaced by the explicit window, else it is the window.
    if let Some(lb) = &rule.lookback
        && lets.contains(lb)
    {
        let user = opts
            .params
            .iter()
            .find(|(n, _)| n == lb)
            .map(|(_, v)| v.clone());
        if explicit && user.is_none() {
            params.push((lb.clone(), "0d".into()));
        } else {
            let text = user.or_else(|| {
                rule.param(lb)
                    .and_then(|p| p.default.as_ref())
                    .and_then(|d| d.as_str().map(String::from))
            });
            if let Some(ns) = text
                .as_deref()
                .and_then(|t| quarry_sources::parse_timespan(t.trim()))
                && ns > 0
                && !explicit
            {
                window = Some(Window {
                    from_ns: now.checked_sub(ns),
                    to_ns: None,
                    why: format!("{lb} = {} before now() = {}", span_text(ns), iso(now)),
                });
            }
        }
    }
    // A query's own `where Timestamp > ago(30d)` is a window too (for the notes only).
    if window.is_none()
        && !explicit
        && let Some(ns) = own_ago_window(&rule.query)
    {
        window = Some(Window {
            from_ns: now.checked_sub(ns),
            to_ns: None,
            why: format!(
                "the query's own ago({}) before now() = {}",
                span_text(ns),
                iso(now)
            ),
        });
    }
    let period = rule.schedule.as_ref().and_then(|s| s.period_ns);
    let (from, to, why) = if explicit {
        (
            opts.since_ns,
            opts.until_ns,
            Some("--since/--until".to_string()),
        )
    } else if let (Some(p), Some(n), RuleFormat::SentinelYaml) = (period, opts.now_ns, rule.format)
    {
        (
            n.checked_sub(p),
            Some(n),
            Some(format!(
                "queryPeriod {} before --now {}",
                span_text(p),
                iso(n)
            )),
        )
    } else {
        (None, None, None)
    };
    let mut edits = Vec::new();
    let mut windowed = Vec::new();
    if let Some(why) = why {
        let mut prefix = String::new();
        for t in &rule.tables {
            let col = rule
                .time_column
                .clone()
                .filter(|_| time_column(t).is_some())
                .or_else(|| time_column(t));
            let Some(col) = col else {
                notes.push(format!(
                    "table {t} has no Timestamp or TimeGenerated column: the time window is not applied to it"
                ));
                continue;
            };
            let mut conds = Vec::new();
            if let Some(f) = from {
                conds.push(format!("['{col}'] >= datetime({})", iso(f)));
            }
            if let Some(u) = to {
                conds.push(format!("['{col}'] < datetime({})", iso(u)));
            }
            if conds.is_empty() {
                continue;
            }
            prefix.push_str(&format!(
                "let ['{t}'] = ['{t}'] | where {};\n",
                conds.join(" and ")
            ));
            windowed.push((t.clone(), col));
        }
        if !prefix.is_empty() {
            edits.push((0..0, prefix));
        }
        window = Some(Window {
            from_ns: from,
            to_ns: to,
            why,
        });
    }
    if rule.query.contains(START) || rule.query.contains(END) {
        let start = opts
            .since_ns
            .or_else(|| {
                opts.now_ns
                    .and_then(|n| period.and_then(|p| n.checked_sub(p)))
            })
            .unwrap_or(0);
        let end = opts.until_ns.unwrap_or(now);
        edits.extend(placeholder_edits(&rule.query, &iso(start), &iso(end)));
    }
    Ok(PreparedRun {
        text: Edited::new(&rule.query, edits),
        params,
        now_ns: now,
        window,
        windowed,
        notes,
    })
}

/// The largest `ago(<timespan literal>)` compared with `>`/`>=` against `Timestamp` or
/// `TimeGenerated` anywhere in the query, in ns.
pub fn own_ago_window(query: &str) -> Option<i64> {
    use quarry_syntax::ast::{BinaryOp, ExprKind, Literal};
    let parsed = quarry_syntax::parse(query);
    let mut best: Option<i64> = None;
    let mut visit = |e: &quarry_syntax::ast::Expr| {
        let ExprKind::Binary { op, left, right } = &e.kind else {
            return;
        };
        let (col, call) = match op {
            BinaryOp::Gt | BinaryOp::Ge => (left, right),
            BinaryOp::Lt | BinaryOp::Le => (right, left),
            _ => return,
        };
        let ExprKind::Name(c) = &col.kind else { return };
        if c.name != "Timestamp" && c.name != "TimeGenerated" {
            return;
        }
        if let ExprKind::Call { name, args } = &call.kind
            && name.name == "ago"
            && let [arg] = args.as_slice()
            && let ExprKind::Literal(Literal::TimeSpan(Some(ticks))) = &arg.value.kind
            && let Some(ns) = ticks.checked_mul(100)
        {
            best = Some(best.map_or(ns, |b: i64| b.max(ns)));
        }
    };
    for s in &parsed.script.statements {
        let e = match s {
            Statement::Query(e) => e,
            Statement::Let(l) => match &l.value {
                quarry_syntax::ast::LetValue::Expr(e) => e,
                _ => continue,
            },
            Statement::Set { .. } => continue,
        };
        crate::walk::walk(e, &mut visit);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_formats() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_709_287_200_000_000_000), "2024-03-01T10:00:00Z");
        assert_eq!(iso(1_709_287_200_123_000_000), "2024-03-01T10:00:00.123Z");
        assert_eq!(iso(-1_000_000_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn edits_map_back() {
        let e = Edited::new(
            "abcXdef",
            vec![(0..0, "PRE;".into()), (3..4, "LONGER".into())],
        );
        assert_eq!(e.text, "PRE;abcLONGERdef");
        assert_eq!(e.map_back(0), None);
        assert_eq!(e.map_back(4), Some(0));
        assert_eq!(e.map_back(6), Some(2));
        assert_eq!(e.map_back(8), None);
        assert_eq!(e.map_back(13), Some(4));
        assert_eq!(e.map_back(16), Some(7));
        assert_eq!(e.map_span(Span::new(13, 16)), Some(Span::new(4, 7)));
    }
}
