//! Streaming JSON: JSON Lines, and documents (a top-level array of rows, an Advanced Hunting
//! API response `{"Schema":[…],"Results":[…]}`, or `{"records":[…]}`) read one row at a time.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{BufRead, Read};
use std::rc::Rc;

/// Marker message of the error used to stop a document early.
const STOP: &str = "\u{0}quarry-stop";

/// A row object as read, with the line where it starts.
pub type Row = Map<String, Value>;

/// The table an envelope names, and the row inside it; a plain row is returned unchanged.
/// Envelope: `{"category":"AdvancedHunting-<Table>", "properties":{…}}` (streaming API).
pub fn unwrap_envelope(mut obj: Row) -> (Option<String>, Row) {
    let table = match obj.get("category") {
        Some(Value::String(c)) => c.strip_prefix("AdvancedHunting-").map(str::to_string),
        _ => None,
    };
    if let Some(t) = table
        && matches!(obj.get("properties"), Some(Value::Object(_)))
        && let Some(Value::Object(props)) = obj.remove("properties")
    {
        return (Some(t), props);
    }
    (None, obj)
}

/// What a callback tells the document reader.
pub enum Flow {
    Continue,
    Stop,
}

/// Events from a JSON document.
pub enum DocEvent {
    /// The `Schema` of an Advanced Hunting response: (Name, Type) pairs.
    Schema(Vec<(String, String)>),
    /// A row element (`None` if the element is not an object) and the line where it starts.
    Row(Option<Row>, u64),
}

/// How reading a document ended badly.
pub enum DocError<E> {
    /// The text is not valid JSON (line, message); nothing after it can be read.
    Syntax(u64, String),
    /// The top-level value is neither an array nor an object with rows.
    NotRows(String),
    /// The callback failed.
    Callback(E),
}

struct CountingReader<R> {
    inner: R,
    newlines: Rc<Cell<u64>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let c = buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        if c > 0 {
            self.newlines.set(self.newlines.get() + c);
        }
        Ok(n)
    }
}

struct Ctx<'f, E> {
    newlines: Rc<Cell<u64>>,
    callback: RefCell<&'f mut dyn FnMut(DocEvent) -> Result<Flow, E>>,
    failure: RefCell<Option<E>>,
    saw_rows: Cell<bool>,
}

impl<E> Ctx<'_, E> {
    fn emit<Er: de::Error>(&self, ev: DocEvent) -> Result<(), Er> {
        let r = (self.callback.borrow_mut())(ev);
        match r {
            Ok(Flow::Continue) => Ok(()),
            Ok(Flow::Stop) => Err(Er::custom(STOP)),
            Err(e) => {
                *self.failure.borrow_mut() = Some(e);
                Err(Er::custom(STOP))
            }
        }
    }
}

/// Reads a JSON document from `reader`, calling `callback` for the schema and each row.
pub fn read_document<R: BufRead, E>(
    reader: R,
    callback: &mut dyn FnMut(DocEvent) -> Result<Flow, E>,
) -> Result<(), DocError<E>> {
    let newlines = Rc::new(Cell::new(0));
    let counting = CountingReader {
        inner: reader,
        newlines: newlines.clone(),
    };
    let ctx = Ctx {
        newlines,
        callback: RefCell::new(callback),
        failure: RefCell::new(None),
        saw_rows: Cell::new(false),
    };
    let mut de = serde_json::Deserializer::from_reader(counting);
    let r = de.deserialize_any(TopVisitor { ctx: &ctx });
    let r = r.and_then(|()| de.end());
    if let Some(e) = ctx.failure.borrow_mut().take() {
        return Err(DocError::Callback(e));
    }
    match r {
        Ok(()) if ctx.saw_rows.get() => Ok(()),
        Ok(()) => Err(DocError::NotRows(
            "a JSON object without a Results/records array of rows".into(),
        )),
        Err(e) if e.to_string().contains(STOP) => Ok(()),
        Err(e) if e.is_data() => Err(DocError::NotRows(e.to_string())),
        Err(e) => Err(DocError::Syntax(e.line() as u64, e.to_string())),
    }
}

