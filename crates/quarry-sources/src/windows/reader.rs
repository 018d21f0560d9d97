//! Reading Windows event files: recognising them by content, and streaming their events
//! through a caller's conversion. EVTX records are rendered and converted on the `evtx` crate's
//! rayon workers, one chunk per task, in record order; JSON files are read line by line.

use super::event::WinEvent;
use super::layouts::{classify, from_json};
use crate::error::SourceError;
use crate::json::{self, DocError, DocEvent, Flow};
use evtx::{EvtxParser, ParserSettings};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

/// EVTX file header magic.
const EVTX_MAGIC: &[u8; 8] = b"ElfFile\0";
const EVTX_HEADER_SIZE: u64 = 4096;
const EVTX_CHUNK_SIZE: u64 = 65536;

/// A Windows event file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WinFormat {
    Evtx,
    /// One event object per line (Mordor/OTRF, Winlogbeat, Sentinel exports, `evtx_dump`).
    JsonLines,
    /// One JSON array of event objects.
    JsonArray,
}

impl WinFormat {
    pub fn name(self) -> &'static str {
        match self {
            WinFormat::Evtx => "EVTX",
            WinFormat::JsonLines => "Windows events (JSON Lines)",
            WinFormat::JsonArray => "Windows events (JSON)",
        }
    }
}

/// What sniffing found.
#[derive(Debug)]
pub enum Sniff {
    /// Windows events in this format.
    Events(WinFormat),
    /// Named `.evtx` but not an EVTX file (reason).
    BadEvtx(String),
    /// Not Windows events (try other readers).
    Other,
}

/// Recognises a Windows event file by content: the EVTX magic, or JSON whose first objects are
/// Windows events in a known layout.
pub fn sniff(path: &Path) -> Result<Sniff, SourceError> {
    let mut head = Vec::with_capacity(8192);
    File::open(path)
        .and_then(|f| f.take(8192).read_to_end(&mut head))
        .map_err(|e| SourceError::io(path, &e))?;
    if head.starts_with(EVTX_MAGIC) {
        return Ok(Sniff::Events(WinFormat::Evtx));
    }
    let is_evtx_ext = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("evtx"));
    if is_evtx_ext && !head.is_empty() {
        return Ok(Sniff::BadEvtx(
            "not an EVTX file (no ElfFile header magic)".into(),
        ));
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let Some(first) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Ok(Sniff::Other);
    };
    let open = || {
        File::open(path)
            .map(|f| BufReader::with_capacity(1 << 16, f))
            .map_err(|e| SourceError::io(path, &e))
    };
    match text[first] {
        b'{' => {
            // The first few parseable lines decide.
            let (mut seen, mut events) = (0usize, 0usize);
            json::read_lines(
                open()?,
                &mut |r, _| -> Result<Flow, SourceError> {
                    if let Ok(row) = r {
                        seen += 1;
                        if classify(&row).is_some() {
                            events += 1;
                        }
                    }
                    Ok(if seen >= 5 {
                        Flow::Stop
                    } else {
                        Flow::Continue
                    })
                },
                |e| SourceError::io(path, &e),
            )?;
            Ok(if seen > 0 && events * 2 > seen {
                Sniff::Events(WinFormat::JsonLines)
            } else {
                Sniff::Other
            })
        }
        b'[' => {
            let (mut seen, mut events) = (0usize, 0usize);
            let r = json::read_document(open()?, &mut |ev| -> Result<Flow, SourceError> {
                if let DocEvent::Row(Some(row), _) = ev {
                    seen += 1;
                    if classify(&row).is_some() {
                        events += 1;
                    }
                }
                Ok(if seen >= 5 {
                    Flow::Stop
                } else {
                    Flow::Continue
                })
            });
            if let Err(DocError::Callback(e)) = r {
                return Err(e);
            }
            Ok(if seen > 0 && events * 2 > seen {
                Sniff::Events(WinFormat::JsonArray)
            } else {
                Sniff::Other
            })
        }
        _ => Ok(Sniff::Other),
    }
}

/// One item read from a Windows event file.
pub enum Item<T> {
    /// A record, converted (`None`: the conversion does not want it).
    Record(Option<T>),
    /// A chunk or record that cannot be read: where (`chunk 3`, `record 1234`, `line 7`), a
    /// number to count it by (record id, chunk number or line) and why.
    Bad {
        location: String,
        number: u64,
        message: String,
    },
}

/// The conversion applied to every event; for EVTX it runs on the worker threads.
pub type Convert<T> = Arc<dyn Fn(WinEvent) -> Option<T> + Send + Sync>;

/// An error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    let mut depth = 0;
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
        depth += 1;
        if depth > 8 {
            break;
        }
    }
    s
}

/// Where an EVTX error happened, and a number for it.
fn evtx_location(e: &evtx::err::EvtxError) -> (String, u64) {
    use evtx::err::EvtxError as E;
    match e {
        E::FailedToParseChunk { chunk_id, .. } => (format!("chunk {chunk_id}"), *chunk_id),
        E::FailedToParseRecord { record_id, .. } => (format!("record {record_id}"), *record_id),
        E::FailedToReadRecordAt { chunk, offset, .. } => match chunk {
            Some(c) => (format!("chunk {c}, record at offset {offset}"), *c),
            None => (format!("record at offset {offset}"), *offset),
        },
        _ => ("file".to_string(), 0),
    }
}

