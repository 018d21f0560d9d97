//! Parsers returning dynamic values or parts of text: `parse_xml`, `parse_url`,
//! `parse_urlquery`, `parse_path`, `parse_command_line`, `parse_version`, `parse_csv`,
//! `extractjson` / `extract_json`.

use super::fnargs::{
    batch_len, follow, json_result, parse_json_path, str_at, string_result, strs, tostrs,
};
use super::registry::{Simple, ret};
use datafusion::arrow::array::{Array, ArrayRef, Float64Array};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use serde_json::{Map, Value};
use std::sync::Arc;

pub const FUNCTIONS: &[Simple] = &[
    Simple {
        name: "parse_xml",
        args: (1, 1),
        ret: ret::dynamic,
        kernel: parse_xml,
    },
    Simple {
        name: "parse_url",
        args: (1, 1),
        ret: ret::dynamic,
        kernel: parse_url,
    },
    Simple {
        name: "parseurl",
        args: (1, 1),
        ret: ret::dynamic,
        kernel: parse_url,
    },
    Simple {
        name: "parse_urlquery",
        args: (1, 1),
        ret: ret::dynamic,
        kernel: parse_urlquery,
    },
    Simple {
        name: "parseurlquery",
        args: (1, 1),
        ret: ret::dynamic,
        kernel: parse_urlquery,
    },
    Simple {
        name: "parse_path",
        args: (1, 1),
        ret: ret::dynamic,
        kernel: parse_path,
    },
    Simple {
        name: "parse_command_line",
        args: (2, 2),
        ret: ret::dynamic,
        kernel: parse_command_line,
    },
    Simple {
        name: "parse_version",
        args: (1, 1),
        ret: ret::real,
        kernel: parse_version,
    },
    Simple {
        name: "parse_csv",
        args: (1, 1),
        ret: ret::dynamic,
        kernel: parse_csv,
    },
    Simple {
        name: "extractjson",
        args: (2, 3),
        ret: ret::string,
        kernel: extract_json,
    },
    Simple {
        name: "extract_json",
        args: (2, 3),
        ret: ret::string,
        kernel: extract_json,
    },
];

// ---------------------------------------------------------------------------------------------
// parse_xml
// ---------------------------------------------------------------------------------------------

/// Longest input `parse_xml` accepts (Kusto: 1 MB; longer gives null).
const MAX_XML: usize = 1 << 20;

/// One element being built: attributes, then child entries in first-seen order.
struct Elem {
    name: String,
    attrs: Vec<(String, String)>,
    /// (key, values): children grouped by name, `#text` for text nodes.
    children: Vec<(String, Vec<Value>)>,
    text: String,
}

impl Elem {
    fn add(&mut self, key: &str, v: Value) {
        match self.children.iter_mut().find(|(k, _)| k == key) {
            Some((_, vs)) => vs.push(v),
            None => self.children.push((key.to_string(), vec![v])),
        }
    }

    /// Ends a run of text: whitespace-only text is dropped, other text is trimmed.
    fn flush_text(&mut self) {
        let t = std::mem::take(&mut self.text);
        let t = t.trim();
        if !t.is_empty() {
            self.add("#text", Value::String(t.to_string()));
        }
    }

    /// Kusto's XML → JSON mapping: `<e/>` → null, `<e>text</e>` → "text", otherwise an object
    /// of `@attr` values, child elements (repeated names → arrays) and `#text`.
    fn finish(mut self) -> Value {
        self.flush_text();
        if self.attrs.is_empty() {
            match self.children.as_slice() {
                [] => return Value::Null,
                [(k, vs)] if k == "#text" && vs.len() == 1 => {
                    return vs.first().cloned().unwrap_or(Value::Null);
                }
                _ => {}
            }
        }
        let mut m = Map::new();
        for (k, v) in self.attrs {
            m.insert(format!("@{k}"), Value::String(v));
        }
        for (k, mut vs) in self.children {
            let v = if vs.len() == 1 {
                vs.pop().unwrap_or(Value::Null)
            } else {
                Value::Array(vs)
            };
            m.insert(k, v);
        }
        Value::Object(m)
    }
}

