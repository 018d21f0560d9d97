//! Functions over the serialized row set: a window function over the whole input (no
//! partitioning, no ordering of its own), so it sees the rows in the order the pipeline produced
//! them (after `sort`, `serialize`, ...). `prev`/`next` use DataFusion's `lag`/`lead`; the
//! others (`row_number(start, restart)`, `row_cumsum`, `row_rank_min`, `row_rank_dense`,
//! `row_window_session`, and `scan`'s state machine) are kernels over the whole column.

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimestampNanosecondType};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Expr, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A kernel over the whole serialized input: argument columns and the row count in, one
/// value per row out.
pub type SerialFn = Arc<dyn Fn(&[ArrayRef], usize) -> Result<ArrayRef> + Send + Sync>;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct SerialUdwf {
    name: String,
    id: u64,
    ret: DataType,
    signature: Signature,
    kernel: SerialFn,
}

impl std::fmt::Debug for SerialUdwf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SerialUdwf({}#{})", self.name, self.id)
    }
}
impl PartialEq for SerialUdwf {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for SerialUdwf {}
impl std::hash::Hash for SerialUdwf {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

#[derive(Debug)]
struct SerialEval {
    kernel: SerialKernelBox,
}

struct SerialKernelBox(SerialFn);
impl std::fmt::Debug for SerialKernelBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("kernel")
    }
}

impl PartitionEvaluator for SerialEval {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        (self.kernel.0)(values, num_rows)
    }
}

impl WindowUDFImpl for SerialUdwf {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(SerialEval {
            kernel: SerialKernelBox(self.kernel.clone()),
        }))
    }
    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            self.ret.clone(),
            true,
        )))
    }
}

/// A window-function call of `kernel` over the serialized input.
pub fn call(name: &str, ret: DataType, kernel: SerialFn, args: Vec<Expr>) -> Expr {
    let udwf = WindowUDF::from(SerialUdwf {
        name: name.to_string(),
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        ret,
        signature: Signature::variadic_any(Volatility::Immutable),
        kernel,
    });
    let args = if args.is_empty() {
        vec![Expr::Literal(ScalarValue::Int64(Some(0)), None)]
    } else {
        args
    };
    udwf.call(args)
}

fn bools(a: Option<&ArrayRef>, n: usize) -> Result<BooleanArray> {
    match a {
        Some(a) => Ok(datafusion::arrow::compute::cast(a, &DataType::Boolean)?
            .as_boolean()
            .clone()),
        None => Ok(BooleanArray::from(vec![false; n])),
    }
}

fn restart_at(r: &BooleanArray, i: usize) -> bool {
    !r.is_null(i) && r.value(i)
}

/// `row_number([start [, restart]])`.
pub fn row_number(values: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let start = match values.first() {
        Some(a) if !a.is_empty() && !a.is_null(0) => {
            let a = datafusion::arrow::compute::cast(a, &DataType::Int64)?;
            a.as_primitive::<Int64Type>().value(0)
        }
        _ => 1,
    };
    let restart = bools(values.get(1), n)?;
    let mut cur = start - 1;
    let out: Int64Array = (0..n)
        .map(|i| {
            cur = if restart_at(&restart, i) {
                start
            } else {
                cur + 1
            };
            Some(cur)
        })
        .collect();
    Ok(Arc::new(out))
}

/// `row_cumsum(term [, restart])` over longs or reals (the planner casts the term).
pub fn row_cumsum(values: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let restart = bools(values.get(1), n)?;
    let Some(term) = values.first() else {
        return Ok(Arc::new(Int64Array::new_null(n)));
    };
    if term.data_type() == &DataType::Float64 {
        let t = term.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        let mut acc = 0.0;
        let out: datafusion::arrow::array::Float64Array = (0..n)
            .map(|i| {
                if restart_at(&restart, i) {
                    acc = 0.0;
                }
                if !t.is_null(i) {
                    acc += t.value(i);
                }
                Some(acc)
            })
            .collect();
        return Ok(Arc::new(out));
    }
    let t = datafusion::arrow::compute::cast(term, &DataType::Int64)?;
    let t = t.as_primitive::<Int64Type>();
    let mut acc: i64 = 0;
    let out: Int64Array = (0..n)
        .map(|i| {
            if restart_at(&restart, i) {
                acc = 0;
            }
            if !t.is_null(i) {
                acc = acc.wrapping_add(t.value(i));
            }
            Some(acc)
        })
        .collect();
    Ok(Arc::new(out))
}

