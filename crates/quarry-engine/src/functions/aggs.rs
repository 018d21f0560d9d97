//! Kernels behind the statistical aggregates that are computed from the collected values of a
//! group (`percentile`, `percentiles`, `percentilesw`, `covariance`, `tdigest`, ...).
//!
//! The planner aggregates with `array_agg` (one list per group) and applies one of these
//! kernels to the list. Percentiles use Kusto's nearest-rank definition: the value at rank
//! `ceil(p/100 * N)` of the sorted (weighted) values. Kusto estimates percentiles with a
//! t-digest; on small inputs its estimate is that exact value, and Quarry always computes it
//! exactly. A `tdigest` value here is exact too: a dynamic object holding every distinct value
//! with its weight, `{"tdigest":[[value,weight],...]}` (Kusto's layout is opaque; only the
//! functions that read it depend on it).

use super::dynamic::{json_text, parse_dynamic};
use super::udf::arg_array;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, ListArray, StringArray, UInt32Array,
};
use datafusion::arrow::compute::{SortOptions, sort_to_indices, take};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;
use serde_json::Value;
use std::sync::Arc;

/// The nearest rank (1-based) of percentile `p` among `n` values: `ceil(p/100 * n)`, at least 1.
fn nearest_rank(p: f64, n: f64) -> f64 {
    (p / 100.0 * n).ceil().clamp(1.0, n.max(1.0))
}

/// The percentiles argument (a constant real) of a kernel.
fn percent_arg(args: &[ColumnarValue], i: usize) -> Option<f64> {
    match args.get(i) {
        Some(ColumnarValue::Scalar(s)) => match s.cast_to(&DataType::Float64).ok()? {
            ScalarValue::Float64(v) => v,
            _ => None,
        },
        Some(ColumnarValue::Array(a)) if !a.is_empty() && !a.is_null(0) => {
            let a = datafusion::arrow::compute::cast(a, &DataType::Float64).ok()?;
            Some(a.as_primitive::<Float64Type>().value(0))
        }
        _ => None,
    }
}

/// `percentile_list(list, p)`: the nearest-rank percentile of each row's list (any orderable
/// element type; the result has the element type; null for an empty or null list).
pub fn percentile_list(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let lists = arg_array(args, 0, rows)?;
    let lists = lists.as_list::<i32>();
    let p = percent_arg(args, 1);
    let mut picked: Vec<Option<u32>> = Vec::with_capacity(lists.len());
    let mut values: Vec<ArrayRef> = Vec::with_capacity(lists.len());
    let elem_type = match lists.data_type() {
        DataType::List(f) => f.data_type().clone(),
        other => other.clone(),
    };
    for i in 0..lists.len() {
        if lists.is_null(i) || p.is_none() {
            picked.push(None);
            continue;
        }
        let v = lists.value(i);
        let idx = sort_to_indices(
            &v,
            Some(SortOptions {
                descending: false,
                nulls_first: false,
            }),
            None,
        )?;
        let n = v.len() - v.null_count();
        if n == 0 {
            picked.push(None);
            continue;
        }
        let rank = nearest_rank(p.unwrap_or(0.0), n as f64) as usize;
        let at = idx.value(rank - 1);
        // Offset into the concatenation of the picked lists.
        let base: usize = values.iter().map(|a| a.len()).sum();
        picked.push(Some(base as u32 + at));
        values.push(v);
    }
    if values.is_empty() {
        return Ok(datafusion::arrow::array::new_null_array(
            &elem_type,
            lists.len(),
        ));
    }
    let refs: Vec<&dyn Array> = values.iter().map(|a| a.as_ref()).collect();
    let all = datafusion::arrow::compute::concat(&refs)?;
    let indices = UInt32Array::from(picked);
    Ok(take(&all, &indices, None)?)
}

