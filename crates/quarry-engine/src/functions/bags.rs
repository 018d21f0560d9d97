//! Dynamic property bags, arrays and sets: `bag_pack`, `bag_keys`, `bag_merge`,
//! `bag_remove_keys`, `bag_set_key`, `bag_has_key`, `bag_zip`, `array_*`, `set_*`, `zip`,
//! `range`, `repeat`, `jaccard_index`, `dynamic_to_json`.

use super::fnargs::{
    Step, Values, array_at, batch_len, bools, dyn_at, f64s, follow, i64s, json_eq, json_key,
    json_number, json_result, parse_json_path, strs,
};
use super::registry::{Simple, ret};
use super::udf::arg_array;
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use quarry_syntax::ast::ScalarType;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

fn even_args(args: &[ScalarType]) -> Result<ScalarType, String> {
    if !args.len().is_multiple_of(2) {
        return Err("expects key/value pairs: an even number of arguments".into());
    }
    Ok(ScalarType::Dynamic)
}

pub const FUNCTIONS: &[Simple] = &[
    Simple {
        name: "bag_pack",
        args: (0, 128),
        ret: even_args,
        kernel: bag_pack,
    },
    Simple {
        name: "pack",
        args: (0, 128),
        ret: even_args,
        kernel: bag_pack,
    },
    Simple {
        name: "pack_dictionary",
        args: (0, 128),
        ret: even_args,
        kernel: bag_pack,
    },
    Simple {
        name: "bag_keys",
        args: (1, 1),
        ret: ret::dynamic,
        kernel: bag_keys,
    },
    Simple {
        name: "bag_merge",
        args: (2, 64),
        ret: ret::dynamic,
        kernel: bag_merge,
    },
    Simple {
        name: "bag_remove_keys",
        args: (2, 2),
        ret: ret::dynamic,
        kernel: bag_remove_keys,
    },
    Simple {
        name: "bag_set_key",
        args: (3, 3),
        ret: ret::dynamic,
        kernel: bag_set_key,
    },
    Simple {
        name: "bag_has_key",
        args: (2, 2),
        ret: ret::bool,
        kernel: bag_has_key,
    },
    Simple {
        name: "bag_zip",
        args: (2, 2),
        ret: ret::dynamic,
        kernel: bag_zip,
    },
    Simple {
        name: "array_concat",
        args: (1, 64),
        ret: ret::dynamic,
        kernel: array_concat,
    },
    Simple {
        name: "array_slice",
        args: (3, 3),
        ret: ret::dynamic,
        kernel: array_slice,
    },
    Simple {
        name: "array_index_of",
        args: (2, 5),
        ret: ret::long,
        kernel: array_index_of,
    },
    Simple {
        name: "array_sort_asc",
        args: (1, 64),
        ret: ret::dynamic,
        kernel: array_sort_asc,
    },
    Simple {
        name: "array_sort_desc",
        args: (1, 64),
        ret: ret::dynamic,
        kernel: array_sort_desc,
    },
    Simple {
        name: "array_reverse",
        args: (1, 1),
        ret: ret::dynamic,
        kernel: array_reverse,
    },
    Simple {
        name: "array_shift_left",
        args: (2, 3),
        ret: ret::dynamic,
        kernel: array_shift_left,
    },
    Simple {
        name: "array_shift_right",
        args: (2, 3),
        ret: ret::dynamic,
        kernel: array_shift_right,
    },
    Simple {
        name: "array_rotate_left",
        args: (2, 2),
        ret: ret::dynamic,
        kernel: array_rotate_left,
    },
    Simple {
        name: "array_rotate_right",
        args: (2, 2),
        ret: ret::dynamic,
        kernel: array_rotate_right,
    },
    Simple {
        name: "array_split",
        args: (2, 2),
        ret: ret::dynamic,
        kernel: array_split,
    },
    Simple {
        name: "array_sum",
        args: (1, 1),
        ret: ret::real,
        kernel: array_sum,
    },
    Simple {
        name: "array_iff",
        args: (3, 3),
        ret: ret::dynamic,
        kernel: array_iff,
    },
    Simple {
        name: "array_iif",
        args: (3, 3),
        ret: ret::dynamic,
        kernel: array_iff,
    },
    Simple {
        name: "set_union",
        args: (1, 64),
        ret: ret::dynamic,
        kernel: set_union,
    },
    Simple {
        name: "set_intersect",
        args: (1, 64),
        ret: ret::dynamic,
        kernel: set_intersect,
    },
    Simple {
        name: "set_difference",
        args: (1, 64),
        ret: ret::dynamic,
        kernel: set_difference,
    },
    Simple {
        name: "set_has_element",
        args: (2, 2),
        ret: ret::bool,
        kernel: set_has_element,
    },
    Simple {
        name: "jaccard_index",
        args: (2, 2),
        ret: ret::real,
        kernel: jaccard_index,
    },
    Simple {
        name: "zip",
        args: (1, 64),
        ret: ret::dynamic,
        kernel: zip,
    },
    Simple {
        name: "range",
        args: (2, 3),
        ret: ret::dynamic,
        kernel: range,
    },
    Simple {
        name: "repeat",
        args: (2, 2),
        ret: ret::dynamic,
        kernel: repeat,
    },
    Simple {
        name: "array_repeat",
        args: (2, 2),
        ret: ret::dynamic,
        kernel: repeat,
    },
    Simple {
        name: "dynamic_to_json",
        args: (1, 1),
        ret: ret::string,
        kernel: dynamic_to_json,
    },
];

