//! `externaldata (schema) [uris] with (props)`: a reference table read from local files.
//!
//! Quarry is offline by design: a URI naming a network location (`https://...`, `abfss://...`,
//! a UNC path) is refused, and a local path is read only when it lies under a directory the
//! user allowed (`--allow-externaldata DIR`), so a shared rule cannot read arbitrary files.
//! The files are read at plan time (Kusto caps `externaldata` at small reference tables).

use super::tabular::{df_error, eval_constant_pub};
use super::{ColumnInfo, PResult, Planner, Tabular, err};
use datafusion::catalog::default_table_source::provider_as_source;
use datafusion::common::{ScalarValue, TableReference};
use datafusion::logical_expr::LogicalPlanBuilder;
use quarry_sources::external::{ExternalFormat, read_external};
use quarry_syntax::Span;
use quarry_syntax::ast::{self, ExprKind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A property value written as a bare word, a string or a bool literal.
fn property_text(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(id) => Some(id.name.clone()),
        _ => None,
    }
}

impl Planner<'_> {
    pub(super) fn externaldata(
        &mut self,
        spec: &ast::ExternalDataSpec,
        span: Span,
    ) -> PResult<Tabular> {
        let columns: Vec<(String, ast::ScalarType)> = spec
            .columns
            .iter()
            .map(|c| (c.name.name.clone(), c.ty.ty))
            .collect();
        let mut format: Option<ExternalFormat> = None;
        let mut ignore_first = false;
        for p in &spec.properties {
            let text = match property_text(&p.value) {
                Some(t) => t,
                None => match eval_constant_pub(&self.scalar(&p.value, &[])?.expr) {
                    Some(ScalarValue::Utf8(Some(s))) => s,
                    Some(ScalarValue::Boolean(Some(b))) => b.to_string(),
                    _ => {
                        return err(
                            "KQL1101",
                            format!("`{}` needs a constant value", p.name.name),
                            p.value.span,
                        );
                    }
                },
            };
            match p.name.name.to_ascii_lowercase().as_str() {
                "format" => match ExternalFormat::from_name(&text) {
                    Some(f) => format = Some(f),
                    None => {
                        return err(
                            "KQL1101",
                            format!(
                                "externaldata format `{text}` is not supported here \
                                 (csv, tsv, psv, scsv, sohsv, json, multijson, txt, raw)"
                            ),
                            p.value.span,
                        );
                    }
                },
                "ignorefirstrecord" => ignore_first = text.eq_ignore_ascii_case("true"),
                // Mappings and other ingestion properties change nothing for these formats.
                _ => {}
            }
        }
        let mut batches = Vec::new();
        for uri in &spec.uris {
            let path = self.externaldata_path(uri)?;
            let fmt = format.unwrap_or_else(|| ExternalFormat::from_path(&path));
            let batch = read_external(&path, &columns, fmt, ignore_first).map_err(|e| {
                Box::new(quarry_syntax::Diagnostic::error(
                    "KQL1102",
                    format!("externaldata: {e}"),
                    uri.span,
                ))
            })?;
            batches.push(batch);
        }
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(
            columns
                .iter()
                .map(|(n, t)| crate::types::field(n, *t))
                .collect::<Vec<_>>(),
        ));
        let mem = datafusion::datasource::MemTable::try_new(schema, vec![batches])
            .map_err(|e| df_error(e, span))?;
        let plan = LogicalPlanBuilder::scan(
            TableReference::bare("externaldata"),
            provider_as_source(Arc::new(mem)),
            None,
        )
        .and_then(|b| b.build())
        .map_err(|e| df_error(e, span))?;
        Ok(Tabular {
            plan,
            columns: columns
                .into_iter()
                .map(|(name, ty)| ColumnInfo { name, ty })
                .collect(),
        })
    }

    /// The local file a URI names, if it is one the user allowed.
    fn externaldata_path(&mut self, uri: &ast::Expr) -> PResult<PathBuf> {
        let text = match eval_constant_pub(&self.scalar(uri, &[])?.expr) {
            Some(ScalarValue::Utf8(Some(s))) => s,
            _ => {
                return err(
                    "KQL1100",
                    "externaldata needs constant string URIs",
                    uri.span,
                );
            }
        };
        let is_network = text.contains("://") || text.starts_with("\\\\");
        let local = text.strip_prefix("file://").unwrap_or(&text);
        if is_network && !text.starts_with("file://") {
            return err(
                "KQL1100",
                "externaldata from a URL is not supported: Quarry works offline and reads only \
                 local files (download the file and name its path)",
                uri.span,
            );
        }
        if self.externaldata_roots.is_empty() {
            return err(
                "KQL1100",
                format!(
                    "externaldata may read `{local}` only when its directory is allowed: \
                     run with --allow-externaldata DIR"
                ),
                uri.span,
            );
        }
        let path = match std::fs::canonicalize(Path::new(local)) {
            Ok(p) => p,
            Err(e) => return err("KQL1102", format!("externaldata: {local}: {e}"), uri.span),
        };
        if !self.externaldata_roots.iter().any(|r| path.starts_with(r)) {
            return err(
                "KQL1100",
                format!(
                    "externaldata: `{local}` is not under a directory allowed with \
                     --allow-externaldata"
                ),
                uri.span,
            );
        }
        Ok(path)
    }
}
