//! One Windows event, normalised from any source: the EVTX record's XML rendering, or one of
//! the JSON layouts (see `layouts.rs`). Table rows are derived from this (see `tables.rs`).

use crate::values::parse_datetime;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// A Windows event: the `System` element, the `EventData`/`UserData` fields in document order,
/// and what some sources add (a rendered message, level/task names, a ready Sentinel row).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WinEvent {
    /// `System/TimeCreated@SystemTime`, ns since the Unix epoch (UTC).
    pub time_ns: Option<i64>,
    pub provider: String,
    pub provider_guid: String,
    pub event_id: Option<i64>,
    pub version: Option<i64>,
    pub level: Option<i64>,
    pub task: Option<i64>,
    pub opcode: Option<i64>,
    /// `System/Keywords` as written in the XML (`0x8020000000000000`).
    pub keywords: String,
    pub record_id: Option<i64>,
    pub activity_id: String,
    pub related_activity_id: String,
    /// `System/Execution@ProcessID` / `@ThreadID`.
    pub process_id: Option<i64>,
    pub thread_id: Option<i64>,
    /// `System/Channel` as written (casing varies in real data: `security`).
    pub channel: String,
    pub computer: String,
    /// `System/Security@UserID`.
    pub user_sid: String,
    /// The account of `user_sid` when the source resolved it (`NT AUTHORITY\SYSTEM`).
    pub user_name: String,
    /// `EventData/Data` (name, text) in document order (unnamed `Data` have an empty name), or
    /// the leaf elements of `UserData`.
    pub data: Vec<(String, String)>,
    /// The element under `UserData` when the fields came from there (`LogFileCleared`).
    pub user_data_element: String,
    /// Rendered message, when the source carries one (forwarded events, JSON layouts).
    pub message: String,
    /// Rendered level / task / opcode names, when the source carries them.
    pub level_name: String,
    pub task_name: String,
    pub opcode_name: String,
    /// The row was already a Sentinel table row (export): the table (`Type`) and its columns.
    pub sentinel: Option<(String, Map<String, Value>)>,
}

/// Keywords bit set on Security audit-success events.
pub const KEYWORD_AUDIT_SUCCESS: u64 = 0x0020_0000_0000_0000;
/// Keywords bit set on Security audit-failure events.
pub const KEYWORD_AUDIT_FAILURE: u64 = 0x0010_0000_0000_0000;

impl WinEvent {
    /// The first `EventData` field named `name` (exact case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The field's text, `""` when absent.
    pub fn str(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// The field's text, `""` when absent or the Windows placeholder `-`.
    pub fn val(&self, name: &str) -> &str {
        match self.get(name) {
            Some("-") | None => "",
            Some(v) => v,
        }
    }

    /// The field as an integer (decimal or `0x` hex).
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(parse_int)
    }

    /// The Security channel, whatever its casing (`security` occurs in real data).
    pub fn is_security_channel(&self) -> bool {
        self.channel.eq_ignore_ascii_case("Security")
    }

    pub fn is_sysmon(&self) -> bool {
        self.provider
            .eq_ignore_ascii_case("Microsoft-Windows-Sysmon")
            || self
                .channel
                .eq_ignore_ascii_case("Microsoft-Windows-Sysmon/Operational")
    }

    /// `Keywords` as a number.
    pub fn keywords_bits(&self) -> Option<u64> {
        let k = self.keywords.trim();
        match k.strip_prefix("0x").or_else(|| k.strip_prefix("0X")) {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => k
                .parse::<u64>()
                .ok()
                .or_else(|| k.parse::<i64>().ok().map(|v| v as u64)),
        }
    }
}

/// An integer in Windows event text: decimal, or hex with `0x` (`0x3e7`), possibly negative.
pub fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok().map(|v| v as i64);
    }
    t.parse::<i64>().ok()
}