/// The dynamic columns of arguments `from..` as Utf8.
fn dyn_cols(
    args: &[ColumnarValue],
    from: usize,
    to: usize,
    rows: usize,
) -> Result<Vec<datafusion::arrow::array::StringArray>> {
    (from..to).map(|i| strs(args, i, rows)).collect()
}

// ---------------------------------------------------------------------------------------------
// Bags
// ---------------------------------------------------------------------------------------------

/// `bag_pack(key1, value1, key2, value2, ...)`: a property bag. A later duplicate key
/// replaces the value (keeping the first position); a null key drops the pair.
pub fn bag_pack(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    // A call without arguments receives one dummy null.
    let pairs = if args.len().is_multiple_of(2) {
        args.len() / 2
    } else {
        0
    };
    let mut keys = Vec::with_capacity(pairs);
    let mut values = Vec::with_capacity(pairs);
    for p in 0..pairs {
        keys.push(Values::new(args, 2 * p, n)?);
        values.push(Values::new(args, 2 * p + 1, n)?);
    }
    Ok(json_result((0..n).map(|i| {
        let mut m = Map::new();
        for (k, v) in keys.iter().zip(&values) {
            let key = match k.get(i) {
                Value::String(s) => s,
                Value::Null => continue,
                other => super::dynamic::json_text(&other),
            };
            m.insert(key, v.get(i));
        }
        Some(Value::Object(m))
    })))
}

/// `bag_keys(bag)`: the keys as an array; null for a non-bag.
pub fn bag_keys(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strs(args, 0, rows)?;
    Ok(json_result((0..a.len()).map(|i| match dyn_at(&a, i) {
        Some(Value::Object(m)) => Some(Value::Array(
            m.keys().map(|k| Value::String(k.clone())).collect(),
        )),
        _ => None,
    })))
}

/// `bag_merge(bag1, bag2, ...)`: the union of the bags; for a key in several bags the
/// leftmost value wins. Non-bag arguments are skipped; no bag at all gives null.
pub fn bag_merge(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let cols = dyn_cols(args, 0, args.len(), n)?;
    Ok(json_result((0..n).map(|i| {
        let mut out = Map::new();
        let mut any = false;
        for c in &cols {
            if let Some(Value::Object(m)) = dyn_at(c, i) {
                any = true;
                for (k, v) in m {
                    out.entry(k).or_insert(v);
                }
            }
        }
        any.then_some(Value::Object(out))
    })))
}

/// A key argument: a plain key or a JSON path (`$.a.b`, `$['a']`).
fn key_steps(key: &str) -> Option<Vec<Step>> {
    if key.trim_start().starts_with('$') {
        parse_json_path(key)
    } else {
        Some(vec![Step::Key(key.to_string())])
    }
}