/// XML text → its JSON form (`{"root": ...}`); None when the XML is not well formed.
pub fn xml_to_json(xml: &str) -> Option<Value> {
    use quick_xml::events::Event;
    if xml.len() > MAX_XML {
        return None;
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Elem> = Vec::new();
    let mut root: Option<Value> = None;
    let open = |e: &quick_xml::events::BytesStart<'_>| -> Option<Elem> {
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.ok()?;
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()?;
            attrs.push((a.key.as_ref().to_string(), v.into_owned()));
        }
        Some(Elem {
            name: e.name().as_ref().to_string(),
            attrs,
            children: Vec::new(),
            text: String::new(),
        })
    };
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                if root.is_some() {
                    return None;
                }
                if let Some(p) = stack.last_mut() {
                    p.flush_text();
                }
                stack.push(open(&e)?);
            }
            Event::Empty(e) => {
                let el = open(&e)?;
                let name = el.name.clone();
                let v = el.finish();
                match stack.last_mut() {
                    Some(p) => {
                        p.flush_text();
                        p.add(&name, v);
                    }
                    None if root.is_none() => {
                        let mut m = Map::new();
                        m.insert(name, v);
                        root = Some(Value::Object(m));
                    }
                    None => return None,
                }
            }
            Event::End(_) => {
                let el = stack.pop()?;
                let name = el.name.clone();
                let v = el.finish();
                match stack.last_mut() {
                    Some(p) => p.add(&name, v),
                    None => {
                        let mut m = Map::new();
                        m.insert(name, v);
                        root = Some(Value::Object(m));
                    }
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                match stack.last_mut() {
                    Some(p) => p.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return None,
                }
            }
            Event::CData(c) => {
                if let Some(p) = stack.last_mut() {
                    p.text.push_str(&c.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().ok()? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.xml10_content();
                        quick_xml::escape::resolve_predefined_entity(&name)?.to_string()
                    }
                };
                if let Some(p) = stack.last_mut() {
                    p.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            // Declarations, comments, processing instructions and doctypes are skipped.
            _ => {}
        }
    }
    if !stack.is_empty() {
        return None;
    }
    root
}

/// `parse_xml(xml)`: the XML as a dynamic value (see [`xml_to_json`]); null when invalid.
pub fn parse_xml(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    Ok(json_result(
        (0..a.len()).map(|i| xml_to_json(str_at(&a, i))),
    ))
}

// ---------------------------------------------------------------------------------------------
// URLs and paths
// ---------------------------------------------------------------------------------------------

/// A query string (`k1=v1&k2=v2`, leading `?` optional) as a bag of decoded values.
fn query_params(q: &str) -> Map<String, Value> {
    let mut m = Map::new();
    for pair in q.trim_start_matches('?').split('&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec = |s: &str| super::encoding::decode_url(s).unwrap_or_else(|| s.to_string());
        m.insert(dec(k), Value::String(dec(v)));
    }
    m
}

/// Kusto's `parse_url` parts of an absolute URL (all "" when there is no scheme).
pub fn url_parts(url: &str) -> Value {
    let mut scheme = "";
    let (mut host, mut port, mut path, mut user, mut pass) = ("", "", "", "", "");
    let mut query = Map::new();
    let mut fragment = "";
    if let Some((s, rest)) = url.split_once("://")
        && !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        scheme = s;
        let (rest, frag) = rest.split_once('#').unwrap_or((rest, ""));
        fragment = frag;
        let (rest, q) = rest.split_once('?').unwrap_or((rest, ""));
        query = query_params(q);
        let (authority, p) = match rest.find('/') {
            Some(k) => rest.split_at(k),
            None => (rest, ""),
        };
        path = p;
        let hostport = match authority.rsplit_once('@') {
            Some((ui, hp)) => {
                let (u, pw) = ui.split_once(':').unwrap_or((ui, ""));
                user = u;
                pass = pw;
                hp
            }
            None => authority,
        };
        // `[v6]:port`, `host:port` or `host`.
        let (h, pt) = if hostport.starts_with('[') {
            match hostport.find(']') {
                Some(k) => {
                    let (h, r) = hostport.split_at(k + 1);
                    (h, r.strip_prefix(':').unwrap_or(""))
                }
                None => (hostport, ""),
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, p),
                _ => (hostport, ""),
            }
        };
        host = h;
        port = pt;
    }
    let mut m = Map::new();
    let s = |x: &str| Value::String(x.to_string());
    m.insert("Scheme".into(), s(scheme));
    m.insert("Host".into(), s(host));
    m.insert("Port".into(), s(port));
    m.insert("Path".into(), s(path));
    m.insert("Username".into(), s(user));
    m.insert("Password".into(), s(pass));
    m.insert("Query Parameters".into(), Value::Object(query));
    m.insert("Fragment".into(), s(fragment));
    Value::Object(m)
}

