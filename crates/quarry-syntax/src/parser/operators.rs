//! Query operators and sources added after v1: `mv-expand`, `mv-apply`, `render`, `parse`,
//! `parse-where`, `parse-kv`, `make-series`, `evaluate`, `invoke`, `lookup`, `search`, `find`,
//! `externaldata`, `top-nested`, `sample`, `sample-distinct`, `facet`, `partition`, `fork`,
//! `scan`, and the `declare query_parameters(...)` statement.
//!
//! Grammar follows the KQL reference. Every operator here is entered through
//! [`Parser::parse_pipe_op`], which already counts against the nesting budget; subqueries
//! (`mv-apply ... on (...)`, `fork (...)`, ...) count one more level each.

use super::*;

/// Parameter names (besides `hint.*`) each operator accepts before its arguments.
const MV_EXPAND_PARAMS: &[&str] = &["bagexpansion", "with_itemindex", "kind"];
const MV_APPLY_PARAMS: &[&str] = &["with_itemindex", "kind"];
const PARSE_PARAMS: &[&str] = &["kind", "flags"];
const MAKE_SERIES_PARAMS: &[&str] = &["kind"];
const SEARCH_PARAMS: &[&str] = &["kind"];
const FIND_PARAMS: &[&str] = &["withsource", "isfuzzy"];
const LOOKUP_PARAMS: &[&str] = &["kind"];
const SCAN_PARAMS: &[&str] = &["with_match_id"];