/// The last path component of a Windows path (`C:\Windows\cmd.exe` → `cmd.exe`).
pub fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// Escapes text for an XML element or attribute value.
pub fn xml_escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Resolves the XML predefined entities and character references; unknown ones stay as text.
fn xml_unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(end) = after.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let ent = &after[..end];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .or_else(|| ent.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse::<u32>().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A token of the (machine-written) event XML.
enum Tok<'a> {
    Start {
        name: &'a str,
        attrs: &'a str,
        empty: bool,
    },
    End,
    Text(&'a str),
    CData(&'a str),
}

/// A small tokenizer for the XML the EVTX renderer writes: elements, attributes, text, CDATA;
/// declarations, comments and processing instructions are skipped. Never panics; malformed
/// input ends in an error.
struct Tokens<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    fn skip_past(&mut self, pat: &str) -> Result<(), String> {
        match self.s[self.pos..].find(pat) {
            Some(i) => {
                self.pos += i + pat.len();
                Ok(())
            }
            None => Err(format!("unterminated markup (expected {pat:?})")),
        }
    }

    fn next_tok(&mut self) -> Result<Option<Tok<'a>>, String> {
        loop {
            let rest = &self.s[self.pos..];
            if rest.is_empty() {
                return Ok(None);
            }
            if !rest.starts_with('<') {
                let end = rest.find('<').unwrap_or(rest.len());
                self.pos += end;
                return Ok(Some(Tok::Text(&rest[..end])));
            }
            if rest.starts_with("<?") {
                self.skip_past("?>")?;
                continue;
            }
            if rest.starts_with("<!--") {
                self.skip_past("-->")?;
                continue;
            }
            if let Some(body) = rest.strip_prefix("<![CDATA[") {
                let end = body.find("]]>").ok_or("unterminated CDATA section")?;
                self.pos += "<![CDATA[".len() + end + 3;
                return Ok(Some(Tok::CData(&body[..end])));
            }
            if rest.starts_with("<!") {
                self.skip_past(">")?;
                continue;
            }
            if rest.starts_with("</") {
                self.skip_past(">")?;
                return Ok(Some(Tok::End));
            }
            // A start tag: find its end outside quoted attribute values.
            let bytes = rest.as_bytes();
            let mut quote = 0u8;
            let mut end = None;
            for (i, &b) in bytes.iter().enumerate().skip(1) {
                if quote != 0 {
                    if b == quote {
                        quote = 0;
                    }
                } else if b == b'"' || b == b'\'' {
                    quote = b;
                } else if b == b'>' {
                    end = Some(i);
                    break;
                }
            }
            let end = end.ok_or("unterminated start tag")?;
            let inner = &rest[1..end];
            self.pos += end + 1;
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let name_end = inner
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(inner.len());
            let name = &inner[..name_end];
            if name.is_empty() {
                return Err("element without a name".into());
            }
            return Ok(Some(Tok::Start {
                name,
                attrs: &inner[name_end..],
                empty,
            }));
        }
    }
}

/// `name="value"` pairs of a start tag (values unescaped).
fn attributes(mut s: &str) -> Vec<(&str, Cow<'_, str>)> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start();
        let Some(eq) = s.find('=') else { break };
        let name = s[..eq].trim();
        let after = s[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let body = &after[1..];
        let Some(close) = body.find(q) else { break };
        out.push((local(name), xml_unescape(&body[..close])));
        s = &body[close + 1..];
    }
    out
}

/// The local part of a qualified name (`ns:Data` → `Data`).
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn opt_int(s: &str) -> Option<i64> {
    parse_int(s)
}