fn remove_path(v: &mut Value, steps: &[Step]) {
    let Some((last, init)) = steps.split_last() else {
        return;
    };
    let mut cur = v;
    for s in init {
        cur = match (s, cur) {
            (Step::Key(k), Value::Object(m)) => match m.get_mut(k) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    if let (Step::Key(k), Value::Object(m)) = (last, cur) {
        m.shift_remove(k);
    }
}

/// `bag_remove_keys(bag, keys)`: the bag without the given keys (plain keys or JSON paths
/// into nested bags). Null for a non-bag.
pub fn bag_remove_keys(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let bags = strs(args, 0, rows)?;
    let keys = strs(args, 1, bags.len())?;
    Ok(json_result((0..bags.len()).map(|i| {
        let mut bag = match dyn_at(&bags, i) {
            Some(v @ Value::Object(_)) => v,
            _ => return None,
        };
        let list = match dyn_at(&keys, i) {
            Some(Value::Array(a)) => a,
            Some(Value::String(s)) => vec![Value::String(s)],
            _ => vec![],
        };
        for k in list {
            if let Value::String(k) = k
                && let Some(steps) = key_steps(&k)
            {
                remove_path(&mut bag, &steps);
            }
        }
        Some(bag)
    })))
}

fn set_path(v: &mut Value, steps: &[Step], value: Value) -> bool {
    let Some((last, init)) = steps.split_last() else {
        return false;
    };
    let mut cur = v;
    for s in init {
        let Step::Key(k) = s else { return false };
        let Value::Object(m) = cur else { return false };
        let entry = m
            .entry(k.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        cur = entry;
    }
    match (last, cur) {
        (Step::Key(k), Value::Object(m)) => {
            m.insert(k.clone(), value);
            true
        }
        _ => false,
    }
}

/// `bag_set_key(bag, key, value)`: the bag with `key` (a plain key or a JSON path, missing
/// levels created) set to `value`. Null for a non-bag or an invalid path.
pub fn bag_set_key(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let bags = strs(args, 0, rows)?;
    let n = bags.len();
    let keys = strs(args, 1, n)?;
    let values = Values::new(args, 2, n)?;
    Ok(json_result((0..n).map(|i| {
        let mut bag = match dyn_at(&bags, i) {
            Some(v @ Value::Object(_)) => v,
            _ => return None,
        };
        let steps = key_steps(super::fnargs::str_at(&keys, i))?;
        set_path(&mut bag, &steps, values.get(i)).then_some(bag)
    })))
}

/// `bag_has_key(bag, key)`: whether the key (or JSON path) exists; null for a non-bag.
pub fn bag_has_key(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let bags = strs(args, 0, rows)?;
    let keys = strs(args, 1, bags.len())?;
    let out: BooleanArray = (0..bags.len())
        .map(|i| {
            let bag = match dyn_at(&bags, i) {
                Some(v @ Value::Object(_)) => v,
                _ => return None,
            };
            let steps = key_steps(super::fnargs::str_at(&keys, i))?;
            Some(follow(&bag, &steps).is_some())
        })
        .collect();
    Ok(Arc::new(out))
}

/// `bag_zip(keys, values)`: a bag pairing keys[i] with values[i]; non-string keys are
/// skipped, missing values are null, a non-array `values` gives all nulls.
pub fn bag_zip(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let keys = strs(args, 0, rows)?;
    let vals = strs(args, 1, keys.len())?;
    Ok(json_result((0..keys.len()).map(|i| {
        let ks = array_at(&keys, i)?;
        let vs = array_at(&vals, i).unwrap_or_default();
        let mut m = Map::new();
        for (j, k) in ks.into_iter().enumerate() {
            if let Value::String(k) = k {
                m.insert(k, vs.get(j).cloned().unwrap_or(Value::Null));
            }
        }
        Some(Value::Object(m))
    })))
}

// ---------------------------------------------------------------------------------------------
// Arrays
// ---------------------------------------------------------------------------------------------

/// `array_concat(arr1, ...)`: the arrays one after the other; null if any is not an array.
pub fn array_concat(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let cols = dyn_cols(args, 0, args.len(), n)?;
    Ok(json_result((0..n).map(|i| {
        let mut out = Vec::new();
        for c in &cols {
            out.extend(array_at(c, i)?);
        }
        Some(Value::Array(out))
    })))
}

/// Resolves a possibly negative index against a length.
fn resolve(idx: i64, len: usize) -> i64 {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    if idx < 0 {
        len.saturating_add(idx)
    } else {
        idx
    }
}

/// `array_slice(arr, start, end)`: elements start..=end (negative from the end, clamped).
pub fn array_slice(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strs(args, 0, rows)?;
    let n = a.len();
    let s = i64s(args, 1, n)?;
    let e = i64s(args, 2, n)?;
    Ok(json_result((0..n).map(|i| {
        let items = array_at(&a, i)?;
        if s.is_null(i) || e.is_null(i) {
            return None;
        }
        let len = items.len();
        let start = resolve(s.value(i), len).max(0);
        let end = resolve(e.value(i), len).min(i64::try_from(len).ok()? - 1);
        if start > end {
            return Some(Value::Array(vec![]));
        }
        let (start, end) = (usize::try_from(start).ok()?, usize::try_from(end).ok()?);
        Some(Value::Array(items.get(start..=end)?.to_vec()))
    })))
}

/// `array_index_of(arr, lookup [, start [, length [, occurrence]]])`: the index of the
/// occurrence-th element equal to `lookup` within the searched range, -1 if none; null for
/// a non-array or invalid range arguments.
pub fn array_index_of(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strs(args, 0, rows)?;
    let n = a.len();
    let lookup = Values::new(args, 1, n)?;
    let start = i64s(args, 2, n)?;
    let length = i64s(args, 3, n)?;
    let occ = i64s(args, 4, n)?;
    let out: Int64Array = (0..n)
        .map(|i| {
            let items = array_at(&a, i)?;
            let want = lookup.get(i);
            let start = if start.is_null(i) { 0 } else { start.value(i) };
            let length = if length.is_null(i) {
                -1
            } else {
                length.value(i)
            };
            let occ = if occ.is_null(i) { 1 } else { occ.value(i) };
            if length < -1 || occ < 1 {
                return None;
            }
            let len = items.len();
            let from = resolve(start, len).max(0);
            let Ok(from) = usize::try_from(from) else {
                return Some(-1);
            };
            if from >= len {
                return Some(-1);
            }
            let to = if length == -1 {
                len
            } else {
                from.saturating_add(usize::try_from(length).ok()?).min(len)
            };
            let mut seen = 0;
            for (j, x) in items.iter().enumerate().take(to).skip(from) {
                if json_eq(x, &want) {
                    seen += 1;
                    if seen == occ {
                        return i64::try_from(j).ok();
                    }
                }
            }
            Some(-1)
        })
        .collect();
    Ok(Arc::new(out))
}

/// The order of dynamic values for sorting: numbers, then strings (ordinal), then bools,
/// then anything else by its JSON text. Nulls are placed by the caller.
fn cmp_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            _ => 3,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => rank(a)
            .cmp(&rank(b))
            .then_with(|| super::dynamic::json_text(a).cmp(&super::dynamic::json_text(b))),
    }
}

fn sort_kernel(args: &[ColumnarValue], rows: usize, desc: bool) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    // A trailing bool argument is `nulls_last`.
    let mut arrays = args.len();
    let mut nulls_last = BooleanArray::from(vec![Some(true); n]);
    if arrays > 1
        && matches!(
            arg_array(args, arrays - 1, n)?.data_type(),
            DataType::Boolean
        )
    {
        nulls_last = bools(args, arrays - 1, n)?;
        arrays -= 1;
    }
    let cols = dyn_cols(args, 0, arrays, n)?;
    Ok(json_result((0..n).map(|i| {
        let lists = cols
            .iter()
            .map(|c| array_at(c, i))
            .collect::<Option<Vec<_>>>()?;
        let first = lists.first()?;
        let nl = nulls_last.is_null(i) || nulls_last.value(i);
        let mut order: Vec<usize> = (0..first.len()).collect();
        order.sort_by(|&x, &y| {
            let (a, b) = (&first[x], &first[y]);
            match (a.is_null(), b.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => {
                    if nl {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                (false, true) => {
                    if nl {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                _ => {
                    let o = cmp_values(a, b);
                    if desc { o.reverse() } else { o }
                }
            }
        });
        let sorted: Vec<Value> = lists
            .iter()
            .map(|l| {
                if l.len() != first.len() {
                    return Value::Null;
                }
                Value::Array(order.iter().filter_map(|&j| l.get(j).cloned()).collect())
            })
            .collect();
        if sorted.len() == 1 {
            sorted.into_iter().next()
        } else {
            // Several arrays: Kusto returns one result per array; here as an array of them.
            Some(Value::Array(sorted))
        }
    })))
}

/// `array_sort_asc(arr1 [, arr2, ...] [, nulls_last])`: the first array sorted ascending;
/// further arrays are reordered the same way (then the result is the array of results).
pub fn array_sort_asc(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    sort_kernel(args, rows, false)
}

/// `array_sort_desc`: see [`array_sort_asc`].
pub fn array_sort_desc(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    sort_kernel(args, rows, true)
}

/// `array_reverse(arr)`.
pub fn array_reverse(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strs(args, 0, rows)?;
    Ok(json_result((0..a.len()).map(|i| {
        let mut v = array_at(&a, i)?;
        v.reverse();
        Some(Value::Array(v))
    })))
}

/// Shifts left by `k` (right when negative), filling with `fill`.
fn shift(items: &[Value], k: i64, fill: &Value) -> Vec<Value> {
    let len = items.len();
    let li = i64::try_from(len).unwrap_or(i64::MAX);
    (0..len)
        .map(|j| {
            let src = i64::try_from(j).unwrap_or(i64::MAX).saturating_add(k);
            if (0..li).contains(&src) {
                usize::try_from(src)
                    .ok()
                    .and_then(|s| items.get(s))
                    .cloned()
                    .unwrap_or(Value::Null)
            } else {
                fill.clone()
            }
        })
        .collect()
}

fn shift_kernel(args: &[ColumnarValue], rows: usize, sign: i64) -> Result<ArrayRef> {
    let a = strs(args, 0, rows)?;
    let n = a.len();
    let k = i64s(args, 1, n)?;
    let fill = if args.len() > 2 {
        Some(Values::new(args, 2, n)?)
    } else {
        None
    };
    Ok(json_result((0..n).map(|i| {
        let items = array_at(&a, i)?;
        if k.is_null(i) {
            return None;
        }
        let f = fill.as_ref().map_or(Value::Null, |f| f.get(i));
        Some(Value::Array(shift(
            &items,
            k.value(i).saturating_mul(sign),
            &f,
        )))
    })))
}

/// `array_shift_left(arr, shift [, fill])`.
pub fn array_shift_left(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    shift_kernel(args, rows, 1)
}

/// `array_shift_right(arr, shift [, fill])`.
pub fn array_shift_right(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    shift_kernel(args, rows, -1)
}

fn rotate_kernel(args: &[ColumnarValue], rows: usize, sign: i64) -> Result<ArrayRef> {
    let a = strs(args, 0, rows)?;
    let n = a.len();
    let k = i64s(args, 1, n)?;
    Ok(json_result((0..n).map(|i| {
        let mut items = array_at(&a, i)?;
        if k.is_null(i) {
            return None;
        }
        let len = i64::try_from(items.len()).ok()?;
        if len > 0 {
            let r = usize::try_from(k.value(i).saturating_mul(sign).rem_euclid(len)).ok()?;
            items.rotate_left(r);
        }
        Some(Value::Array(items))
    })))
}

/// `array_rotate_left(arr, n)`.
pub fn array_rotate_left(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    rotate_kernel(args, rows, 1)
}

/// `array_rotate_right(arr, n)`.
pub fn array_rotate_right(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    rotate_kernel(args, rows, -1)
}

/// `array_split(arr, indices)`: the array cut before each index (a long or an array of
/// them; negative from the end, clamped).
pub fn array_split(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strs(args, 0, rows)?;
    let n = a.len();
    let idx = Values::new(args, 1, n)?;
    Ok(json_result((0..n).map(|i| {
        let items = array_at(&a, i)?;
        let len = items.len();
        let cuts: Vec<i64> = match idx.get(i) {
            Value::Array(v) => v.iter().filter_map(super::fnargs::json_i64).collect(),
            v => vec![super::fnargs::json_i64(&v)?],
        };
        let mut parts = Vec::new();
        let mut prev = 0usize;
        for c in cuts {
            let c = usize::try_from(resolve(c, len).max(0))
                .unwrap_or(0)
                .min(len)
                .max(prev);
            parts.push(Value::Array(items.get(prev..c)?.to_vec()));
            prev = c;
        }
        parts.push(Value::Array(items.get(prev..)?.to_vec()));
        Some(Value::Array(parts))
    })))
}

/// `array_sum(arr)`: the sum of the numeric elements; null when an element is not numeric.
pub fn array_sum(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strs(args, 0, rows)?;
    let out: Float64Array = (0..a.len())
        .map(|i| {
            let items = array_at(&a, i)?;
            let mut s = 0.0;
            for x in &items {
                match x {
                    Value::Number(n) => s += n.as_f64()?,
                    _ => return None,
                }
            }
            Some(s)
        })
        .collect();
    Ok(Arc::new(out))
}

/// `array_iff(conditions, when_true, when_false)`: element-wise choice; `when_true` and
/// `when_false` are arrays (missing elements → null) or scalars; a non-bool condition
/// element gives null.
pub fn array_iff(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let c = strs(args, 0, rows)?;
    let n = c.len();
    let t = Values::new(args, 1, n)?;
    let f = Values::new(args, 2, n)?;
    let pick = |v: &Value, j: usize| match v {
        Value::Array(a) => a.get(j).cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    Ok(json_result((0..n).map(|i| {
        let conds = array_at(&c, i)?;
        let (tv, fv) = (t.get(i), f.get(i));
        Some(Value::Array(
            conds
                .iter()
                .enumerate()
                .map(|(j, x)| match x {
                    Value::Bool(true) => pick(&tv, j),
                    Value::Bool(false) => pick(&fv, j),
                    Value::Number(n) if n.as_f64().is_some_and(|x| x != 0.0) => pick(&tv, j),
                    Value::Number(_) => pick(&fv, j),
                    _ => Value::Null,
                })
                .collect(),
        ))
    })))
}

// ---------------------------------------------------------------------------------------------
// Sets
// ---------------------------------------------------------------------------------------------

fn distinct(items: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|v| seen.insert(json_key(v)))
        .collect()
}

fn set_kernel(
    args: &[ColumnarValue],
    rows: usize,
    f: fn(Vec<Vec<Value>>) -> Vec<Value>,
) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let cols = dyn_cols(args, 0, args.len(), n)?;
    Ok(json_result((0..n).map(|i| {
        let lists = cols
            .iter()
            .map(|c| array_at(c, i))
            .collect::<Option<Vec<_>>>()?;
        Some(Value::Array(f(lists)))
    })))
}

/// `set_union(arr1, arr2, ...)`: the distinct elements of all arrays (first-seen order).
pub fn set_union(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    set_kernel(args, rows, |lists| distinct(lists.into_iter().flatten()))
}

/// `set_intersect(arr1, arr2, ...)`: the distinct elements found in every array.
pub fn set_intersect(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    set_kernel(args, rows, |lists| {
        let mut it = lists.into_iter();
        let first = it.next().unwrap_or_default();
        let others: Vec<HashSet<String>> = it.map(|l| l.iter().map(json_key).collect()).collect();
        distinct(first)
            .into_iter()
            .filter(|v| {
                let k = json_key(v);
                others.iter().all(|s| s.contains(&k))
            })
            .collect()
    })
}

/// `set_difference(arr1, arr2, ...)`: the distinct elements of arr1 found in no other array.
pub fn set_difference(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    set_kernel(args, rows, |lists| {
        let mut it = lists.into_iter();
        let first = it.next().unwrap_or_default();
        let others: HashSet<String> = it.flatten().map(|v| json_key(&v)).collect();
        distinct(first)
            .into_iter()
            .filter(|v| !others.contains(&json_key(v)))
            .collect()
    })
}

/// `set_has_element(arr, value)`: whether the array contains the value; null for a non-array.
pub fn set_has_element(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strs(args, 0, rows)?;
    let n = a.len();
    let v = Values::new(args, 1, n)?;
    let out: BooleanArray = (0..n)
        .map(|i| {
            let items = array_at(&a, i)?;
            let want = v.get(i);
            Some(items.iter().any(|x| json_eq(x, &want)))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `jaccard_index(set1, set2)`: |distinct intersection| / |distinct union|.
pub fn jaccard_index(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strs(args, 0, rows)?;
    let b = strs(args, 1, a.len())?;
    let out: Float64Array = (0..a.len())
        .map(|i| {
            let x: HashSet<String> = array_at(&a, i)?.iter().map(json_key).collect();
            let y: HashSet<String> = array_at(&b, i)?.iter().map(json_key).collect();
            let union = x.union(&y).count();
            if union == 0 {
                return Some(f64::NAN);
            }
            let inter = x.intersection(&y).count();
            Some(inter as f64 / union as f64)
        })
        .collect();
    Ok(Arc::new(out))
}

/// `zip(arr1, arr2, ...)`: an array of tuples; shorter arrays are padded with null.
pub fn zip(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let cols = dyn_cols(args, 0, args.len(), n)?;
    Ok(json_result((0..n).map(|i| {
        let lists = cols
            .iter()
            .map(|c| array_at(c, i))
            .collect::<Option<Vec<_>>>()?;
        let len = lists.iter().map(Vec::len).max().unwrap_or(0);
        Some(Value::Array(
            (0..len)
                .map(|j| {
                    Value::Array(
                        lists
                            .iter()
                            .map(|l| l.get(j).cloned().unwrap_or(Value::Null))
                            .collect(),
                    )
                })
                .collect(),
        ))
    })))
}

/// The most elements `range()` and `repeat()` produce (Kusto's limit).
const MAX_ELEMENTS: usize = 1_048_576;

/// `range(start, stop [, step])`: the arithmetic sequence as a dynamic array. Numbers (long
/// when start and step are long, real otherwise), timespans and datetimes (default step 1h
/// for those, 1 for numbers).
pub fn range(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let start = arg_array(args, 0, n)?;
    let dt = start.data_type().clone();
    let has_step = args.len() > 2;
    let step_dt = if has_step {
        Some(arg_array(args, 2, n)?.data_type().clone())
    } else {
        None
    };
    let s = f64s(args, 0, n)?;
    let e = f64s(args, 1, n)?;
    let st = f64s(args, 2, n)?;
    let hour = 3.6e12;
    let temporal = matches!(dt, DataType::Duration(_) | DataType::Timestamp(..));
    let integral = matches!(dt, DataType::Int64 | DataType::Int32)
        && step_dt
            .as_ref()
            .is_none_or(|d| matches!(d, DataType::Int64 | DataType::Int32));
    Ok(json_result((0..n).map(|i| {
        if s.is_null(i) || e.is_null(i) {
            return None;
        }
        let (a, b) = (s.value(i), e.value(i));
        let step = if has_step {
            if st.is_null(i) {
                return None;
            }
            st.value(i)
        } else if temporal {
            hour
        } else {
            1.0
        };
        if step == 0.0 || !step.is_finite() || !a.is_finite() || !b.is_finite() {
            return None;
        }
        let count = ((b - a) / step).floor();
        if count < 0.0 {
            return Some(Value::Array(vec![]));
        }
        let count = (count as usize).saturating_add(1).min(MAX_ELEMENTS);
        let items = (0..count).map(|k| {
            let x = a + step * k as f64;
            match &dt {
                DataType::Duration(_) => Value::String(crate::format::format_timespan(x as i64)),
                DataType::Timestamp(..) => Value::String(crate::format::format_datetime(x as i64)),
                _ if integral => Value::from(x as i64),
                _ => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
            }
        });
        Some(Value::Array(items.collect()))
    })))
}

/// `repeat(value, count)`: an array of `count` copies (count ≤ 0 → empty).
pub fn repeat(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let v = Values::new(args, 0, n)?;
    let c = i64s(args, 1, n)?;
    Ok(json_result((0..n).map(|i| {
        if c.is_null(i) {
            return None;
        }
        let k = usize::try_from(c.value(i).max(0))
            .unwrap_or(0)
            .min(MAX_ELEMENTS);
        Some(Value::Array(vec![v.get(i); k]))
    })))
}

fn sorted_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted_keys(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted_keys).collect()),
        other => other,
    }
}

/// `dynamic_to_json(d)`: canonical JSON text, bag keys sorted at every level.
pub fn dynamic_to_json(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = strs(args, 0, rows)?;
    Ok(super::fnargs::string_result((0..a.len()).map(|i| {
        let v = dyn_at(&a, i).unwrap_or(Value::Null);
        Some(super::dynamic::json_text(&sorted_keys(v)))
    })))
}

/// Used by `array_sum`'s neighbours in other families.
pub fn numeric_elements(v: &[Value]) -> Vec<f64> {
    v.iter().filter_map(json_number).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, StringArray};
    use datafusion::common::ScalarValue;

    fn d(v: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(v.into())))
    }
    fn l(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }
    fn b(v: bool) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Boolean(Some(v)))
    }
    fn one(f: fn(&[ColumnarValue], usize) -> Result<ArrayRef>, args: &[ColumnarValue]) -> String {
        let out = f(args, 1).unwrap();
        let s = out.as_string::<i32>();
        if s.is_null(0) {
            "null".into()
        } else {
            s.value(0).to_string()
        }
    }
    fn long1(f: fn(&[ColumnarValue], usize) -> Result<ArrayRef>, args: &[ColumnarValue]) -> i64 {
        f(args, 1)
            .unwrap()
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0)
    }

    #[test]
    fn bag_pack_keeps_types() {
        // Docs: bag_pack("Dest", Destination(int), "Text", Message) → {"Dest":100,"Text":"Hi"}
        let args = [
            d("Dest"),
            ColumnarValue::Scalar(ScalarValue::Int32(Some(100))),
            d("Text"),
            d("Hi"),
        ];
        assert_eq!(one(bag_pack, &args), r#"{"Dest":100,"Text":"Hi"}"#);
        // A string that looks like a number stays a string ({"CharsCount":"50"}).
        assert_eq!(
            one(bag_pack, &[d("CharsCount"), d("50")]),
            r#"{"CharsCount":"50"}"#
        );
        // Column of keys.
        let keys = ColumnarValue::Array(Arc::new(StringArray::from(vec!["a", "b"])));
        let out = bag_pack(&[keys, l(1)], 2).unwrap();
        assert_eq!(out.as_string::<i32>().value(1), r#"{"b":1}"#);
    }

    #[test]
    fn bag_functions() {
        assert_eq!(
            one(bag_keys, &[d(r#"{"a":1,"b":{"c":2}}"#)]),
            r#"["a","b"]"#
        );
        assert_eq!(one(bag_keys, &[d("[1]")]), "null");
        // Docs: bag_merge keeps the leftmost value of a duplicate key.
        assert_eq!(
            one(
                bag_merge,
                &[
                    d(r#"{"A1":12,"B1":2,"C1":3}"#),
                    d(r#"{"A2":81,"B2":82,"A1":1}"#)
                ]
            ),
            r#"{"A1":12,"B1":2,"C1":3,"A2":81,"B2":82}"#
        );
        // Docs: bag_remove_keys with a JSON path.
        assert_eq!(
            one(
                bag_remove_keys,
                &[
                    d(r#"{"key1":123,"key2":{"prop1":"abc","prop2":"xyz"},"key3":[100,200]}"#),
                    d(r#"["$.key2.prop1","key3"]"#)
                ]
            ),
            r#"{"key1":123,"key2":{"prop2":"xyz"}}"#
        );
        assert_eq!(
            one(
                bag_remove_keys,
                &[d(r#"{"key1":123,"key2":"abc"}"#), d(r#"["key2","key4"]"#)]
            ),
            r#"{"key1":123}"#
        );
        // Docs: bag_set_key replaces, and creates missing levels of a path.
        assert_eq!(
            one(
                bag_set_key,
                &[d(r#"{"key1":1,"key3":"abc"}"#), d("key3"), l(3)]
            ),
            r#"{"key1":1,"key3":3}"#
        );
        assert_eq!(
            one(
                bag_set_key,
                &[d(r#"{"key1":123}"#), d("$.key2.prop1"), d("abc")]
            ),
            r#"{"key1":123,"key2":{"prop1":"abc"}}"#
        );
        let has = bag_has_key(&[d(r#"{"a":{"b":1}}"#), d("$.a.b")], 1).unwrap();
        assert!(has.as_boolean().value(0));
        // Docs: bag_zip.
        assert_eq!(
            one(bag_zip, &[d(r#"["a","b","c"]"#), d(r#"[1,"2"]"#)]),
            r#"{"a":1,"b":"2","c":null}"#
        );
        assert_eq!(
            one(bag_zip, &[d(r#"["a",8,"b"]"#), d(r#"[1,"2",2.5]"#)]),
            r#"{"a":1,"b":2.5}"#
        );
        assert_eq!(
            one(bag_zip, &[d(r#"["a",8,"b"]"#), d("1")]),
            r#"{"a":null,"b":null}"#
        );
    }

    #[test]
    fn array_functions() {
        assert_eq!(
            one(array_concat, &[d("[1,2,4]"), d("[1,2]")]),
            "[1,2,4,1,2]"
        );
        assert_eq!(one(array_concat, &[d("[1]"), d("5")]), "null");
        assert_eq!(
            one(array_slice, &[d("[1,2,3,4,5]"), l(2), l(-1)]),
            "[3,4,5]"
        );
        assert_eq!(one(array_slice, &[d("[1,2,3,4,5]"), l(1), l(2)]), "[2,3]");
        assert_eq!(one(array_slice, &[d("[1,2,3,4,5]"), l(-3), l(-2)]), "[3,4]");
        assert_eq!(one(array_slice, &[d("[1,2,3]"), l(2), l(1)]), "[]");
        assert_eq!(
            one(array_reverse, &[d(r#"["this","is","an","example"]"#)]),
            r#"["example","an","is","this"]"#
        );
        assert_eq!(
            one(array_rotate_right, &[d("[1,2,3,4,5]"), l(2)]),
            "[4,5,1,2,3]"
        );
        assert_eq!(
            one(array_rotate_left, &[d("[1,2,3,4,5]"), l(2)]),
            "[3,4,5,1,2]"
        );
        assert_eq!(
            one(array_rotate_left, &[d("[1,2,3,4,5]"), l(-2)]),
            "[4,5,1,2,3]"
        );
        assert_eq!(
            one(array_shift_left, &[d("[1,2,3,4,5]"), l(2), l(-1)]),
            "[3,4,5,-1,-1]"
        );
        assert_eq!(
            one(array_shift_left, &[d("[1,2,3,4,5]"), l(-2), l(-1)]),
            "[-1,-1,1,2,3]"
        );
        assert_eq!(
            one(array_shift_right, &[d("[1,2,3,4,5]"), l(2)]),
            "[null,null,1,2,3]"
        );
        assert_eq!(
            one(array_shift_right, &[d("[1,2,3,4,5]"), l(-2), l(-1)]),
            "[3,4,5,-1,-1]"
        );
        assert_eq!(
            one(array_split, &[d("[1,2,3,4,5]"), l(2)]),
            "[[1,2],[3,4,5]]"
        );
        assert_eq!(
            one(array_split, &[d("[1,2,3,4,5]"), d("[1,3]")]),
            "[[1],[2,3],[4,5]]"
        );
        let s = array_sum(&[d("[1,2,3,4]")], 1).unwrap();
        assert_eq!(
            s.as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .value(0),
            10.0
        );
        assert_eq!(
            one(
                array_iff,
                &[d("[true,false,true]"), d("[1,2,3]"), d("[4,5,6]")]
            ),
            "[1,5,3]"
        );
        assert_eq!(
            one(
                array_iff,
                &[
                    d(r#"["some string value","2022-01-01T00:00:00Z",null]"#),
                    l(1),
                    l(0)
                ]
            ),
            "[null,null,null]"
        );
    }

    #[test]
    fn index_of() {
        let arr = d(r#"["this","is","an","example","an","example"]"#);
        let case = |more: &[ColumnarValue]| {
            let mut a = vec![arr.clone()];
            a.extend_from_slice(more);
            long1(array_index_of, &a)
        };
        assert_eq!(case(&[d("an")]), 2);
        assert_eq!(case(&[d("example"), l(1), l(3)]), 3);
        assert_eq!(case(&[d("example"), l(1), l(2)]), -1);
        assert_eq!(case(&[d("is"), l(2), l(4)]), -1);
        assert_eq!(case(&[d("example"), l(2), l(-1)]), 3);
        assert_eq!(case(&[d("an"), l(1), l(-1), l(2)]), 4);
        assert_eq!(case(&[d("an"), l(1), l(-1), l(3)]), -1);
        assert_eq!(case(&[d("an"), l(-3)]), 4);
        assert_eq!(case(&[d("is"), l(-4)]), -1);
    }

    #[test]
    fn sorting() {
        assert_eq!(
            one(
                array_sort_asc,
                &[d(r#"[null,"blue","yellow","green",null]"#)]
            ),
            r#"["blue","green","yellow",null,null]"#
        );
        assert_eq!(
            one(
                array_sort_asc,
                &[d(r#"[null,"blue","yellow","green",null]"#), b(false)]
            ),
            r#"[null,null,"blue","green","yellow"]"#
        );
        assert_eq!(
            one(
                array_sort_desc,
                &[d(r#"[null,"blue","yellow","green",null]"#)]
            ),
            r#"["yellow","green","blue",null,null]"#
        );
        assert_eq!(
            one(
                array_sort_asc,
                &[d("[1,3,4,5,2]"), d(r#"["a","b","c","d","e"]"#)]
            ),
            r#"[[1,2,3,4,5],["a","e","b","c","d"]]"#
        );
    }

    #[test]
    fn sets() {
        assert_eq!(
            one(set_difference, &[d("[1,2,1,4]"), d("[1,2]"), d("[1,2,8]")]),
            "[4]"
        );
        assert_eq!(one(set_intersect, &[d("[1,2,3]"), d("[4,5]")]), "[]");
        assert_eq!(one(set_intersect, &[d("[1,2,3,2]"), d("[2,3]")]), "[2,3]");
        assert_eq!(one(set_union, &[d("[1,2,3]"), d("[2,5]")]), "[1,2,3,5]");
        let has = set_has_element(&[d(r#"["this","is"]"#), d("is")], 1).unwrap();
        assert!(has.as_boolean().value(0));
        assert_eq!(
            one(zip, &[d("[1,3,5]"), d("[2,4,6]")]),
            "[[1,2],[3,4],[5,6]]"
        );
        assert_eq!(one(zip, &[d("[1,3]"), d("[2]")]), "[[1,2],[3,null]]");
        let j = jaccard_index(&[d("[1,2,3]"), d("[1,2,3,4]")], 1).unwrap();
        assert_eq!(
            j.as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .value(0),
            0.75
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(one(range, &[l(1), l(8), l(3)]), "[1,4,7]");
        assert_eq!(one(range, &[l(1), l(3)]), "[1,2,3]");
        let h = ColumnarValue::Scalar(ScalarValue::DurationNanosecond(Some(3_600_000_000_000)));
        let h3 =
            ColumnarValue::Scalar(ScalarValue::DurationNanosecond(Some(3 * 3_600_000_000_000)));
        assert_eq!(
            one(range, &[h, h3]),
            r#"["01:00:00","02:00:00","03:00:00"]"#
        );
        assert_eq!(one(repeat, &[d("a"), l(3)]), r#"["a","a","a"]"#);
        assert_eq!(one(repeat, &[l(1), l(-1)]), "[]");
    }

    #[test]
    fn to_json_sorts_keys() {
        assert_eq!(
            one(
                dynamic_to_json,
                &[d(r#"{"Y10":{},"X8":{"c3":1,"a4":6},"A14":[15,13]}"#)]
            ),
            r#"{"A14":[15,13],"X8":{"a4":6,"c3":1},"Y10":{}}"#
        );
    }
}