/// `row_rank_min(value [, restart])` (`dense = false`: 1, 2, 2, 4) and `row_rank_dense`
/// (1, 2, 2, 3): the rank of the value among the rows since the last restart, the input being
/// sorted by it.
pub fn row_rank(values: &[ArrayRef], n: usize, dense: bool) -> Result<ArrayRef> {
    let restart = bools(values.get(1), n)?;
    let Some(v) = values.first() else {
        return Ok(Arc::new(Int64Array::new_null(n)));
    };
    let mut out = Vec::with_capacity(n);
    let (mut rank, mut row_in_group, mut dense_rank) = (0i64, 0i64, 0i64);
    let mut prev: Option<ScalarValue> = None;
    for i in 0..n {
        let cur = ScalarValue::try_from_array(v, i)?;
        if i == 0 || restart_at(&restart, i) {
            row_in_group = 0;
            dense_rank = 0;
            prev = None;
        }
        row_in_group += 1;
        if prev.as_ref() != Some(&cur) {
            rank = row_in_group;
            dense_rank += 1;
        }
        out.push(Some(if dense { dense_rank } else { rank }));
        prev = Some(cur);
    }
    Ok(Arc::new(Int64Array::from(out)))
}

/// `row_window_session(expr, max_distance_from_first, max_distance_between_neighbors
/// [, restart])`: the start of each row's session (row_window_session reference): a session
/// starts at the first row, at a restart, when the value is more than `max_distance_from_first`
/// after the session's first value, or more than `max_distance_between_neighbors` after the
/// previous row's value.
pub fn row_window_session(values: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let ts = |i: usize| -> Result<TimestampNanosecondArray> {
        let a = values
            .get(i)
            .cloned()
            .unwrap_or_else(|| Arc::new(TimestampNanosecondArray::new_null(n)) as ArrayRef);
        let a = datafusion::arrow::compute::cast(
            &a,
            &DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Nanosecond, None),
        )?;
        Ok(a.as_primitive::<TimestampNanosecondType>().clone())
    };
    let dur = |i: usize| -> Result<Option<i64>> {
        let Some(a) = values.get(i) else {
            return Ok(None);
        };
        let a = datafusion::arrow::compute::cast(a, &DataType::Int64)?;
        let a = a.as_primitive::<Int64Type>();
        Ok((!a.is_empty() && !a.is_null(0)).then(|| a.value(0)))
    };
    let t = ts(0)?;
    let (max_first, max_gap) = (dur(1)?, dur(2)?);
    let restart = bools(values.get(3), n)?;
    let (mut start, mut last): (Option<i64>, Option<i64>) = (None, None);
    let out: TimestampNanosecondArray = (0..n)
        .map(|i| {
            if t.is_null(i) {
                return None;
            }
            let v = t.value(i);
            let new_session = match (start, last) {
                (Some(s), Some(l)) => {
                    restart_at(&restart, i)
                        || max_first.is_some_and(|m| v - s > m)
                        || max_gap.is_some_and(|m| v - l > m)
                }
                _ => true,
            };
            if new_session {
                start = Some(v);
            }
            last = Some(v);
            start
        })
        .collect();
    Ok(Arc::new(out.with_timezone("UTC")))
}

/// `prev(column [, offset [, default]])` (`forward = false`) and `next(...)`: the value
/// `offset` rows before (after) the current one, else the default (null; `""` for strings,
/// which are never null in Kusto).
pub fn shift(values: &[ArrayRef], n: usize, forward: bool) -> Result<ArrayRef> {
    let Some(col) = values.first() else {
        return Ok(Arc::new(Int64Array::new_null(n)));
    };
    let offset = match values.get(1) {
        Some(a) if !a.is_empty() && !a.is_null(0) => {
            let a = datafusion::arrow::compute::cast(a, &DataType::Int64)?;
            a.as_primitive::<Int64Type>().value(0)
        }
        _ => 1,
    };
    let indices: datafusion::arrow::array::UInt32Array = (0..n as i64)
        .map(|i| {
            let j = if forward { i + offset } else { i - offset };
            (0..n as i64).contains(&j).then_some(j as u32)
        })
        .collect();
    let taken = datafusion::arrow::compute::take(col, &indices, None)?;
    let default = match values.get(2) {
        Some(d) if !d.is_empty() && !d.is_null(0) => Some(ScalarValue::try_from_array(d, 0)?),
        _ if col.data_type() == &DataType::Utf8 => Some(ScalarValue::Utf8(Some(String::new()))),
        _ => None,
    };
    let Some(default) = default else {
        return Ok(taken);
    };
    let default = default.cast_to(col.data_type())?.to_array_of_size(n)?;
    let in_range = BooleanArray::from((0..n).map(|i| !indices.is_null(i)).collect::<Vec<bool>>());
    Ok(datafusion::arrow::compute::kernels::zip::zip(
        &in_range, &taken, &default,
    )?)
}