struct TopVisitor<'c, 'f, E> {
    ctx: &'c Ctx<'f, E>,
}

impl<'de, E> Visitor<'de> for TopVisitor<'_, '_, E> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of row objects or an object with Schema/Results")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        RowsSeed { ctx: self.ctx }.visit(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        #[derive(serde::Deserialize)]
        struct Col {
            #[serde(alias = "name", alias = "ColumnName")]
            #[serde(rename = "Name")]
            name: String,
            #[serde(alias = "type", alias = "ColumnType", alias = "DataType")]
            #[serde(rename = "Type", default)]
            ty: String,
        }
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "Schema" | "schema" => {
                    let cols: Vec<Col> = map.next_value()?;
                    self.ctx.emit(DocEvent::Schema(
                        cols.into_iter().map(|c| (c.name, c.ty)).collect(),
                    ))?;
                }
                "Results" | "results" | "records" | "Records" => {
                    map.next_value_seed(RowsSeed { ctx: self.ctx })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct RowsSeed<'c, 'f, E> {
    ctx: &'c Ctx<'f, E>,
}

impl<'c, 'f, E> RowsSeed<'c, 'f, E> {
    fn visit<'de, A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.ctx.saw_rows.set(true);
        while let Some((row, line)) = seq.next_element_seed(RowSeed {
            newlines: &self.ctx.newlines,
        })? {
            self.ctx.emit(DocEvent::Row(row, line))?;
        }
        Ok(())
    }
}

impl<'de, E> DeserializeSeed<'de> for RowsSeed<'_, '_, E> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, E> Visitor<'de> for RowsSeed<'_, '_, E> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of row objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.visit(seq)
    }
}

struct RowSeed<'c> {
    newlines: &'c Rc<Cell<u64>>,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = (Option<Row>, u64);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = (Option<Row>, u64);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let line = self.newlines.get() + 1;
        let mut row = Row::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            row.insert(k, v);
        }
        Ok((Some(row), line))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let line = self.newlines.get() + 1;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((None, line))
    }
    fn visit_bool<Er>(self, _: bool) -> Result<Self::Value, Er> {
        Ok((None, self.newlines.get() + 1))
    }
    fn visit_i64<Er>(self, _: i64) -> Result<Self::Value, Er> {
        Ok((None, self.newlines.get() + 1))
    }
    fn visit_u64<Er>(self, _: u64) -> Result<Self::Value, Er> {
        Ok((None, self.newlines.get() + 1))
    }
    fn visit_f64<Er>(self, _: f64) -> Result<Self::Value, Er> {
        Ok((None, self.newlines.get() + 1))
    }
    fn visit_str<Er>(self, _: &str) -> Result<Self::Value, Er> {
        Ok((None, self.newlines.get() + 1))
    }
    fn visit_unit<Er>(self) -> Result<Self::Value, Er> {
        Ok((None, self.newlines.get() + 1))
    }
}

/// Reads JSON Lines: calls `on_line(result, line)` for each non-blank line, where the result is
/// the parsed object or a parse error message. Stops when the callback says so.
pub fn read_lines<R: BufRead, E>(
    mut reader: R,
    on_line: &mut dyn FnMut(Result<Row, String>, u64) -> Result<Flow, E>,
    on_io: impl Fn(std::io::Error) -> E,
) -> Result<(), E> {
    let mut buf = Vec::with_capacity(4096);
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(&on_io)?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        let mut bytes = &buf[..];
        if line == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(other) => Err(format!(
                "expected a JSON object, found {}",
                match other {
                    Value::Array(_) => "an array",
                    Value::String(_) => "a string",
                    Value::Number(_) => "a number",
                    Value::Bool(_) => "a boolean",
                    _ => "null",
                }
            )),
            Err(e) => Err(e.to_string()),
        };
        if let Flow::Stop = on_line(parsed, line)? {
            return Ok(());
        }
    }
}