/// Reads the events of `path`, passing each converted record (or bad chunk/record) to
/// `on_item`, in file order, until it says stop. Errors opening the file are returned as is.
pub fn read<T: Send + 'static, E>(
    path: &Path,
    format: WinFormat,
    convert: Convert<T>,
    on_item: &mut dyn FnMut(Item<T>) -> Result<Flow, E>,
    on_err: &dyn Fn(SourceError) -> E,
) -> Result<(), E> {
    match format {
        WinFormat::Evtx => read_evtx(path, convert, on_item, on_err),
        WinFormat::JsonLines => {
            let f = File::open(path).map_err(|e| on_err(SourceError::io(path, &e)))?;
            json::read_lines(
                BufReader::with_capacity(1 << 17, f),
                &mut |r, line| match r {
                    Ok(row) => on_item(json_item(row, line, &convert)),
                    Err(m) => on_item(Item::Bad {
                        location: format!("line {line}"),
                        number: line,
                        message: format!("invalid JSON: {m}"),
                    }),
                },
                |e| on_err(SourceError::io(path, &e)),
            )
        }
        WinFormat::JsonArray => {
            let f = File::open(path).map_err(|e| on_err(SourceError::io(path, &e)))?;
            let r = json::read_document(BufReader::with_capacity(1 << 17, f), &mut |ev| match ev {
                DocEvent::Schema(_) => Ok(Flow::Continue),
                DocEvent::Row(Some(row), line) => on_item(json_item(row, line, &convert)),
                DocEvent::Row(None, line) => on_item(Item::Bad {
                    location: format!("line {line}"),
                    number: line,
                    message: "array element is not an object".into(),
                }),
            });
            match r {
                Ok(()) => Ok(()),
                Err(DocError::Callback(e)) => Err(e),
                Err(DocError::NotRows(m)) => Err(on_err(SourceError::at(path, None, m))),
                Err(DocError::Syntax(line, m)) => {
                    on_item(Item::Bad {
                        location: format!("line {line}"),
                        number: line,
                        message: format!(
                            "invalid JSON: {m} (the rest of this JSON document was not read)"
                        ),
                    })?;
                    Ok(())
                }
            }
        }
    }
}

fn json_item<T>(row: json::Row, line: u64, convert: &Convert<T>) -> Item<T> {
    match classify(&row) {
        Some(layout) => Item::Record(convert(from_json(row, layout))),
        None => Item::Bad {
            location: format!("line {line}"),
            number: line,
            message: "not a Windows event in a known layout".into(),
        },
    }
}

/// What a worker hands back for one EVTX record.
enum Done<T> {
    Ok(Option<T>),
    BadXml(u64, String),
}

fn read_evtx<T: Send + 'static, E>(
    path: &Path,
    convert: Convert<T>,
    on_item: &mut dyn FnMut(Item<T>) -> Result<Flow, E>,
    on_err: &dyn Fn(SourceError) -> E,
) -> Result<(), E> {
    let size = std::fs::metadata(path)
        .map_err(|e| on_err(SourceError::io(path, &e)))?
        .len();
    // A file whose header cannot be read has no records to read: one bad item.
    let parser = match EvtxParser::from_path(path) {
        Ok(p) => p,
        Err(e) => {
            on_item(Item::Bad {
                location: "file header".into(),
                number: 0,
                message: format!("not a readable EVTX file: {}", chain(&e)),
            })?;
            return Ok(());
        }
    };
    let settings = ParserSettings::new().num_threads(0).indent(false);
    let mut parser = parser.with_configuration(settings);
    let header_chunks = u64::from(parser.header().chunk_count);
    let conv = convert.clone();
    let records = parser.serialized_records(move |rec| {
        let rec = rec?;
        let id = rec.event_record_id;
        let xml = rec.into_xml()?;
        Ok(match WinEvent::from_xml(&xml.data) {
            Ok(ev) => Done::Ok(conv(ev)),
            Err(m) => Done::BadXml(id, m),
        })
    });
    for r in records {
        let item = match r {
            Ok(Done::Ok(t)) => Item::Record(t),
            Ok(Done::BadXml(id, m)) => Item::Bad {
                location: format!("record {id}"),
                number: id,
                message: format!("cannot read the rendered event: {m}"),
            },
            Err(e) => {
                let (location, number) = evtx_location(&e);
                Item::Bad {
                    location,
                    number,
                    message: chain(&e),
                }
            }
        };
        if let Flow::Stop = on_item(item)? {
            return Ok(());
        }
    }
    // The parser silently ignores a partial last chunk and chunks the header counts but the
    // file lacks: both mean the file was cut short.
    let data = size.saturating_sub(EVTX_HEADER_SIZE);
    let whole = data / EVTX_CHUNK_SIZE;
    if data % EVTX_CHUNK_SIZE != 0 {
        on_item(Item::Bad {
            location: format!("chunk {whole}"),
            number: whole,
            message: format!(
                "the file is truncated: chunk {whole} has only {} of its {EVTX_CHUNK_SIZE} bytes",
                data % EVTX_CHUNK_SIZE
            ),
        })?;
    } else if header_chunks > whole {
        on_item(Item::Bad {
            location: format!("chunk {whole}"),
            number: whole,
            message: format!(
                "the file is truncated: its header counts {header_chunks} chunks, the file holds {whole}"
            ),
        })?;
    }
    Ok(())
}