/// `parse_url(url)`: `{"Scheme","Host","Port","Path","Username","Password",
/// "Query Parameters":{...},"Fragment"}`.
pub fn parse_url(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    Ok(json_result(
        (0..a.len()).map(|i| Some(url_parts(str_at(&a, i)))),
    ))
}

/// `parse_urlquery(query)`: `{"Query Parameters":{"k1":"v1",...}}`.
pub fn parse_urlquery(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    Ok(json_result((0..a.len()).map(|i| {
        let mut m = Map::new();
        m.insert(
            "Query Parameters".into(),
            Value::Object(query_params(str_at(&a, i))),
        );
        Some(Value::Object(m))
    })))
}

/// The parts of a file path, as `parse_path` returns them.
pub fn path_parts(p: &str) -> Value {
    let (scheme, rest) = match p.split_once("://") {
        Some((s, r)) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()) => (s, r),
        _ => ("", p),
    };
    let is_sep = |c: char| c == '/' || c == '\\';
    let (dir, last) = match rest.rfind(is_sep) {
        Some(k) => (&rest[..k], &rest[k + 1..]),
        None => ("", rest),
    };
    // A drive letter's colon is not a stream separator.
    let (file, stream) = match last.find(':') {
        Some(k) if !(dir.is_empty() && k == 1) => (&last[..k], &last[k + 1..]),
        _ => (last, ""),
    };
    let root = {
        let b = rest.as_bytes();
        if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            &rest[..2]
        } else {
            ""
        }
    };
    let dir_name = dir.rsplit(is_sep).next().unwrap_or("");
    let dir_name = if dir_name == root { "" } else { dir_name };
    let ext = match file.rfind('.') {
        Some(k) => &file[k + 1..],
        None => "",
    };
    let mut m = Map::new();
    let s = |x: &str| Value::String(x.to_string());
    m.insert("Scheme".into(), s(scheme));
    m.insert("RootPath".into(), s(root));
    m.insert("DirectoryPath".into(), s(dir));
    m.insert("DirectoryName".into(), s(dir_name));
    m.insert("Filename".into(), s(file));
    m.insert("Extension".into(), s(ext));
    m.insert("AlternateDataStreamName".into(), s(stream));
    Value::Object(m)
}

/// `parse_path(path)`: `{"Scheme","RootPath","DirectoryPath","DirectoryName","Filename",
/// "Extension","AlternateDataStreamName"}`.
pub fn parse_path(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    Ok(json_result(
        (0..a.len()).map(|i| Some(path_parts(str_at(&a, i)))),
    ))
}

// ---------------------------------------------------------------------------------------------
// Command lines, versions, CSV, JSON paths
// ---------------------------------------------------------------------------------------------

