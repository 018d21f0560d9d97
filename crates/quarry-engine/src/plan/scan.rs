//! `scan [with_match_id = Id] [declare (...)] with (step ...; ...)` (scan operator reference).
//!
//! The state machine runs as one window function over the serialized input (see
//! `functions::serial`): for each input row it returns the list of output records the row
//! produced (none, one, or one per matching step), each holding the declared columns and the
//! match id; the list is then unnested. Conditions and assignments are compiled by the planner
//! against a row made of the input columns, the declared columns (their defaults), and one
//! `step.column` column per step and column (the step's record in the state being tested).

use super::calls::cast;
use super::scalar::column;
use super::tabular::df_error;
use super::{ColumnInfo, PResult, Planner, Tabular, err};
use crate::functions::serial;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, RecordBatch, StructArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::execution::context::ExecutionProps;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use datafusion::physical_expr::{PhysicalExpr, create_physical_expr};
use quarry_syntax::Span;
use quarry_syntax::ast::{self, ScalarType};
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq)]
enum Output {
    All,
    Last,
    None,
}

struct Step {
    condition: Expr,
    /// (declared column index, value)
    assignments: Vec<(usize, Expr)>,
    output: Output,
}

/// Everything the kernel needs, built at plan time.
struct Machine {
    n_input: usize,
    defaults: Vec<ScalarValue>,
    /// Types of the row the expressions are compiled against.
    row_schema: Arc<Schema>,
    steps: Vec<Step>,
    item_fields: Fields,
}

type Record = Vec<ScalarValue>;

#[derive(Clone)]
struct State {
    /// One record per step up to this one (None: that step's record is absent).
    records: Vec<Option<Record>>,
    match_id: i64,
}

struct Compiled {
    condition: Arc<dyn PhysicalExpr>,
    assignments: Vec<(usize, Arc<dyn PhysicalExpr>)>,
}

impl Machine {
    fn compile(&self) -> Result<Vec<Compiled>> {
        let df_schema = DFSchema::try_from(self.row_schema.as_ref().clone())?;
        let props = ExecutionProps::new();
        let ctx =
            datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext::default();
        self.steps
            .iter()
            .map(|s| {
                Ok(Compiled {
                    condition: create_physical_expr(&s.condition, &df_schema, &props, &ctx)?,
                    assignments: s
                        .assignments
                        .iter()
                        .map(|(i, e)| Ok((*i, create_physical_expr(e, &df_schema, &props, &ctx)?)))
                        .collect::<Result<_>>()?,
                })
            })
            .collect()
    }

    /// The one-row batch for row `i` tested against `state` (None: empty state).
    fn batch(&self, values: &[ArrayRef], i: usize, state: Option<&State>) -> Result<RecordBatch> {
        let base = self.n_input + self.defaults.len();
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(self.row_schema.fields().len());
        for v in values.iter().take(self.n_input) {
            cols.push(v.slice(i, 1));
        }
        for d in &self.defaults {
            cols.push(d.to_array_of_size(1)?);
        }
        for k in 0..self.steps.len() {
            let rec = state
                .and_then(|s| s.records.get(k))
                .and_then(|r| r.as_ref());
            for c in 0..base {
                let field = self.row_schema.field(base * (k + 1) + c);
                let v = match rec {
                    Some(r) => r[c].clone(),
                    None if c >= self.n_input => self.defaults[c - self.n_input].clone(),
                    None => ScalarValue::try_from(field.data_type())?,
                };
                cols.push(v.to_array_of_size(1)?);
            }
        }
        Ok(RecordBatch::try_new(self.row_schema.clone(), cols)?)
    }

    fn run(&self, values: &[ArrayRef], n: usize) -> Result<ArrayRef> {
        let compiled = self.compile()?;
        let steps = self.steps.len();
        let mut states: Vec<Option<State>> = vec![None; steps];
        let mut next_id: i64 = 0;
        // Per input row, its outputs: (declared values, match id); None = withdrawn (`last`).
        let mut outputs: Vec<Vec<Option<(Record, i64)>>> = vec![Vec::new(); n];
        let mut last_output: Vec<Option<(usize, usize)>> = vec![None; steps];
        for i in 0..n {
            let input: Record = (0..self.n_input)
                .map(|c| ScalarValue::try_from_array(&values[c], i))
                .collect::<Result<_>>()?;
            for k in (0..steps).rev() {
                // Check 1: the previous step has a state and the row meets this condition.
                let mut matched = false;
                if k > 0
                    && let Some(prev) = states[k - 1].clone()
                    && let Some(rec) =
                        self.try_step(&compiled[k], values, i, Some(&prev), &input)?
                {
                    let mut records = prev.records.clone();
                    records.push(Some(rec.clone()));
                    states[k] = Some(State {
                        records,
                        match_id: prev.match_id,
                    });
                    states[k - 1] = None;
                    self.emit(
                        &mut outputs,
                        &mut last_output,
                        k,
                        i,
                        &rec,
                        prev.match_id,
                        false,
                    );
                    matched = true;
                }
                if matched {
                    continue;
                }
                // Check 2: this step has an active sequence, or is the first step.
                let active = states[k].clone();
                if (active.is_some() || k == 0)
                    && let Some(rec) =
                        self.try_step(&compiled[k], values, i, active.as_ref(), &input)?
                {
                    let (mut st, repeat) = match active {
                        Some(s) => (s, true),
                        None => {
                            let s = State {
                                records: vec![None],
                                match_id: next_id,
                            };
                            next_id += 1;
                            (s, false)
                        }
                    };
                    st.records[k] = Some(rec.clone());
                    let id = st.match_id;
                    states[k] = Some(st);
                    self.emit(&mut outputs, &mut last_output, k, i, &rec, id, repeat);
                }
            }
        }
        self.build_lists(outputs)
    }