/// Each row's list of `[value, weight, ...]` pairs (List<List<Float64>>) as vectors.
fn pairs_at(lists: &ListArray, i: usize) -> Vec<(f64, f64)> {
    if lists.is_null(i) {
        return vec![];
    }
    let inner = lists.value(i);
    let inner = inner.as_list::<i32>();
    let mut out = Vec::with_capacity(inner.len());
    for j in 0..inner.len() {
        if inner.is_null(j) {
            continue;
        }
        let pair = inner.value(j);
        let pair = pair.as_primitive::<Float64Type>();
        if pair.len() >= 2 && !pair.is_null(0) && !pair.is_null(1) {
            out.push((pair.value(0), pair.value(1)));
        }
    }
    out
}

/// The weighted nearest-rank percentile of sorted `(value, weight)` pairs.
fn weighted_rank(sorted: &[(f64, f64)], p: f64) -> Option<f64> {
    let total: f64 = sorted.iter().map(|(_, w)| w.max(0.0)).sum();
    if sorted.is_empty() || total <= 0.0 {
        return None;
    }
    let rank = nearest_rank(p, total);
    let mut acc = 0.0;
    for (v, w) in sorted {
        acc += w.max(0.0);
        if acc >= rank {
            return Some(*v);
        }
    }
    sorted.last().map(|(v, _)| *v)
}

fn sorted_pairs(mut pairs: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    pairs
}

/// `percentilew_list(pairs, p)`: the weighted nearest-rank percentile (real).
pub fn percentilew_list(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let lists = arg_array(args, 0, rows)?;
    let lists = lists.as_list::<i32>();
    let p = percent_arg(args, 1);
    let out: Float64Array = (0..lists.len())
        .map(|i| p.and_then(|p| weighted_rank(&sorted_pairs(pairs_at(lists, i)), p)))
        .collect();
    Ok(Arc::new(out))
}

/// `percentiles_array_list(pairs, percents)`: a dynamic array of weighted nearest-rank
/// percentiles, one per entry of the dynamic array `percents`.
pub fn percentiles_array_list(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let lists = arg_array(args, 0, rows)?;
    let lists = lists.as_list::<i32>();
    let percents: Vec<f64> = match args.get(1) {
        Some(ColumnarValue::Scalar(s)) => match super::udf::scalar_str(s).map(parse_dynamic) {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_f64).collect(),
            _ => vec![],
        },
        _ => vec![],
    };
    let out: StringArray = (0..lists.len())
        .map(|i| {
            let sorted = sorted_pairs(pairs_at(lists, i));
            if sorted.is_empty() {
                return None;
            }
            let vals: Vec<Value> = percents
                .iter()
                .map(|p| {
                    weighted_rank(&sorted, *p)
                        .and_then(|v| {
                            if v.fract() == 0.0 && v.abs() < 9e15 {
                                Some(Value::from(v as i64))
                            } else {
                                serde_json::Number::from_f64(v).map(Value::Number)
                            }
                        })
                        .unwrap_or(Value::Null)
                })
                .collect();
            Some(json_text(&Value::Array(vals)))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `covariance_list(pairs, sample)`: the covariance of each row's `[x, y]` pairs; the second
/// argument (a bool constant) picks the sample (n-1) or population (n) form.
pub fn covariance_list(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let lists = arg_array(args, 0, rows)?;
    let lists = lists.as_list::<i32>();
    let sample = matches!(
        args.get(1),
        Some(ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))))
    );
    let out: Float64Array = (0..lists.len())
        .map(|i| {
            let pairs = pairs_at(lists, i);
            let n = pairs.len() as f64;
            let denom = if sample { n - 1.0 } else { n };
            if pairs.is_empty() || denom <= 0.0 {
                return if pairs.is_empty() { None } else { Some(0.0) };
            }
            let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
            let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
            Some(pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum::<f64>() / denom)
        })
        .collect();
    Ok(Arc::new(out))
}