/// Splits a Windows command line the way `CommandLineToArgvW` does.
pub fn windows_argv(cmd: &str) -> Vec<String> {
    let chars: Vec<char> = cmd.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    let n = chars.len();
    let ws = |c: char| c == ' ' || c == '\t' || c == '\n' || c == '\r';
    while i < n && ws(chars[i]) {
        i += 1;
    }
    if i >= n {
        return args;
    }
    // The program name: quotes group, backslashes are literal.
    let mut prog = String::new();
    if chars[i] == '"' {
        i += 1;
        while i < n && chars[i] != '"' {
            prog.push(chars[i]);
            i += 1;
        }
        i += 1;
    } else {
        while i < n && !ws(chars[i]) {
            prog.push(chars[i]);
            i += 1;
        }
    }
    args.push(prog);
    loop {
        while i < n && ws(chars[i]) {
            i += 1;
        }
        if i >= n {
            break;
        }
        let mut arg = String::new();
        let mut quoted = false;
        while i < n && (quoted || !ws(chars[i])) {
            let c = chars[i];
            if c == '\\' {
                let start = i;
                while i < n && chars[i] == '\\' {
                    i += 1;
                }
                let count = i - start;
                if i < n && chars[i] == '"' {
                    arg.extend(std::iter::repeat_n('\\', count / 2));
                    if count % 2 == 1 {
                        arg.push('"');
                        i += 1;
                    }
                } else {
                    arg.extend(std::iter::repeat_n('\\', count));
                }
                continue;
            }
            if c == '"' {
                if quoted && i + 1 < n && chars[i + 1] == '"' {
                    arg.push('"');
                    i += 2;
                    continue;
                }
                quoted = !quoted;
                i += 1;
                continue;
            }
            arg.push(c);
            i += 1;
        }
        args.push(arg);
    }
    args
}

/// `parse_command_line(command_line, parser_type)`: the arguments as a dynamic array; only the
/// "windows" parser exists (another parser name gives null).
pub fn parse_command_line(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let cmd = tostrs(args, 0, n)?;
    let kind = strs(args, 1, n)?;
    Ok(json_result((0..n).map(|i| {
        if !str_at(&kind, i).eq_ignore_ascii_case("windows") {
            return None;
        }
        Some(Value::Array(
            windows_argv(str_at(&cmd, i))
                .into_iter()
                .map(Value::String)
                .collect(),
        ))
    })))
}

/// A version string of 1–4 dot-separated numbers (up to 8 digits each) as one number:
/// `a.b.c.d` → a·10²⁴ + b·10¹⁶ + c·10⁸ + d. Kusto returns a decimal; this engine holds
/// decimals as reals, so only about 16 significant digits survive.
pub fn version_value(v: &str) -> Option<f64> {
    let parts: Vec<&str> = v.trim().split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut total = 0f64;
    for (k, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 8 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let x: f64 = p.parse().ok()?;
        let exp = 8 * (3 - i32::try_from(k).ok()?);
        total += x * 10f64.powi(exp);
    }
    Some(total)
}

/// `parse_version(version)`: see [`version_value`]; null when not a version.
pub fn parse_version(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    let out: Float64Array = (0..a.len()).map(|i| version_value(str_at(&a, i))).collect();
    Ok(Arc::new(out))
}

/// The fields of the first CSV record (RFC 4180 quoting).
pub fn csv_fields(s: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut cur));
                at_start = true;
            }
            '\n' | '\r' => break,
            c => {
                cur.push(c);
                at_start = false;
            }
        }
    }
    fields.push(cur);
    fields
}

/// `parse_csv(csv_text)`: the fields of the first record as an array of strings.
pub fn parse_csv(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let a = tostrs(args, 0, rows)?;
    Ok(json_result((0..a.len()).map(|i| {
        Some(Value::Array(
            csv_fields(str_at(&a, i))
                .into_iter()
                .map(Value::String)
                .collect(),
        ))
    })))
}