    /// Evaluates step `c` for row `i` against `state`; the extended record when it matches.
    fn try_step(
        &self,
        c: &Compiled,
        values: &[ArrayRef],
        i: usize,
        state: Option<&State>,
        input: &Record,
    ) -> Result<Option<Record>> {
        let batch = self.batch(values, i, state)?;
        let cond = c.condition.evaluate(&batch)?.into_array(1)?;
        let cond = datafusion::arrow::compute::cast(&cond, &DataType::Boolean)?;
        let cond = cond.as_boolean();
        if cond.is_null(0) || !cond.value(0) {
            return Ok(None);
        }
        let mut rec = input.clone();
        rec.extend(self.defaults.iter().cloned());
        for (d, e) in &c.assignments {
            let v = e.evaluate(&batch)?.into_array(1)?;
            rec[self.n_input + d] = ScalarValue::try_from_array(&v, 0)?;
        }
        Ok(Some(rec))
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        outputs: &mut [Vec<Option<(Record, i64)>>],
        last_output: &mut [Option<(usize, usize)>],
        k: usize,
        row: usize,
        rec: &Record,
        id: i64,
        repeat: bool,
    ) {
        match self.steps[k].output {
            Output::None => {}
            Output::All | Output::Last => {
                if self.steps[k].output == Output::Last
                    && repeat
                    && let Some((r, p)) = last_output[k]
                    && let Some(slot) = outputs.get_mut(r).and_then(|o| o.get_mut(p))
                {
                    *slot = None;
                }
                let declared = rec[self.n_input..].to_vec();
                outputs[row].push(Some((declared, id)));
                last_output[k] = Some((row, outputs[row].len() - 1));
            }
        }
    }

    fn build_lists(&self, outputs: Vec<Vec<Option<(Record, i64)>>>) -> Result<ArrayRef> {
        let mut lengths = Vec::with_capacity(outputs.len());
        let mut columns: Vec<Vec<ScalarValue>> = vec![Vec::new(); self.defaults.len() + 1];
        for row in outputs {
            let mut len = 0;
            for (decl, id) in row.into_iter().flatten() {
                for (c, v) in decl.into_iter().enumerate() {
                    columns[c].push(v);
                }
                columns[self.defaults.len()].push(ScalarValue::Int64(Some(id)));
                len += 1;
            }
            lengths.push(len);
        }
        let arrays: Vec<ArrayRef> = columns
            .into_iter()
            .zip(self.item_fields.iter())
            .map(|(vals, f)| {
                if vals.is_empty() {
                    Ok(datafusion::arrow::array::new_empty_array(f.data_type()))
                } else {
                    let a = ScalarValue::iter_to_array(vals)?;
                    Ok(datafusion::arrow::compute::cast(&a, f.data_type())?)
                }
            })
            .collect::<Result<_>>()?;
        let items = StructArray::try_new(self.item_fields.clone(), arrays, None)?;
        let list = ListArray::try_new(
            Arc::new(Field::new("item", items.data_type().clone(), true)),
            OffsetBuffer::from_lengths(lengths),
            Arc::new(items),
            None,
        )?;
        Ok(Arc::new(list))
    }
}

/// `step.col` references → the synthetic column `step.col`.
fn rewrite(e: &mut ast::Expr, steps: &[String]) {
    if let ast::ExprKind::Member { object, name } = &e.kind
        && let ast::ExprKind::Name(s) = &object.kind
        && steps.contains(&s.name)
    {
        e.kind = ast::ExprKind::Name(ast::Ident {
            name: format!("{}.{}", s.name, name.name),
            span: name.span,
        });
        return;
    }
    for c in e.children_mut() {
        rewrite(c, steps);
    }
}