/// The digest of sorted `(value, weight)` pairs, equal values merged.
fn digest_json(pairs: Vec<(f64, f64)>) -> Value {
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (v, w) in sorted_pairs(pairs) {
        match merged.last_mut() {
            Some(last) if last.0 == v => last.1 += w,
            _ => merged.push((v, w)),
        }
    }
    let items: Vec<Value> = merged
        .into_iter()
        .map(|(v, w)| {
            let num = |x: f64| {
                if x.fract() == 0.0 && x.abs() < 9e15 {
                    Value::from(x as i64)
                } else {
                    serde_json::Number::from_f64(x)
                        .map(Value::Number)
                        .unwrap_or(Value::Null)
                }
            };
            Value::Array(vec![num(v), num(w)])
        })
        .collect();
    serde_json::json!({ "tdigest": items })
}

/// The `(value, weight)` pairs of a digest value (empty when it is not one).
pub fn digest_pairs(v: &Value) -> Vec<(f64, f64)> {
    v.get("tdigest")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|it| Some((it.get(0)?.as_f64()?, it.get(1)?.as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// `tdigest_list(pairs)`: the digest (dynamic) of each row's `[value, weight]` pairs.
pub fn tdigest_list(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let lists = arg_array(args, 0, rows)?;
    let lists = lists.as_list::<i32>();
    let out: StringArray = (0..lists.len())
        .map(|i| {
            let pairs = pairs_at(lists, i);
            (!pairs.is_empty()).then(|| json_text(&digest_json(pairs)))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `tdigest_merge_list(list of digests)`: one digest of all the digests of each row's list.
pub fn tdigest_merge_list(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let lists = arg_array(args, 0, rows)?;
    let lists = lists.as_list::<i32>();
    let out: StringArray = (0..lists.len())
        .map(|i| {
            if lists.is_null(i) {
                return None;
            }
            let inner = lists.value(i);
            let texts = datafusion::arrow::compute::cast(&inner, &DataType::Utf8).ok()?;
            let texts = texts.as_string::<i32>();
            let pairs: Vec<(f64, f64)> = (0..texts.len())
                .filter(|j| !texts.is_null(*j))
                .flat_map(|j| digest_pairs(&parse_dynamic(texts.value(j))))
                .collect();
            (!pairs.is_empty()).then(|| json_text(&digest_json(pairs)))
        })
        .collect();
    Ok(Arc::new(out))
}

/// Scalar `merge_tdigest(d1, d2, ...)`: one digest of the argument digests.
pub fn merge_tdigest(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = super::fnargs::batch_len(args, rows);
    let cols: Vec<StringArray> = (0..args.len())
        .map(|i| super::fnargs::strs(args, i, n))
        .collect::<Result<_>>()?;
    let out: StringArray = (0..n)
        .map(|r| {
            let pairs: Vec<(f64, f64)> = cols
                .iter()
                .filter_map(|c| super::fnargs::dyn_at(c, r))
                .flat_map(|v| digest_pairs(&v))
                .collect();
            (!pairs.is_empty()).then(|| json_text(&digest_json(pairs)))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `percentile_tdigest(digest, p)` (real; the planner casts to the requested type).
pub fn percentile_tdigest(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = super::fnargs::batch_len(args, rows);
    let d = super::fnargs::strs(args, 0, n)?;
    let p = arg_array(args, 1, n)?;
    let p = datafusion::arrow::compute::cast(&p, &DataType::Float64)?;
    let p = p.as_primitive::<Float64Type>();
    let out: Float64Array = (0..n)
        .map(|r| {
            let v = super::fnargs::dyn_at(&d, r)?;
            if p.is_null(r) {
                return None;
            }
            weighted_rank(&sorted_pairs(digest_pairs(&v)), p.value(r))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `rank_tdigest(digest, v)`: the total weight of the values less than or equal to `v`.
pub fn rank_tdigest(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = super::fnargs::batch_len(args, rows);
    let d = super::fnargs::strs(args, 0, n)?;
    let x = arg_array(args, 1, n)?;
    let x = datafusion::arrow::compute::cast(&x, &DataType::Float64)?;
    let x = x.as_primitive::<Float64Type>();
    let out: datafusion::arrow::array::Int64Array = (0..n)
        .map(|r| {
            let v = super::fnargs::dyn_at(&d, r)?;
            if x.is_null(r) {
                return None;
            }
            let at = x.value(r);
            Some(
                digest_pairs(&v)
                    .iter()
                    .filter(|(v, _)| *v <= at)
                    .map(|(_, w)| *w)
                    .sum::<f64>() as i64,
            )
        })
        .collect();
    Ok(Arc::new(out))
}

/// `make_list_with_nulls` finisher: a list of dynamic JSON texts → one JSON array, null
/// elements kept as `null`; no rows → `[]`.
pub fn list_with_nulls_to_json(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let lists = arg_array(args, 0, rows)?;
    let lists = lists.as_list::<i32>();
    let out: StringArray = (0..lists.len())
        .map(|i| {
            if lists.is_null(i) {
                return Ok(Some("[]".to_string()));
            }
            let items = datafusion::arrow::compute::cast(&lists.value(i), &DataType::Utf8)?;
            let items = items.as_string::<i32>();
            let values: Vec<Value> = (0..items.len())
                .map(|j| {
                    if items.is_null(j) {
                        Value::Null
                    } else {
                        parse_dynamic(items.value(j))
                    }
                })
                .collect();
            Ok(Some(json_text(&Value::Array(values))))
        })
        .collect::<Result<StringArray>>()?;
    Ok(Arc::new(out))
}

/// `hll` finisher (`merge = false`: the list holds values) and `hll_merge` (`merge = true`:
/// the list holds sketches). Quarry's sketch is exact: `{"hll": [distinct values]}`, so
/// `dcount_hll` is exact too (Kusto's HyperLogLog sketch is opaque and approximate).
pub fn hll_list(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let lists = arg_array(args, 0, rows)?;
    let lists = lists.as_list::<i32>();
    let merge = matches!(
        args.get(1),
        Some(ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))))
    );
    let out: StringArray = (0..lists.len())
        .map(|i| {
            if lists.is_null(i) {
                return Ok(None);
            }
            let items = datafusion::arrow::compute::cast(&lists.value(i), &DataType::Utf8)?;
            let items = items.as_string::<i32>();
            let mut seen = std::collections::BTreeSet::new();
            for j in 0..items.len() {
                if items.is_null(j) {
                    continue;
                }
                let v = parse_dynamic(items.value(j));
                if merge {
                    for x in v.get("hll").and_then(Value::as_array).into_iter().flatten() {
                        seen.insert(json_text(x));
                    }
                } else {
                    seen.insert(json_text(&v));
                }
            }
            let values: Vec<Value> = seen.iter().map(|t| parse_dynamic(t)).collect();
            Ok((!values.is_empty()).then(|| json_text(&serde_json::json!({ "hll": values }))))
        })
        .collect::<Result<StringArray>>()?;
    Ok(Arc::new(out))
}

/// `dcount_hll(sketch)`: the number of distinct values of an `hll` sketch.
pub fn dcount_hll(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = super::fnargs::batch_len(args, rows);
    let d = super::fnargs::strs(args, 0, n)?;
    let out: datafusion::arrow::array::Int64Array = (0..n)
        .map(|r| {
            Some(
                super::fnargs::dyn_at(&d, r)
                    .and_then(|v| v.get("hll").and_then(Value::as_array).map(Vec::len))
                    .unwrap_or(0) as i64,
            )
        })
        .collect();
    Ok(Arc::new(out))
}

use super::registry::{Simple, ret};

/// The scalar functions over digests.
pub const FUNCTIONS: &[Simple] = &[
    Simple {
        name: "merge_tdigest",
        args: (1, 64),
        ret: ret::dynamic,
        kernel: merge_tdigest,
    },
    Simple {
        name: "percentile_tdigest",
        args: (2, 3),
        ret: ret::real,
        kernel: percentile_tdigest,
    },
    Simple {
        name: "dcount_hll",
        args: (1, 1),
        ret: ret::long,
        kernel: dcount_hll,
    },
    Simple {
        name: "rank_tdigest",
        args: (2, 2),
        ret: ret::long,
        kernel: rank_tdigest,
    },
];

/// One alternative of a `buildschema` schema: a scalar type name, an object's properties, or
/// an array's element schema (`` `indexer` ``).
#[derive(Debug, Clone)]
enum SchemaAlt {
    Type(&'static str),
    Object(Vec<(String, Vec<SchemaAlt>)>),
    Indexer(Vec<SchemaAlt>),
}

fn schema_merge(alts: &mut Vec<SchemaAlt>, v: &Value) {
    match v {
        Value::Null => {}
        Value::Object(map) => {
            let pos = alts.iter().position(|a| matches!(a, SchemaAlt::Object(_)));
            let idx = pos.unwrap_or_else(|| {
                alts.push(SchemaAlt::Object(vec![]));
                alts.len() - 1
            });
            if let SchemaAlt::Object(props) = &mut alts[idx] {
                for (k, x) in map {
                    let at = props.iter().position(|(n, _)| n == k).unwrap_or_else(|| {
                        props.push((k.clone(), vec![]));
                        props.len() - 1
                    });
                    schema_merge(&mut props[at].1, x);
                }
            }
        }
        Value::Array(items) => {
            let pos = alts.iter().position(|a| matches!(a, SchemaAlt::Indexer(_)));
            let idx = pos.unwrap_or_else(|| {
                alts.push(SchemaAlt::Indexer(vec![]));
                alts.len() - 1
            });
            if let SchemaAlt::Indexer(elems) = &mut alts[idx] {
                for x in items {
                    schema_merge(elems, x);
                }
            }
        }
        scalar => {
            let name = match scalar {
                Value::Bool(_) => "bool",
                Value::Number(n) if n.is_i64() || n.is_u64() => "long",
                Value::Number(_) => "double",
                _ => "string",
            };
            if !alts
                .iter()
                .any(|a| matches!(a, SchemaAlt::Type(t) if *t == name))
            {
                alts.push(SchemaAlt::Type(name));
            }
        }
    }
}

fn schema_json(alts: &[SchemaAlt]) -> Value {
    let one = |a: &SchemaAlt| match a {
        SchemaAlt::Type(t) => Value::String(t.to_string()),
        SchemaAlt::Object(props) => Value::Object(
            props
                .iter()
                .map(|(k, v)| (k.clone(), schema_json(v)))
                .collect(),
        ),
        SchemaAlt::Indexer(elems) => serde_json::json!({ "`indexer`": schema_json(elems) }),
    };
    match alts {
        [single] => one(single),
        many => Value::Array(many.iter().map(one).collect()),
    }
}

/// `buildschema` finisher: the minimal schema admitting every dynamic value of the list
/// (buildschema reference): property names map to their schemas, arrays to
/// `` {"`indexer`": schema} ``, and several types of one slot to an array of alternatives.
pub fn buildschema_list(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let lists = arg_array(args, 0, rows)?;
    let lists = lists.as_list::<i32>();
    let out: StringArray = (0..lists.len())
        .map(|i| {
            if lists.is_null(i) {
                return Ok(None);
            }
            let items = datafusion::arrow::compute::cast(&lists.value(i), &DataType::Utf8)?;
            let items = items.as_string::<i32>();
            let mut alts = Vec::new();
            for j in 0..items.len() {
                if !items.is_null(j) {
                    schema_merge(&mut alts, &parse_dynamic(items.value(j)));
                }
            }
            Ok((!alts.is_empty()).then(|| json_text(&schema_json(&alts))))
        })
        .collect::<Result<StringArray>>()?;
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_nearest_rank() {
        let pairs = sorted_pairs(vec![(10.0, 8.0), (20.0, 6.0), (30.0, 3.0), (40.0, 1.0)]);
        assert_eq!(weighted_rank(&pairs, 50.0), Some(20.0));
        assert_eq!(weighted_rank(&pairs, 75.0), Some(20.0));
        assert_eq!(weighted_rank(&pairs, 99.9), Some(40.0));
        assert_eq!(weighted_rank(&pairs, 0.0), Some(10.0));
        assert_eq!(weighted_rank(&[], 50.0), None);
    }
}