/// `extractjson(jsonPath, dataSource [, type])` / `extract_json`: the element at the path, as
/// a string (JSON text for non-strings); "" when absent or not JSON.
pub fn extract_json(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let paths = strs(args, 0, n)?;
    let data = tostrs(args, 1, n)?;
    Ok(string_result((0..n).map(|i| {
        let steps = parse_json_path(str_at(&paths, i))?;
        let v: Value = serde_json::from_str(str_at(&data, i)).ok()?;
        match follow(&v, &steps)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(super::dynamic::json_text(other)),
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;
    use datafusion::common::ScalarValue;

    fn s(v: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(v.into())))
    }
    type K = fn(&[ColumnarValue], usize) -> Result<ArrayRef>;
    fn text(f: K, args: &[ColumnarValue]) -> String {
        let out = f(args, 1).unwrap();
        let a = out.as_string::<i32>();
        if a.is_null(0) {
            "null".into()
        } else {
            a.value(0).to_string()
        }
    }
    fn xml(x: &str) -> String {
        text(parse_xml, &[s(x)])
    }

    #[test]
    fn xml_mapping_table() {
        // The documented XML → JSON mapping, row by row.
        assert_eq!(xml("<e/>"), r#"{"e":null}"#);
        assert_eq!(xml("<e>text</e>"), r#"{"e":"text"}"#);
        assert_eq!(xml(r#"<e name="value" />"#), r#"{"e":{"@name":"value"}}"#);
        assert_eq!(
            xml(r#"<e name="value">text</e>"#),
            r##"{"e":{"@name":"value","#text":"text"}}"##
        );
        assert_eq!(
            xml("<e> <a>text</a> <b>text</b> </e>"),
            r#"{"e":{"a":"text","b":"text"}}"#
        );
        assert_eq!(
            xml("<e> <a>text</a> <a>text</a> </e>"),
            r#"{"e":{"a":["text","text"]}}"#
        );
        assert_eq!(
            xml("<e> text <a>text</a> </e>"),
            r##"{"e":{"#text":"text","a":"text"}}"##
        );
    }

    #[test]
    fn xml_documented_example_and_edge_cases() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<duration>
    <value>118.0</value>
    <count>5.0</count>
    <min>100.0</min>
</duration>"#;
        assert_eq!(
            xml(doc),
            r#"{"duration":{"value":"118.0","count":"5.0","min":"100.0"}}"#
        );
        assert_eq!(xml("<a>x &amp; y &#65;</a>"), r#"{"a":"x & y A"}"#);
        assert_eq!(xml("<a><![CDATA[<b>]]></a>"), r#"{"a":"<b>"}"#);
        assert_eq!(xml("<a><!-- c --><b/></a>"), r#"{"a":{"b":null}}"#);
        assert_eq!(xml("<a><b></a>"), "null");
        assert_eq!(xml("not xml"), "null");
        assert_eq!(xml("<a/><b/>"), "null");
        assert_eq!(xml(""), "null");
    }

    #[test]
    fn xml_security_event_data() {
        let ev = r#"<EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><Data Name="SubjectUserSid">S-1-5-18</Data><Data Name="SubjectUserName">HOST$</Data><Data Name="LogonType">5</Data><Data Name="Empty" /></EventData>"#;
        let v: Value = serde_json::from_str(&xml(ev)).unwrap();
        let data = &v["EventData"]["Data"];
        assert_eq!(
            v["EventData"]["@xmlns"],
            "http://schemas.microsoft.com/win/2004/08/events/event"
        );
        assert_eq!(data[0]["@Name"], "SubjectUserSid");
        assert_eq!(data[0]["#text"], "S-1-5-18");
        assert_eq!(data[2]["#text"], "5");
        assert_eq!(data[3], serde_json::json!({"@Name": "Empty"}));
    }

    #[test]
    fn urls() {
        let u = text(
            parse_url,
            &[s(
                "scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment",
            )],
        );
        assert_eq!(
            u,
            r#"{"Scheme":"scheme","Host":"host","Port":"1234","Path":"/this/is/a/path","Username":"username","Password":"password","Query Parameters":{"k1":"v1","k2":"v2"},"Fragment":"fragment"}"#
        );
        let v: Value =
            serde_json::from_str(&text(parse_url, &[s("https://[::1]:8080/a%20b?q=a%20b+c")]))
                .unwrap();
        assert_eq!(v["Host"], "[::1]");
        assert_eq!(v["Port"], "8080");
        assert_eq!(v["Query Parameters"]["q"], "a b c");
        let v: Value = serde_json::from_str(&text(parse_url, &[s("not a url")])).unwrap();
        assert_eq!(v["Scheme"], "");
        assert_eq!(
            text(parse_urlquery, &[s("k1=v1&k2=v2&k3=v3")]),
            r#"{"Query Parameters":{"k1":"v1","k2":"v2","k3":"v3"}}"#
        );
    }

    #[test]
    fn paths() {
        let check = |p: &str, want: &str| {
            let got: Value = serde_json::from_str(&text(parse_path, &[s(p)])).unwrap();
            let want: Value = serde_json::from_str(want).unwrap();
            assert_eq!(got, want, "{p}");
        };
        check(
            r"C:\temp\file.txt",
            r#"{"Scheme":"","RootPath":"C:","DirectoryPath":"C:\\temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}"#,
        );
        check(
            r"temp\file.txt",
            r#"{"Scheme":"","RootPath":"","DirectoryPath":"temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}"#,
        );
        check(
            "file://C:/temp/file.txt:some.exe",
            r#"{"Scheme":"file","RootPath":"C:","DirectoryPath":"C:/temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":"some.exe"}"#,
        );
        check(
            r"\\shared\users\temp\file.txt.gz",
            r#"{"Scheme":"","RootPath":"","DirectoryPath":"\\\\shared\\users\\temp","DirectoryName":"temp","Filename":"file.txt.gz","Extension":"gz","AlternateDataStreamName":""}"#,
        );
        check(
            "/usr/lib/temp/file.txt",
            r#"{"Scheme":"","RootPath":"","DirectoryPath":"/usr/lib/temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}"#,
        );
    }

    #[test]
    fn command_lines() {
        assert_eq!(
            text(
                parse_command_line,
                &[s("echo \"hello world!\""), s("windows")]
            ),
            r#"["echo","hello world!"]"#
        );
        assert_eq!(
            windows_argv(r#""C:\Program Files\x.exe" -a "b c" d\\"e f" g\"h"#),
            vec![r"C:\Program Files\x.exe", "-a", "b c", r"d\e f", "g\"h"]
        );
        assert_eq!(windows_argv("   "), Vec::<String>::new());
        assert_eq!(text(parse_command_line, &[s("a b"), s("linux")]), "null");
    }

    #[test]
    fn versions() {
        for (v, want) in [
            ("0.0.0.5", 5.0),
            ("0.0.7.0", 7e8),
            ("0.0.3", 3e8),
            ("0.2", 2e16),
            ("0.1.2.0", 1.00000002e16),
            ("1.2.3.4", 1.000_000_020_000_000_3e24),
            ("1", 1e24),
        ] {
            let got = version_value(v).unwrap();
            assert!((got - want).abs() <= want * 1e-15, "{v}: {got} vs {want}");
        }
        assert_eq!(version_value("1.2.3.4.5"), None);
        assert_eq!(version_value("a.b"), None);
        assert_eq!(version_value("123456789"), None);
        assert_eq!(version_value(""), None);
    }

    #[test]
    fn csv() {
        assert_eq!(
            text(
                parse_csv,
                &[s(
                    "aa,\"b,b,b\",cc,\"Escaping quotes: \"\"Title\"\"\",\"line1\nline2\""
                )]
            ),
            r#"["aa","b,b,b","cc","Escaping quotes: \"Title\"","line1\nline2"]"#
        );
        assert_eq!(
            text(parse_csv, &[s("record1,a,b,c\nrecord2,x,y,z")]),
            r#"["record1","a","b","c"]"#
        );
    }

    #[test]
    fn json_paths() {
        let j = || s(r#"{"name": "John", "age": 30, "city": "New York", "a": {"b": [1, 2]}}"#);
        assert_eq!(text(extract_json, &[s("$.name"), j()]), "John");
        assert_eq!(text(extract_json, &[s("$.age"), j()]), "30");
        assert_eq!(text(extract_json, &[s("$.a.b[1]"), j()]), "2");
        assert_eq!(text(extract_json, &[s("$['a']"), j()]), r#"{"b":[1,2]}"#);
        assert_eq!(text(extract_json, &[s("$.missing"), j()]), "");
        assert_eq!(text(extract_json, &[s("$.name"), s("not json")]), "");
    }
}