impl WinEvent {
    /// Reads the XML rendering of one event (`<Event><System>…</System><EventData>…`).
    pub fn from_xml(xml: &str) -> Result<WinEvent, String> {
        let mut ev = WinEvent::default();
        let mut toks = Tokens { s: xml, pos: 0 };
        let mut stack: Vec<&str> = Vec::new();
        let mut text = String::new();
        let mut data_name = String::new();
        let mut saw_event = false;
        // Whether each open element has child elements (only leaves carry field values).
        let mut has_child: Vec<bool> = Vec::new();
        while let Some(tok) = toks.next_tok()? {
            match tok {
                Tok::Text(t) => {
                    if !stack.is_empty() {
                        text.push_str(&xml_unescape(t));
                    }
                }
                Tok::CData(t) => text.push_str(t),
                Tok::Start { name, attrs, empty } => {
                    let name = local(name);
                    if stack.is_empty() {
                        if name != "Event" {
                            return Err(format!("expected an <Event> element, found <{name}>"));
                        }
                        saw_event = true;
                    }
                    if stack.len() > 64 {
                        return Err("elements nested too deeply".into());
                    }
                    if let Some(parent) = has_child.last_mut() {
                        *parent = true;
                    }
                    stack.push(name);
                    has_child.push(false);
                    text.clear();
                    ev.start_element(&stack, attrs, &mut data_name);
                    if empty {
                        ev.end_element(&stack, "", &data_name, true);
                        stack.pop();
                        has_child.pop();
                    }
                }
                Tok::End => {
                    if stack.is_empty() {
                        return Err("unbalanced end tag".into());
                    }
                    let t = std::mem::take(&mut text);
                    let leaf = !has_child.pop().unwrap_or(false);
                    ev.end_element(&stack, &t, &data_name, leaf);
                    stack.pop();
                }
            }
        }
        if !saw_event {
            return Err("no <Event> element".into());
        }
        if !stack.is_empty() {
            return Err("the XML ends inside an element".into());
        }
        Ok(ev)
    }

    fn start_element(&mut self, path: &[&str], attrs: &str, data_name: &mut String) {
        match path {
            ["Event", "System", el] => {
                for (k, v) in attributes(attrs) {
                    match (*el, k) {
                        ("Provider", "Name") => self.provider = v.into_owned(),
                        ("Provider", "Guid") => self.provider_guid = v.into_owned(),
                        ("TimeCreated", "SystemTime") => self.time_ns = parse_datetime(&v),
                        ("Correlation", "ActivityID") => self.activity_id = v.into_owned(),
                        ("Correlation", "RelatedActivityID") => {
                            self.related_activity_id = v.into_owned()
                        }
                        ("Execution", "ProcessID") => self.process_id = opt_int(&v),
                        ("Execution", "ThreadID") => self.thread_id = opt_int(&v),
                        ("Security", "UserID") => self.user_sid = v.into_owned(),
                        _ => {}
                    }
                }
            }
            ["Event", "EventData", "Data"] => {
                data_name.clear();
                if let Some((_, v)) = attributes(attrs).into_iter().find(|(k, _)| *k == "Name") {
                    data_name.push_str(&v);
                }
            }
            _ => {}
        }
    }

    fn end_element(&mut self, path: &[&str], text: &str, data_name: &str, leaf: bool) {
        match path {
            ["Event", "System", el] => match *el {
                "EventID" => self.event_id = opt_int(text),
                "Version" => self.version = opt_int(text),
                "Level" => self.level = opt_int(text),
                "Task" => self.task = opt_int(text),
                "Opcode" => self.opcode = opt_int(text),
                "Keywords" => self.keywords = text.to_string(),
                "EventRecordID" => self.record_id = opt_int(text),
                "Channel" => self.channel = text.to_string(),
                "Computer" => self.computer = text.to_string(),
                _ => {}
            },
            ["Event", "EventData", "Data"] => {
                self.data.push((data_name.to_string(), text.to_string()));
            }
            ["Event", "EventData", "Binary"] => {
                self.data.push(("Binary".to_string(), text.to_string()));
            }
            ["Event", "UserData", el, .., name] if leaf => {
                if self.user_data_element.is_empty() {
                    self.user_data_element = el.to_string();
                }
                self.data.push((name.to_string(), text.to_string()));
            }
            ["Event", "RenderingInfo", el] => match *el {
                "Message" => self.message = text.to_string(),
                "Level" => self.level_name = text.to_string(),
                "Task" => self.task_name = text.to_string(),
                "Opcode" => self.opcode_name = text.to_string(),
                _ => {}
            },
            _ => {}
        }
    }