impl Parser<'_> {
    // ----- shared pieces --------------------------------------------------------------------

    /// `name=value` parameters whose name is in `allowed` or starts with `hint.`; stops at the
    /// first other `name =` (which is then an item such as `mv-expand target = X`).
    fn parse_op_params_allowed(&mut self, allowed: &[&str]) -> PResult<Vec<OpParam>> {
        let mut params = Vec::new();
        while let Some(n) = self.dotted_param_len() {
            let ok = match self.current_word() {
                Some("hint") => n > 1,
                Some(w) => n == 1 && allowed.contains(&w),
                None => false,
            };
            if !ok {
                break;
            }
            let name = self.parse_dotted_name(n);
            self.bump(); // `=`
            let value = self.parse_param_value()?;
            params.push(OpParam { name, value });
        }
        Ok(params)
    }

    /// `( name = value, ... )` property lists (`externaldata ... with (...)`, `parse-kv ... with
    /// (...)`). Values are full expressions; bare words are names.
    fn parse_paren_props(&mut self, what: &str) -> PResult<Vec<OpParam>> {
        if !self.at(&TokenKind::LParen) {
            return Err(self.err_expected_after(&format!("`(` and the {what}")));
        }
        let open = self.bump().span;
        let mut props = Vec::new();
        while !self.at(&TokenKind::RParen) {
            let Some(n) = self.dotted_param_len() else {
                return Err(self.err_expected(&format!("`name = value` in the {what}")));
            };
            let name = self.parse_dotted_name(n);
            self.bump(); // `=`
            let value = self.parse_or_expr()?;
            props.push(OpParam { name, value });
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect_closing(open, &format!("`,` or `)` in the {what}"))?;
        Ok(props)
    }

    /// `to typeof(T)` after an `mv-expand`/`mv-apply` item, if present.
    fn parse_to_typeof(&mut self) -> PResult<Option<TypeName>> {
        if !(self.at_word("to")
            && self.word_at(1, "typeof")
            && self.kind_at(2) == &TokenKind::LParen)
        {
            return Ok(None);
        }
        self.bump();
        self.bump();
        self.bump();
        let ty = self.parse_type_name()?;
        self.expect(TokenKind::RParen, "`)` after the type in `typeof(...)`")?;
        Ok(Some(ty))
    }

    /// `[name =] expr [to typeof(T)], ...` of `mv-expand` and `mv-apply`.
    fn parse_mv_items(&mut self, op: &str) -> PResult<Vec<MvExpandItem>> {
        let mut items = Vec::new();
        loop {
            let start = self.span();
            let name = match self.ident_len_at(0) {
                Some(n) if self.kind_at(n) == &TokenKind::Assign => {
                    let id = self.parse_ident("a name")?;
                    self.bump(); // `=`
                    Some(id)
                }
                _ => None,
            };
            if self.at_pipeline_end(u32::MAX) || self.at_word("on") || self.at_word("limit") {
                return Err(if items.is_empty() && name.is_none() {
                    self.err_expected(&format!("an array expression after `{op}`"))
                } else {
                    self.err_expected_after("an array expression")
                });
            }
            let expr = self.parse_or_expr()?;
            let to_type = self.parse_to_typeof()?;
            items.push(MvExpandItem {
                name,
                expr,
                to_type,
                span: self.since(start),
            });
            if !self.eat(&TokenKind::Comma) {
                return Ok(items);
            }
        }
    }

    /// `limit N` after `mv-expand`/`mv-apply` items.
    fn parse_mv_limit(&mut self) -> PResult<Option<Expr>> {
        if self.eat_word("limit") {
            Ok(Some(self.parse_or_expr()?))
        } else {
            Ok(None)
        }
    }

    /// `( op | op ... )`: a pipeline with an implicit input. Consumes the parentheses.
    pub(super) fn parse_subquery(&mut self, what: &str) -> PResult<Subquery> {
        if !self.at(&TokenKind::LParen) {
            return Err(self.err_expected_after(&format!("`(` and the {what}")));
        }
        self.enter()?;
        let r = self.parse_subquery_inner(what);
        self.leave();
        r
    }

    fn parse_subquery_inner(&mut self, what: &str) -> PResult<Subquery> {
        let open = self.bump_open();
        let inner = open.depth + 1;
        // A leading `|` is not KQL, but harmless: accept it.
        self.eat(&TokenKind::Pipe);
        let mut ops = Vec::new();
        let mut failed = false;
        loop {
            if self.at(&TokenKind::RParen) && ops.is_empty() && !failed {
                return Err(self.err_expected(&format!("a query operator in the {what}")));
            }
            match self.parse_pipe_op(inner) {
                Ok(op) => ops.push(op),
                Err(Fail) => {
                    failed = true;
                    self.recover(inner, true);
                }
            }
            if self.at(&TokenKind::Pipe) && self.depth() == inner {
                self.bump();
                continue;
            }
            break;
        }
        self.expect_closing(open.span, &format!("`|` or `)` in the {what}"))?;
        if failed || ops.is_empty() {
            return Err(Fail);
        }
        Ok(Subquery {
            ops,
            span: self.since(open.span),
        })
    }

    // ----- operators ------------------------------------------------------------------------

    #[inline(never)]
    pub(super) fn op_mv_expand(&mut self) -> PResult<PipeOpKind> {
        let params = self.parse_op_params_allowed(MV_EXPAND_PARAMS)?;
        let items = self.parse_mv_items("mv-expand")?;
        let limit = self.parse_mv_limit()?;
        Ok(PipeOpKind::MvExpand(MvExpand {
            params,
            items,
            limit,
        }))
    }

    #[inline(never)]
    pub(super) fn op_mv_apply(&mut self) -> PResult<PipeOpKind> {
        let params = self.parse_op_params_allowed(MV_APPLY_PARAMS)?;
        let items = self.parse_mv_items("mv-apply")?;
        let limit = self.parse_mv_limit()?;
        self.expect_word("on", "and a subquery after the items of `mv-apply`")?;
        let subquery = self.parse_subquery("`mv-apply` subquery")?;
        Ok(PipeOpKind::MvApply(MvApply {
            params,
            items,
            limit,
            subquery,
        }))
    }

    #[inline(never)]
    pub(super) fn op_render(&mut self, depth: u32) -> PResult<PipeOpKind> {
        let chart = self.parse_ident("a chart type (`timechart`, `columnchart`, ...)")?;
        let mut properties = Vec::new();
        if self.at_word("with") && self.kind_at(1) == &TokenKind::LParen {
            self.bump();
            let open = self.bump().span;
            while !self.at(&TokenKind::RParen) {
                if let Some(n) = self.dotted_param_len() {
                    let name = self.parse_dotted_name(n);
                    self.bump(); // `=`
                    let value = self.parse_or_expr()?;
                    properties.push(RenderProperty {
                        name,
                        values: vec![value],
                    });
                } else if let Some(last) = properties.last_mut() {
                    // `ycolumns = a, b`: more values of the previous property.
                    let value = self.parse_or_expr()?;
                    last.values.push(value);
                } else {
                    return Err(self.err_expected("`name = value` in the `render` properties"));
                }
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
            self.expect_closing(open, "`,` or `)` in the `render` properties")?;
        } else {
            // Legacy form: `render timechart title = "x" kind = stacked`.
            while !self.at_pipeline_end(depth) {
                let Some(n) = self.dotted_param_len() else {
                    break;
                };
                let name = self.parse_dotted_name(n);
                self.bump(); // `=`
                let value = self.parse_param_value()?;
                properties.push(RenderProperty {
                    name,
                    values: vec![value],
                });
            }
        }
        Ok(PipeOpKind::Render(Render { chart, properties }))
    }

    #[inline(never)]
    pub(super) fn op_parse(&mut self, depth: u32, op: &str) -> PResult<ParseSpec> {
        let params = self.parse_op_params_allowed(PARSE_PARAMS)?;
        if self.at_word("with") || self.at_pipeline_end(depth) {
            return Err(if params.is_empty() {
                self.err_expected(&format!("the text to parse after `{op}`"))
            } else {
                self.err_expected_after("the text to parse")
            });
        }
        let source = self.parse_or_expr()?;
        self.expect_word("with", "and a pattern after the text to parse")?;
        let mut parts = Vec::new();
        while !self.at_pipeline_end(depth) {
            match self.kind() {
                TokenKind::Star => parts.push(ParsePart::Wildcard(self.bump().span)),
                TokenKind::String(_) => {
                    let (value, span) = self.parse_strings();
                    parts.push(ParsePart::Literal { value, span });
                }
                _ if self.ident_len_at(0).is_some() => {
                    let name = self.parse_ident("a column name")?;
                    let ty = if self.eat(&TokenKind::Colon) {
                        Some(self.parse_type_name()?)
                    } else {
                        None
                    };
                    parts.push(ParsePart::Column { name, ty });
                }
                _ => {
                    return Err(
                        self.err_expected("a string, a column name or `*` in the `parse` pattern")
                    );
                }
            }
        }
        if parts.is_empty() {
            return Err(self.err_expected_after("a pattern"));
        }
        Ok(ParseSpec {
            params,
            source,
            parts,
        })
    }

    #[inline(never)]
    pub(super) fn op_parse_kv(&mut self) -> PResult<PipeOpKind> {
        if self.at_word("as") || self.at_pipeline_end(u32::MAX) {
            return Err(self.err_expected("the text to parse after `parse-kv`"));
        }
        let source = self.parse_or_expr()?;
        self.expect_word("as", "and the key list (`as (key: type, ...)`)")?;
        self.expect(TokenKind::LParen, "`(` and the key list")?;
        let keys = self.parse_column_decls()?;
        let properties = if self.eat_word("with") {
            self.parse_paren_props("`parse-kv` properties")?
        } else {
            Vec::new()
        };
        Ok(PipeOpKind::ParseKv(ParseKv {
            source,
            keys,
            properties,
        }))
    }

    #[inline(never)]
    pub(super) fn op_make_series(&mut self) -> PResult<PipeOpKind> {
        let params = self.parse_op_params_allowed(MAKE_SERIES_PARAMS)?;
        let mut aggregates = Vec::new();
        loop {
            if self.at_word("on") || self.at_pipeline_end(u32::MAX) {
                return Err(if aggregates.is_empty() {
                    self.err_expected("an aggregate after `make-series`")
                } else {
                    self.err_expected_after("an aggregate")
                });
            }
            let agg = self.parse_named_expr()?;
            let default = if self.at_word("default") && self.kind_at(1) == &TokenKind::Assign {
                self.bump();
                self.bump();
                Some(self.parse_or_expr()?)
            } else {
                None
            };
            aggregates.push(MakeSeriesAggregate { agg, default });
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect_word(
            "on",
            "and the axis column after the aggregates of `make-series`",
        )?;
        // Above comparisons, so `on T in range(...)` leaves `in` alone.
        let axis = self.parse_binary(PREC_ADD)?;
        let (from, to, step, range_syntax) = if self.at_word("in") {
            self.bump();
            self.expect_word("range", "after `in` (`in range(start, stop, step)`)")?;
            let open = self.expect(TokenKind::LParen, "`(` after `range`")?;
            let from = self.parse_or_expr()?;
            self.expect(TokenKind::Comma, "`,` in `range(start, stop, step)`")?;
            let to = self.parse_or_expr()?;
            self.expect(TokenKind::Comma, "`,` in `range(start, stop, step)`")?;
            let step = self.parse_or_expr()?;
            self.expect_closing(open, "`)` after `range(start, stop, step`")?;
            (Some(from), Some(to), step, true)
        } else {
            let from = if self.eat_word("from") {
                Some(self.parse_or_expr()?)
            } else {
                None
            };
            let to = if self.eat_word("to") {
                Some(self.parse_or_expr()?)
            } else {
                None
            };
            self.expect_word("step", "and the bin size in `make-series ... on axis`")?;
            (from, to, self.parse_or_expr()?, false)
        };
        let by = if self.eat_word("by") {
            self.parse_named_list()?
        } else {
            Vec::new()
        };
        Ok(PipeOpKind::MakeSeries(MakeSeries {
            params,
            aggregates,
            axis,
            from,
            to,
            step,
            range_syntax,
            by,
        }))
    }

    /// `[hint.x = v] plugin(args)` after `evaluate`.
    #[inline(never)]
    pub(super) fn parse_evaluate_spec(&mut self) -> PResult<EvaluateSpec> {
        let params = self.parse_op_params(true)?;
        if !(matches!(self.kind(), TokenKind::Ident(_)) && self.kind_at(1) == &TokenKind::LParen) {
            return Err(self.err_expected_after("a plugin call (`bag_unpack(col)`, `pivot(...)`)"));
        }
        let plugin = self.parse_ident("a plugin name")?;
        let open = self.bump_open();
        let args = self.parse_args(&plugin.name, open.span)?;
        let output_schema = if self.at(&TokenKind::Colon) && self.kind_at(1) == &TokenKind::LParen {
            Some(self.parse_output_schema()?)
        } else {
            None
        };
        Ok(EvaluateSpec {
            params,
            plugin,
            args,
            output_schema,
        })
    }

    /// `: ( [*,] name: type, ... )`.
    fn parse_output_schema(&mut self) -> PResult<OutputSchema> {
        let start = self.bump().span; // `:`
        self.bump(); // `(`
        let star = self.eat(&TokenKind::Star);
        if star && !self.eat(&TokenKind::Comma) {
            self.expect(TokenKind::RParen, "`,` or `)` after `*`")?;
            return Ok(OutputSchema {
                star,
                columns: Vec::new(),
                span: self.since(start),
            });
        }
        let columns = self.parse_column_decls()?;
        Ok(OutputSchema {
            star,
            columns,
            span: self.since(start),
        })
    }

    #[inline(never)]
    pub(super) fn op_reduce(&mut self) -> PResult<PipeOpKind> {
        let params = self.parse_op_params_allowed(&["kind"])?;
        self.expect_word("by", "after `reduce`")?;
        let by = self.parse_or_expr()?;
        let mut with = Vec::new();
        if self.eat_word("with") {
            loop {
                let Some(n) = self.dotted_param_len() else {
                    return Err(self.err_expected_after("`threshold = ...` or `characters = ...`"));
                };
                let name = self.parse_dotted_name(n);
                self.bump(); // `=`
                let value = self.parse_or_expr()?;
                with.push(OpParam { name, value });
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        Ok(PipeOpKind::Reduce { params, by, with })
    }

    #[inline(never)]
    pub(super) fn op_project_by_names(&mut self) -> PResult<PipeOpKind> {
        let mut items = Vec::new();
        if self.at_pipeline_end(u32::MAX) {
            return Err(
                self.err_expected("a column name, pattern or array after `project-by-names`")
            );
        }
        loop {
            items.push(self.parse_or_expr()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(PipeOpKind::ProjectByNames(items))
    }

    #[inline(never)]
    pub(super) fn op_top_hitters(&mut self) -> PResult<PipeOpKind> {
        if self.at_word("of") || self.at_pipeline_end(u32::MAX) {
            return Err(self.err_expected("a count after `top-hitters`"));
        }
        let count = self.parse_or_expr()?;
        self.expect_word("of", "in `top-hitters N of expr`")?;
        let of = self.parse_or_expr()?;
        let by = if self.eat_word("by") {
            Some(self.parse_or_expr()?)
        } else {
            None
        };
        Ok(PipeOpKind::TopHitters { count, of, by })
    }

    #[inline(never)]
    pub(super) fn op_invoke(&mut self) -> PResult<PipeOpKind> {
        if !(matches!(self.kind(), TokenKind::Ident(_)) && self.kind_at(1) == &TokenKind::LParen) {
            return Err(self.err_expected_after("a function call (`invoke f()`)"));
        }
        let call = self.parse_call()?;
        if !matches!(call.kind, ExprKind::Call { .. }) {
            self.push_diag(Diagnostic::error(
                "KQL0001",
                "expected a function call after `invoke`",
                call.span,
            ));
            return Err(Fail);
        }
        Ok(PipeOpKind::Invoke(call))
    }

    #[inline(never)]
    pub(super) fn op_lookup(&mut self, depth: u32) -> PResult<PipeOpKind> {
        let params = self.parse_op_params_allowed(LOOKUP_PARAMS)?;
        if self.at_word("on") || self.at_pipeline_end(depth) {
            return Err(self.err_expected_after("the right-hand table of `lookup`"));
        }
        let right = self.parse_postfix()?;
        self.expect_word("on", "after the right-hand table of `lookup`")?;
        let mut on = Vec::new();
        loop {
            let e = self.parse_or_expr()?;
            self.join_conditions(e, &mut on)?;
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(PipeOpKind::Lookup { params, right, on })
    }

    /// `in (T1, T2*)` of `search`/`find`; empty when absent.
    fn parse_in_tables(&mut self) -> PResult<Vec<Expr>> {
        if !(self.at_word("in") && self.kind_at(1) == &TokenKind::LParen) {
            return Ok(Vec::new());
        }
        self.bump();
        let open = self.bump().span;
        let mut tables = Vec::new();
        loop {
            tables.push(self.parse_table_item()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect_closing(open, "`,` or `)` in the table list")?;
        Ok(tables)
    }

    /// A `search`/`find` predicate: an expression with the search forms enabled.
    fn parse_search_predicate(&mut self) -> PResult<Expr> {
        if self.at(&TokenKind::Star)
            && matches!(
                self.kind_at(1),
                TokenKind::Pipe
                    | TokenKind::Semi
                    | TokenKind::Eof
                    | TokenKind::RParen
                    | TokenKind::RBrace
            )
        {
            let span = self.bump().span;
            return Ok(Expr {
                kind: ExprKind::Star,
                span,
            });
        }
        if self.at_pipeline_end(u32::MAX) {
            return Err(self.err_expected_after("a search predicate"));
        }
        let saved = std::mem::replace(&mut self.search_mode, true);
        let r = self.parse_or_expr();
        self.search_mode = saved;
        r
    }

    /// `[kind=...] [in (T, ...)] predicate` after `search`.
    #[inline(never)]
    pub(super) fn parse_search_spec(&mut self) -> PResult<SearchSpec> {
        let params = self.parse_op_params_allowed(SEARCH_PARAMS)?;
        let tables = self.parse_in_tables()?;
        let predicate = self.parse_search_predicate()?;
        Ok(SearchSpec {
            params,
            tables,
            predicate,
        })
    }

    /// `find [withsource=C] [in (...)] where predicate [project-smart | project ...]`.
    #[inline(never)]
    pub(super) fn parse_find(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        let params = self.parse_op_params_allowed(FIND_PARAMS)?;
        let tables = self.parse_in_tables()?;
        if !self.eat_word("where") && !tables.is_empty() {
            return Err(self.err_expected("`where` and a predicate after the tables of `find`"));
        }
        let predicate = self.parse_search_predicate()?;
        let project = if self.at_word("project")
            && self.kind_at(1) == &TokenKind::Minus
            && self.word_at(2, "smart")
            && self.adjacent(1)
            && self.adjacent(2)
        {
            self.bump();
            self.bump();
            self.bump();
            Some(FindProject::Smart)
        } else if self.eat_word("project") {
            let mut cols = Vec::new();
            loop {
                let expr = self.parse_postfix()?;
                let ty = if self.eat(&TokenKind::Colon) {
                    Some(self.parse_type_name()?)
                } else {
                    None
                };
                cols.push(FindColumn { expr, ty });
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
            Some(FindProject::Columns(cols))
        } else {
            None
        };
        Ok(Expr {
            kind: ExprKind::Find(Box::new(FindSpec {
                params,
                tables,
                predicate,
                project,
            })),
            span: self.since(start),
        })
    }

    /// `externaldata (cols) [uris] [with (props)]`.
    #[inline(never)]
    pub(super) fn parse_externaldata(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        self.expect(TokenKind::LParen, "`(` after `externaldata`")?;
        let columns = self.parse_column_decls()?;
        let open = self.expect(
            TokenKind::LBracket,
            "`[` and the storage URIs of `externaldata`",
        )?;
        let mut uris = Vec::new();
        while !self.at(&TokenKind::RBracket) {
            uris.push(self.parse_or_expr()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        if !self.at(&TokenKind::RBracket) {
            let f = self.err_expected("`,` or `]` in the `externaldata` URIs");
            if let Some(d) = self.diags.last_mut() {
                d.labels.push(crate::diagnostic::Label {
                    span: open,
                    message: "unclosed `[`".into(),
                });
            }
            return Err(f);
        }
        self.bump();
        let properties = if self.at_word("with") && self.kind_at(1) == &TokenKind::LParen {
            self.bump();
            self.parse_paren_props("`externaldata` properties")?
        } else {
            Vec::new()
        };
        Ok(Expr {
            kind: ExprKind::ExternalData(Box::new(ExternalDataSpec {
                columns,
                uris,
                properties,
            })),
            span: self.since(start),
        })
    }

    #[inline(never)]
    pub(super) fn op_top_nested(&mut self) -> PResult<PipeOpKind> {
        let mut levels = Vec::new();
        loop {
            let start = self.span();
            if levels.is_empty() && self.at_pipeline_end(u32::MAX) {
                return Err(self.err_expected("a count or `of` after `top-nested`"));
            }
            let count = if self.at_word("of") {
                None
            } else {
                Some(self.parse_or_expr()?)
            };
            self.expect_word("of", "in `top-nested N of expr by aggregate`")?;
            let of = self.parse_named_expr()?;
            let others = if self.at_word("with")
                && self.word_at(1, "others")
                && self.kind_at(2) == &TokenKind::Assign
            {
                self.bump();
                self.bump();
                self.bump();
                Some(self.parse_or_expr()?)
            } else {
                None
            };
            self.expect_word("by", "and an aggregate in `top-nested`")?;
            let by = self.parse_named_expr()?;
            let direction = if self.eat_word("asc") {
                Some(SortDirection::Asc)
            } else if self.eat_word("desc") {
                Some(SortDirection::Desc)
            } else {
                None
            };
            levels.push(TopNestedLevel {
                count,
                of,
                others,
                by,
                direction,
                span: self.since(start),
            });
            let next_level = self.at(&TokenKind::Comma)
                && self.word_at(1, "top")
                && self.kind_at(2) == &TokenKind::Minus
                && self.word_at(3, "nested")
                && self.adjacent(2)
                && self.adjacent(3);
            if !next_level {
                return Ok(PipeOpKind::TopNested(levels));
            }
            for _ in 0..4 {
                self.bump();
            }
        }
    }

    #[inline(never)]
    pub(super) fn op_sample(&mut self, depth: u32) -> PResult<PipeOpKind> {
        self.parse_op_params(true)?;
        if self.at_pipeline_end(depth) {
            return Err(self.err_expected_after("a row count"));
        }
        Ok(PipeOpKind::Sample(self.parse_or_expr()?))
    }

    #[inline(never)]
    pub(super) fn op_sample_distinct(&mut self) -> PResult<PipeOpKind> {
        let params = self.parse_op_params(true)?;
        if self.at_word("of") || self.at_pipeline_end(u32::MAX) {
            return Err(self.err_expected("a count after `sample-distinct`"));
        }
        let count = self.parse_or_expr()?;
        self.expect_word("of", "in `sample-distinct N of column`")?;
        let column = self.parse_or_expr()?;
        Ok(PipeOpKind::SampleDistinct {
            params,
            count,
            column,
        })
    }

    #[inline(never)]
    pub(super) fn op_facet(&mut self) -> PResult<PipeOpKind> {
        self.expect_word("by", "after `facet`")?;
        let mut columns = Vec::new();
        loop {
            columns.push(self.parse_ident("a column name")?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        let with = if self.eat_word("with") {
            Some(self.parse_subquery("`facet` subquery")?)
        } else {
            None
        };
        Ok(PipeOpKind::Facet { columns, with })
    }

    #[inline(never)]
    pub(super) fn op_partition(&mut self) -> PResult<PipeOpKind> {
        let params = self.parse_op_params(true)?;
        self.expect_word("by", "after `partition`")?;
        let by = self.parse_ident("a column name after `partition by`")?;
        let body = if self.at(&TokenKind::LBrace) {
            self.enter()?;
            let r = self.parse_brace_query();
            self.leave();
            PartitionBody::Query(r?)
        } else {
            PartitionBody::Subquery(self.parse_subquery("`partition` subquery")?)
        };
        Ok(PipeOpKind::Partition(Partition { params, by, body }))
    }

    /// `{ query }` (consumes the braces).
    fn parse_brace_query(&mut self) -> PResult<Expr> {
        let open = self.bump().span;
        let q = self.parse_pipe_expr()?;
        if !self.at(&TokenKind::RBrace) {
            let f = self.err_expected("`}` to close the `partition` query");
            if let Some(d) = self.diags.last_mut() {
                d.labels.push(crate::diagnostic::Label {
                    span: open,
                    message: "unclosed `{`".into(),
                });
            }
            return Err(f);
        }
        self.bump();
        Ok(q)
    }

    #[inline(never)]
    pub(super) fn op_fork(&mut self) -> PResult<PipeOpKind> {
        let mut branches = Vec::new();
        loop {
            let name = match self.ident_len_at(0) {
                Some(n)
                    if self.kind_at(n) == &TokenKind::Assign
                        && self.kind_at(n + 1) == &TokenKind::LParen =>
                {
                    let id = self.parse_ident("a name")?;
                    self.bump(); // `=`
                    Some(id)
                }
                _ => None,
            };
            if !self.at(&TokenKind::LParen) {
                if branches.is_empty() || name.is_some() {
                    return Err(self.err_expected_after("`(` and a `fork` subquery"));
                }
                return Ok(PipeOpKind::Fork(branches));
            }
            let query = self.parse_subquery("`fork` subquery")?;
            branches.push(ForkBranch { name, query });
        }
    }

    #[inline(never)]
    pub(super) fn op_scan(&mut self) -> PResult<PipeOpKind> {
        let params = self.parse_op_params_allowed(SCAN_PARAMS)?;
        let mut declare = Vec::new();
        if self.at_word("declare") && self.kind_at(1) == &TokenKind::LParen {
            self.bump();
            let open = self.bump().span;
            loop {
                declare.push(self.parse_param()?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
            self.expect_closing(open, "`,` or `)` in the `scan` declarations")?;
        }
        self.expect_word(
            "with",
            "and the steps of `scan` (`with (step s: predicate; ...)`)",
        )?;
        let open = self.expect(TokenKind::LParen, "`(` and the steps of `scan`")?;
        let mut steps = Vec::new();
        while self.at_word("step") {
            let start = self.bump().span;
            let name = self.parse_ident("a step name")?;
            let output = if self.at_word("output") && self.kind_at(1) == &TokenKind::Assign {
                self.bump();
                self.bump();
                Some(self.parse_ident("`all`, `last` or `none`")?)
            } else {
                None
            };
            self.expect(
                TokenKind::Colon,
                &format!("`:` and a condition after step `{}`", name.name),
            )?;
            let condition = self.parse_or_expr()?;
            let mut assignments = Vec::new();
            if self.eat(&TokenKind::FatArrow) {
                loop {
                    let col = self.parse_ident("a column name")?;
                    self.expect(TokenKind::Assign, &format!("`=` after `{}`", col.name))?;
                    assignments.push((col, self.parse_or_expr()?));
                    if !self.eat(&TokenKind::Comma) {
                        break;
                    }
                }
            }
            let span = self.since(start);
            if !self.eat(&TokenKind::Semi) && !self.at(&TokenKind::RParen) {
                return Err(self.err_expected("`;` after the `scan` step"));
            }
            steps.push(ScanStep {
                name,
                output,
                condition,
                assignments,
                span,
            });
        }
        if steps.is_empty() {
            return Err(self.err_expected("`step` in `scan ... with (...)`"));
        }
        self.expect_closing(open, "`step` or `)` in the `scan` steps")?;
        Ok(PipeOpKind::Scan(Scan {
            params,
            declare,
            steps,
        }))
    }

    // ----- statements -----------------------------------------------------------------------

    pub(super) fn at_declare_query_parameters(&self) -> bool {
        self.at_word("declare")
            && self.word_at(1, "query_parameters")
            && self.kind_at(2) == &TokenKind::LParen
    }

    /// `declare query_parameters(name: type [= default], ...)`.
    pub(super) fn parse_declare_query_parameters(&mut self) -> PResult<DeclareQueryParameters> {
        let start = self.bump().span;
        self.bump(); // `query_parameters`
        let open = self.bump().span;
        let mut params = Vec::new();
        if !self.at(&TokenKind::RParen) {
            loop {
                let p = self.parse_param()?;
                if let ParamType::Tabular(_) = p.ty {
                    self.push_diag(Diagnostic::error(
                        "KQL0001",
                        "query parameters must have a scalar type",
                        p.span,
                    ));
                    return Err(Fail);
                }
                params.push(p);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect_closing(open, "`,` or `)` in the query parameters")?;
        let mut too_deep = None;
        for p in &mut params {
            if let Some(d) = &mut p.default
                && expr_too_deep(d)
            {
                too_deep = Some(d.span);
                break;
            }
        }
        if let Some(span) = too_deep {
            self.push_diag(too_deep_diag(span));
            for p in params {
                if let Some(d) = p.default {
                    dispose(d);
                }
            }
            return Err(Fail);
        }
        Ok(DeclareQueryParameters {
            params,
            span: self.since(start),
        })
    }

    /// After a `*` in operand position: true when a string operator follows (`* has "x"`).
    pub(super) fn star_operand_next(&self) -> bool {
        match self.kind_at(1) {
            TokenKind::Ident(w) => {
                string_op(w, false).is_some() || matches!(w.as_str(), "has_any" | "has_all")
            }
            TokenKind::BangWord(w) => string_op(w, true).is_some(),
            _ => false,
        }
    }
}
