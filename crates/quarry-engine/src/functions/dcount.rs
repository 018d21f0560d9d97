//! `dcount(x [, accuracy])`: distinct count, exact for small sets and HyperLogLog beyond.
//!
//! Kusto documents dcount as an HLL estimate whose accuracy level picks the register count
//! (0 → 2^12, 1 (default) → 2^14, 2 → 2^16, 3 → 2^17, 4 → 2^18) and which is exact for small
//! cardinalities. We keep the 64-bit hashes of the values seen while there are at most
//! `exact_limit` of them (1,000 for levels 0–1, 8,000 for levels 2–4) and only then switch to
//! HLL registers, so small counts never drift. Nulls are not counted; Kusto strings are never
//! null, so an empty string is counted as a value.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::hash_utils::{HLL_RANDOM_STATE, create_hashes};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DCount {
    signature: Signature,
    precision: u8,
    exact_limit: usize,
}

impl DCount {
    /// The UDAF for an accuracy level (clamped to 0..=4).
    pub fn udaf(accuracy: i64) -> AggregateUDF {
        let (precision, exact_limit) = match accuracy {
            i64::MIN..=0 => (12, 1_000),
            1 => (14, 1_000),
            2 => (16, 8_000),
            3 => (17, 8_000),
            _ => (18, 8_000),
        };
        AggregateUDF::from(DCount {
            signature: Signature::any(1, Volatility::Immutable),
            precision,
            exact_limit,
        })
    }
}

impl AggregateUDFImpl for DCount {
    fn name(&self) -> &str {
        "kql_dcount"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn is_nullable(&self) -> bool {
        false
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(DCountAccumulator::new(
            self.precision,
            self.exact_limit,
        )))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[sketch]", args.name),
            DataType::Binary,
            true,
        ))])
    }
    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(0)))
    }
}

#[derive(Debug)]
enum Sketch {
    Exact(HashSet<u64>),
    Hll(Vec<u8>),
}

#[derive(Debug)]
struct DCountAccumulator {
    precision: u8,
    exact_limit: usize,
    sketch: Sketch,
}

impl DCountAccumulator {
    fn new(precision: u8, exact_limit: usize) -> Self {
        DCountAccumulator {
            precision,
            exact_limit,
            sketch: Sketch::Exact(HashSet::new()),
        }
    }

    fn hll_insert(registers: &mut [u8], precision: u8, hash: u64) {
        let index = (hash >> (64 - precision)) as usize;
        let rest = (hash << precision) | (1u64 << (precision - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        if let Some(r) = registers.get_mut(index)
            && rank > *r
        {
            *r = rank;
        }
    }

    fn insert(&mut self, hash: u64) {
        match &mut self.sketch {
            Sketch::Exact(set) => {
                set.insert(hash);
                if set.len() > self.exact_limit {
                    let mut registers = vec![0u8; 1 << self.precision];
                    for h in set.iter() {
                        Self::hll_insert(&mut registers, self.precision, *h);
                    }
                    self.sketch = Sketch::Hll(registers);
                }
            }
            Sketch::Hll(registers) => Self::hll_insert(registers, self.precision, hash),
        }
    }

    fn merge_registers(&mut self, other: &[u8]) {
        if let Sketch::Exact(set) = &self.sketch {
            let mut registers = vec![0u8; 1 << self.precision];
            for h in set.iter() {
                Self::hll_insert(&mut registers, self.precision, *h);
            }
            self.sketch = Sketch::Hll(registers);
        }
        if let Sketch::Hll(registers) = &mut self.sketch {
            for (r, o) in registers.iter_mut().zip(other) {
                *r = (*r).max(*o);
            }
        }
    }

    fn estimate(&self) -> i64 {
        match &self.sketch {
            Sketch::Exact(set) => set.len() as i64,
            Sketch::Hll(registers) => {
                let m = registers.len() as f64;
                let alpha = 0.7213 / (1.0 + 1.079 / m);
                let sum: f64 = registers.iter().map(|r| 2f64.powi(-(*r as i32))).sum();
                let raw = alpha * m * m / sum;
                let zeros = registers.iter().filter(|r| **r == 0).count();
                let estimate = if raw <= 2.5 * m && zeros > 0 {
                    m * (m / zeros as f64).ln()
                } else {
                    raw
                };
                estimate.round() as i64
            }
        }
    }
}

impl Accumulator for DCountAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(array) = values.first() else {
            return Ok(());
        };
        let mut hashes = vec![0u64; array.len()];
        create_hashes([array], &HLL_RANDOM_STATE, &mut hashes)?;
        for (i, h) in hashes.iter().enumerate() {
            if array.is_valid(i) {
                self.insert(*h);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(self.estimate())))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + match &self.sketch {
                Sketch::Exact(set) => set.capacity() * 9,
                Sketch::Hll(r) => r.len(),
            }
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let bytes = match &self.sketch {
            Sketch::Exact(set) => {
                let mut b = Vec::with_capacity(1 + set.len() * 8);
                b.push(0u8);
                for h in set {
                    b.extend_from_slice(&h.to_le_bytes());
                }
                b
            }
            Sketch::Hll(r) => {
                let mut b = Vec::with_capacity(1 + r.len());
                b.push(1u8);
                b.extend_from_slice(r);
                b
            }
        };
        Ok(vec![ScalarValue::Binary(Some(bytes))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(states) = states.first() else {
            return Ok(());
        };
        let states: &BinaryArray = states.as_binary::<i32>();
        for state in states.iter().flatten() {
            match state.split_first() {
                Some((0, hashes)) => {
                    for chunk in hashes.chunks_exact(8) {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(chunk);
                        self.insert(u64::from_le_bytes(b));
                    }
                }
                Some((1, registers)) => self.merge_registers(registers),
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;

    fn count(n: i64, accuracy: i64) -> i64 {
        let (precision, limit) = match accuracy {
            1 => (14, 1000),
            _ => (16, 8000),
        };
        let mut acc = DCountAccumulator::new(precision, limit);
        let values: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n));
        acc.update_batch(std::slice::from_ref(&values)).unwrap();
        acc.update_batch(&[values]).unwrap();
        acc.estimate()
    }

    #[test]
    fn exact_up_to_one_thousand_values() {
        for n in [0, 1, 5, 999, 1000] {
            assert_eq!(count(n, 1), n);
        }
    }

    #[test]
    fn estimates_stay_within_kusto_error_bounds() {
        // Default accuracy: 0.8 % standard error; allow 4 sigma.
        for n in [5_000i64, 50_000, 300_000] {
            let e = count(n, 1);
            let err = (e - n).abs() as f64 / n as f64;
            assert!(err < 0.032, "n={n} estimate={e}");
        }
    }

    #[test]
    fn merging_partial_states_equals_one_pass() {
        let values: ArrayRef = Arc::new(Int64Array::from_iter_values(0..3000));
        let mut whole = DCountAccumulator::new(14, 1000);
        whole.update_batch(std::slice::from_ref(&values)).unwrap();
        let mut a = DCountAccumulator::new(14, 1000);
        let mut b = DCountAccumulator::new(14, 1000);
        a.update_batch(&[values.slice(0, 500)]).unwrap();
        b.update_batch(&[values.slice(500, 2500)]).unwrap();
        let state = b.state().unwrap();
        let arr = ScalarValue::iter_to_array(state).unwrap();
        a.merge_batch(&[arr]).unwrap();
        assert_eq!(a.estimate(), whole.estimate());
    }
}