    /// `<EventData xmlns=…><Data Name="…">…</Data>…</EventData>`, the XML string Sentinel keeps
    /// in `SecurityEvent.EventData` (for a `UserData` event: `<UserData><Element>…`).
    pub fn event_data_xml(&self) -> String {
        let mut out = String::with_capacity(64 + self.data.len() * 48);
        if !self.user_data_element.is_empty() {
            out.push_str("<UserData><");
            out.push_str(&self.user_data_element);
            out.push('>');
            for (k, v) in &self.data {
                out.push('<');
                out.push_str(k);
                out.push('>');
                out.push_str(&xml_escape(v));
                out.push_str("</");
                out.push_str(k);
                out.push('>');
            }
            out.push_str("</");
            out.push_str(&self.user_data_element);
            out.push_str("></UserData>");
            return out;
        }
        out.push_str(
            r#"<EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event">"#,
        );
        for (k, v) in &self.data {
            if k.is_empty() {
                out.push_str("<Data>");
            } else {
                out.push_str(r#"<Data Name=""#);
                out.push_str(&xml_escape(k));
                out.push_str(r#"">"#);
            }
            out.push_str(&xml_escape(v));
            out.push_str("</Data>");
        }
        out.push_str("</EventData>");
        out
    }

    /// The fields as a JSON object (name → text); unnamed `Data` are named `Data1`, `Data2`, …
    pub fn event_data_json(&self) -> String {
        let mut m = Map::new();
        let mut unnamed = 0usize;
        for (k, v) in &self.data {
            let key = if k.is_empty() {
                unnamed += 1;
                format!("Data{unnamed}")
            } else {
                k.clone()
            };
            m.entry(key).or_insert_with(|| Value::String(v.clone()));
        }
        Value::Object(m).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_evtx_xml() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing" Guid="{54849625}"/><EventID>4624</EventID><Version>1</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime="2021-11-13T14:30:58.2269250Z"/><EventRecordID>469348</EventRecordID><Correlation/><Execution ProcessID="492" ThreadID="1604"/><Channel>Security</Channel><Computer>FS03.offsec.lan</Computer><Security/></System><EventData><Data Name="TargetUserName">a&amp;b &lt;c&gt;</Data><Data Name="LogonType">2</Data><Data Name="Empty"/><Data>unnamed</Data><Data Name="X"><![CDATA[<raw>]]></Data></EventData></Event>"#;
        let ev = WinEvent::from_xml(xml).expect("parses");
        assert_eq!(ev.event_id, Some(4624));
        assert_eq!(ev.channel, "Security");
        assert_eq!(ev.computer, "FS03.offsec.lan");
        assert_eq!(ev.process_id, Some(492));
        assert_eq!(ev.record_id, Some(469348));
        assert_eq!(ev.get("TargetUserName"), Some("a&b <c>"));
        assert_eq!(ev.int("LogonType"), Some(2));
        assert_eq!(ev.get("Empty"), Some(""));
        assert_eq!(ev.data[3], (String::new(), "unnamed".to_string()));
        assert_eq!(ev.get("X"), Some("<raw>"));
        assert_eq!(ev.keywords_bits(), Some(0x8020000000000000));
        assert!(ev.time_ns.is_some());
        assert!(
            ev.event_data_xml()
                .contains(r#"<Data Name="TargetUserName">a&amp;b &lt;c&gt;</Data>"#)
        );
    }

    #[test]
    fn reads_user_data() {
        let xml = r#"<Event><System><EventID>1102</EventID></System><UserData><LogFileCleared xmlns="x"><SubjectUserName>admmig</SubjectUserName></LogFileCleared></UserData></Event>"#;
        let ev = WinEvent::from_xml(xml).expect("parses");
        assert_eq!(ev.user_data_element, "LogFileCleared");
        assert_eq!(ev.get("SubjectUserName"), Some("admmig"));
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        for bad in [
            "",
            "<",
            "<Event",
            "<Event><System>",
            "</x>",
            "<Other/>",
            "<Event><![CDATA[",
            "<Event a=\"1></Event>",
            "<\u{e9}\u{e9}>",
        ] {
            assert!(WinEvent::from_xml(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ints_and_names() {
        assert_eq!(parse_int("0x3e7"), Some(999));
        assert_eq!(parse_int(" 12 "), Some(12));
        assert_eq!(parse_int("0xffffffffffffffff"), Some(-1));
        assert_eq!(parse_int("-"), None);
        assert_eq!(file_name(r"C:\Windows\System32\cmd.exe"), "cmd.exe");
        assert_eq!(file_name("System"), "System");
    }
}