impl Planner<'_> {
    pub(super) fn scan_op(&mut self, t: Tabular, spec: &ast::Scan, span: Span) -> PResult<Tabular> {
        let match_id =
            super::operators::param_word_pub(&spec.params, "with_match_id").map(String::from);
        let mut declared: Vec<ColumnInfo> = Vec::new();
        let mut defaults: Vec<ScalarValue> = Vec::new();
        for p in &spec.declare {
            let ast::ParamType::Scalar(tn) = &p.ty else {
                return err("KQL1096", "scan: declared columns are scalars", p.span);
            };
            let arrow = crate::types::arrow_type(tn.ty);
            let default = match &p.default {
                Some(e) => {
                    let v = self.scalar(e, &[])?;
                    match super::tabular::eval_constant_pub(&cast(v.expr, arrow.clone())) {
                        Some(s) => s,
                        None => {
                            return err("KQL1096", "scan: a default must be a constant", e.span);
                        }
                    }
                }
                None => ScalarValue::try_from(&arrow).map_err(|e| df_error(e, span))?,
            };
            declared.push(ColumnInfo {
                name: p.name.name.clone(),
                ty: tn.ty,
            });
            defaults.push(default);
        }
        let step_names: Vec<String> = spec.steps.iter().map(|s| s.name.name.clone()).collect();
        let base: Vec<ColumnInfo> = t
            .columns
            .iter()
            .filter(|c| !declared.iter().any(|d| d.name == c.name))
            .cloned()
            .chain(declared.iter().cloned())
            .collect();
        let n_input = base.len() - declared.len();
        let mut row_cols = base.clone();
        for s in &step_names {
            for c in &base {
                row_cols.push(ColumnInfo {
                    name: format!("{s}.{}", c.name),
                    ty: c.ty,
                });
            }
        }
        let mut steps = Vec::new();
        for st in &spec.steps {
            let mut cond = st.condition.clone();
            rewrite(&mut cond, &step_names);
            let c = self.scalar(&cond, &row_cols)?;
            if c.ty != ScalarType::Bool {
                return err(
                    "KQL1096",
                    "scan: a step condition must be a bool",
                    st.condition.span,
                );
            }
            let mut assignments = Vec::new();
            for (id, e) in &st.assignments {
                let Some(d) = declared.iter().position(|d| d.name == id.name) else {
                    return err(
                        "KQL1096",
                        format!("scan: `{}` is not a declared column", id.name),
                        id.span,
                    );
                };
                let mut e = e.clone();
                rewrite(&mut e, &step_names);
                let v = self.scalar(&e, &row_cols)?;
                assignments.push((d, cast(v.expr, crate::types::arrow_type(declared[d].ty))));
            }
            let output = match st.output.as_ref().map(|o| o.name.as_str()) {
                None | Some("all") => Output::All,
                Some("last") => Output::Last,
                Some("none") => Output::None,
                Some(other) => {
                    return err("KQL1096", format!("scan: unknown output `{other}`"), span);
                }
            };
            steps.push(Step {
                condition: c.expr,
                assignments,
                output,
            });
        }
        let row_schema = Arc::new(Schema::new(
            row_cols
                .iter()
                .map(|c| Field::new(&c.name, crate::types::arrow_type(c.ty), true))
                .collect::<Vec<_>>(),
        ));
        let mut item_fields: Vec<Field> = declared
            .iter()
            .enumerate()
            .map(|(i, d)| Field::new(format!("d{i}"), crate::types::arrow_type(d.ty), true))
            .collect();
        item_fields.push(Field::new("m", DataType::Int64, true));
        let item_fields = Fields::from(item_fields);
        let list_type = DataType::List(Arc::new(Field::new(
            "item",
            DataType::Struct(item_fields.clone()),
            true,
        )));
        let machine = Arc::new(Machine {
            n_input,
            defaults,
            row_schema,
            steps,
            item_fields,
        });
        let args: Vec<Expr> = base[..n_input].iter().map(|c| column(&c.name)).collect();
        let call = serial::call(
            "scan",
            list_type,
            Arc::new(move |v: &[ArrayRef], n| machine.run(v, n)),
            args,
        );
        let bad = |e| df_error(e, span);
        let mut exprs: Vec<Expr> = base[..n_input].iter().map(|c| column(&c.name)).collect();
        exprs.push(call.alias("__scan"));
        let (input, exprs) =
            super::serial::plan_windows(t.plan, exprs, self.partition_keys()).map_err(bad)?;
        let b = LogicalPlanBuilder::from(input)
            .project(exprs)
            .and_then(|b| b.unnest_column("__scan"))
            .map_err(bad)?;
        let get = |f: &str| datafusion::functions::expr_fn::get_field(column("__scan"), f);
        let mut out: Vec<Expr> = base[..n_input].iter().map(|c| column(&c.name)).collect();
        let mut cols: Vec<ColumnInfo> = base[..n_input].to_vec();
        for (i, d) in declared.iter().enumerate() {
            out.push(get(&format!("d{i}")).alias(&d.name));
            cols.push(d.clone());
        }
        if let Some(m) = match_id {
            out.push(get("m").alias(&m));
            cols.push(ColumnInfo {
                name: m,
                ty: ScalarType::Long,
            });
        }
        let plan = b.project(out).and_then(|b| b.build()).map_err(bad)?;
        Ok(Tabular {
            plan,
            columns: cols,
        })
    }
}
