//! JSON renderings of Windows events → [`WinEvent`]: the OTRF/Mordor flattened layout (NXLog
//! `im_msvistalog` through Logstash), Winlogbeat 6.x (`event_data`) and 7+ (`winlog`), rows
//! exported from Sentinel (`SecurityEvent`, `Event`, `WindowsEvent`), and `evtx_dump` JSON.

use super::event::WinEvent;
use crate::values::parse_datetime;
use serde_json::{Map, Value};

/// The JSON layout of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Mordor/OTRF: `EventID`, `Channel`, `Hostname`, `SourceName` and every EventData field at
    /// the top level.
    Flattened,
    /// Winlogbeat 6.x: `event_id`, `log_name`, `computer_name`, `event_data{}`; or 7+: `winlog{}`.
    Winlogbeat,
    /// A Log Analytics / Sentinel row: `TimeGenerated`, `Computer`, `EventID`, `Type`.
    Sentinel,
    /// `evtx_dump` JSON: `{"Event":{"System":{…},"EventData":{…}}}`.
    EvtxJson,
}

/// The layout of a JSON object, if it is a Windows event.
pub fn classify(row: &Map<String, Value>) -> Option<Layout> {
    if let Some(Value::Object(e)) = row.get("Event")
        && e.contains_key("System")
    {
        return Some(Layout::EvtxJson);
    }
    let has = |k: &str| row.contains_key(k);
    if has("TimeGenerated") && has("Computer") && has("EventID") {
        let ok_type = match row.get("Type") {
            None => true,
            Some(Value::String(t)) => {
                matches!(t.as_str(), "SecurityEvent" | "Event" | "WindowsEvent")
            }
            _ => false,
        };
        if ok_type {
            return Some(Layout::Sentinel);
        }
    }
    if has("event_id") && (has("log_name") || has("computer_name") || has("event_data")) {
        return Some(Layout::Winlogbeat);
    }
    if let Some(Value::Object(w)) = row.get("winlog")
        && w.contains_key("event_id")
    {
        return Some(Layout::Winlogbeat);
    }
    if has("EventID")
        && (has("Channel") || has("SourceName"))
        && (has("Hostname") || has("Computer"))
    {
        return Some(Layout::Flattened);
    }
    None
}

/// The text of a JSON value as an event field: strings as is, numbers and booleans printed,
/// null empty, arrays/objects as compact JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|u| u as i64)),
        Value::String(s) => super::event::parse_int(s),
        _ => None,
    }
}

fn string(v: Option<&Value>) -> String {
    v.map(text).unwrap_or_default()
}

/// Keywords as hex text (NXLog writes them as a signed 64-bit number).
fn keywords(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => format!("0x{:x}", i as u64),
            None => n.as_u64().map(|u| format!("0x{u:x}")).unwrap_or_default(),
        },
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// Converts one JSON object of the given layout.
pub fn from_json(row: Map<String, Value>, layout: Layout) -> WinEvent {
    match layout {
        Layout::Flattened => flattened(row),
        Layout::Winlogbeat => winlogbeat(row),
        Layout::Sentinel => sentinel(row),
        Layout::EvtxJson => evtx_json(row),
    }
}

/// NXLog / Logstash keys that describe the event rather than being EventData fields.
const NXLOG_KEYS: &[&str] = &[
    "@timestamp",
    "@version",
    "Category",
    "Channel",
    "EventID",
    "EventReceivedTime",
    "EventTime",
    "EventType",
    "ExecutionProcessID",
    "Hostname",
    "Keywords",
    "Level",
    "Message",
    "Opcode",
    "OpcodeValue",
    "ProviderGuid",
    "RecordNumber",
    "EventRecordID",
    "Severity",
    "SeverityValue",
    "SourceModuleName",
    "SourceModuleType",
    "SourceName",
    "Task",
    "ThreadID",
    "TimeCreated",
    "Version",
    "host",
    "port",
    "tags",
    "ActivityID",
    "RelatedActivityID",
    "UserID",
    "AccountName",
    "Domain",
    "AccountType",
    "ERROR_EVT_UNRESOLVED",
    "EventIdx",
    "EventCountTotal",
    "EventTypeOrignal",
];

/// The event time of a flattened row. `TimeCreated` when present (UTC). Otherwise NXLog's
/// `EventTime` is the event's time in the collecting host's local time zone, without an
/// offset; `@timestamp` is when Logstash received it (UTC) and `EventReceivedTime` the same
/// moment in local time, so their difference (rounded to 15 minutes) is the zone offset, and
/// `EventTime` minus that offset is the event time in UTC. Failing that, `@timestamp`.
fn flattened_time(row: &Map<String, Value>) -> Option<i64> {
    if let Some(t) = row
        .get("TimeCreated")
        .and_then(Value::as_str)
        .and_then(parse_datetime)
    {
        return Some(t);
    }
    let at = row
        .get("@timestamp")
        .and_then(Value::as_str)
        .and_then(parse_datetime);
    let local = |k: &str| row.get(k).and_then(Value::as_str).and_then(parse_datetime);
    if let (Some(at), Some(received), Some(event)) =
        (at, local("EventReceivedTime"), local("EventTime"))
    {
        const QUARTER: i64 = 15 * 60 * 1_000_000_000;
        let offset = ((received - at) as f64 / QUARTER as f64).round() as i64 * QUARTER;
        return Some(event - offset);
    }
    at
}

fn flattened(row: Map<String, Value>) -> WinEvent {
    let mut ev = WinEvent {
        time_ns: flattened_time(&row),
        provider: string(row.get("SourceName")),
        provider_guid: string(row.get("ProviderGuid")),
        event_id: int(row.get("EventID")),
        version: int(row.get("Version")),
        level: int(row.get("Level")),
        task: int(row.get("Task")),
        opcode: int(row.get("OpcodeValue")),
        keywords: keywords(row.get("Keywords")),
        record_id: int(row.get("RecordNumber")).or_else(|| int(row.get("EventRecordID"))),
        activity_id: string(row.get("ActivityID")),
        related_activity_id: string(row.get("RelatedActivityID")),
        process_id: int(row.get("ExecutionProcessID")),
        thread_id: int(row.get("ThreadID")),
        channel: string(row.get("Channel")),
        computer: string(row.get("Hostname").or_else(|| row.get("Computer"))),
        user_sid: string(row.get("UserID")),
        message: string(row.get("Message")),
        task_name: string(row.get("Category")),
        opcode_name: string(row.get("Opcode")),
        ..WinEvent::default()
    };
    let (dom, name) = (string(row.get("Domain")), string(row.get("AccountName")));
    if !name.is_empty() {
        ev.user_name = if dom.is_empty() {
            name
        } else {
            format!("{dom}\\{name}")
        };
    }
    ev.data = row
        .into_iter()
        .filter(|(k, _)| !NXLOG_KEYS.contains(&k.as_str()))
        .map(|(k, v)| {
            let t = text(&v);
            (k, t)
        })
        .collect();
    ev
}

fn winlogbeat(mut row: Map<String, Value>) -> WinEvent {
    let time_ns = row
        .get("@timestamp")
        .and_then(Value::as_str)
        .and_then(parse_datetime);
    let message = string(row.get("message"));
    // Winlogbeat 7+ keeps the event under `winlog`.
    let mut w = match row.remove("winlog") {
        Some(Value::Object(w)) => w,
        _ => row,
    };
    let kw = match w.get("keywords") {
        Some(Value::Array(a)) => {
            let names: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
            // Keyword names → the audit bits (inferred; the names are all Winlogbeat keeps).
            if names
                .iter()
                .any(|n| n.eq_ignore_ascii_case("Audit Failure"))
            {
                "0x8010000000000000".to_string()
            } else if names
                .iter()
                .any(|n| n.eq_ignore_ascii_case("Audit Success"))
            {
                "0x8020000000000000".to_string()
            } else {
                String::new()
            }
        }
        other => keywords(other),
    };
    let level_name = match w.get("level") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let task_name = match w.get("task") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let opcode_name = match w.get("opcode") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let (process_id, thread_id) = match w.get("process") {
        Some(Value::Object(p)) => (
            int(p.get("pid")),
            match p.get("thread") {
                Some(Value::Object(t)) => int(t.get("id")),
                _ => None,
            },
        ),
        _ => (int(w.get("process_id")), int(w.get("thread_id"))),
    };
    let (user_sid, user_name) = match w.get("user") {
        Some(Value::Object(u)) => {
            let (d, n) = (string(u.get("domain")), string(u.get("name")));
            (
                string(u.get("identifier")),
                if d.is_empty() { n } else { format!("{d}\\{n}") },
            )
        }
        _ => (String::new(), String::new()),
    };
    let mut ev = WinEvent {
        time_ns,
        provider: string(w.get("source_name").or_else(|| w.get("provider_name"))),
        provider_guid: string(w.get("provider_guid")),
        event_id: int(w.get("event_id")),
        version: int(w.get("version")),
        level: None,
        task: None,
        opcode: None,
        keywords: kw,
        record_id: int(w.get("record_number").or_else(|| w.get("record_id"))),
        activity_id: string(w.get("activity_id")),
        related_activity_id: string(w.get("related_activity_id")),
        process_id,
        thread_id,
        channel: string(w.get("log_name").or_else(|| w.get("channel"))),
        computer: string(w.get("computer_name")),
        user_sid,
        user_name,
        message,
        level_name,
        task_name,
        opcode_name,
        ..WinEvent::default()
    };
    for key in ["event_data", "user_data"] {
        if let Some(Value::Object(d)) = w.remove(key) {
            ev.data.extend(d.into_iter().map(|(k, v)| {
                let t = text(&v);
                (k, t)
            }));
        }
    }
    ev
}

/// Sentinel columns that are not EventData fields.
const SENTINEL_KEYS: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "TimeGenerated",
    "Computer",
    "MG",
    "ManagementGroupName",
    "Type",
    "_ResourceId",
    "_SubscriptionId",
    "_BilledSize",
    "_IsBillable",
    "EventSourceName",
    "Channel",
    "Task",
    "Level",
    "Activity",
    "SourceComputerId",
    "EventOriginId",
    "TimeCollected",
    "Account",
    "AccountType",
    "SubjectAccount",
    "TargetAccount",
    "LogonTypeName",
    "Process",
    "EventData",
    "EventID",
    "EventLog",
    "Source",
    "EventLevel",
    "EventLevelName",
    "EventCategory",
    "UserName",
    "RenderedDescription",
    "ParameterXml",
    "Message",
    "Role",
    "AzureDeploymentID",
    "InstanceId",
    "Provider",
    "Keywords",
    "EventRecordId",
    "SystemProcessId",
    "SystemThreadId",
    "SystemUserId",
    "Correlation",
    "Opcode",
    "Version",
    "RawEventData",
    "timestamp",
    "HostCustomEntity",
    "AccountCustomEntity",
];

/// Suffixes an exporter adds to columns whose type varied (`ProcessId_string`).
const TYPE_SUFFIXES: &[&str] = &[
    "_string",
    "_dynamic",
    "_long",
    "_int",
    "_real",
    "_bool",
    "_datetime",
    "_guid",
];

fn sentinel(row: Map<String, Value>) -> WinEvent {
    // Undo the exporter's type suffixes where the plain column is absent.
    let mut cols = Map::new();
    for (k, v) in row {
        let base = TYPE_SUFFIXES
            .iter()
            .find_map(|s| k.strip_suffix(s))
            .filter(|b| !b.is_empty());
        match base {
            Some(b) if !cols.contains_key(b) => {
                cols.insert(b.to_string(), v);
            }
            Some(_) => {}
            None => {
                cols.insert(k, v);
            }
        }
    }
    let table = match cols.get("Type") {
        Some(Value::String(t)) => t.clone(),
        // A row without Type in a SecurityEvent export (observed): a SecurityEvent row.
        _ => "SecurityEvent".to_string(),
    };
    let get = |k: &str| cols.get(k);
    let mut ev = WinEvent {
        time_ns: get("TimeGenerated")
            .and_then(Value::as_str)
            .and_then(parse_datetime),
        computer: string(get("Computer")),
        event_id: int(get("EventID")),
        channel: string(get("Channel").or_else(|| get("EventLog"))),
        provider: string(
            get("EventSourceName")
                .or_else(|| get("Source"))
                .or_else(|| get("Provider")),
        ),
        task: int(get("Task")).or_else(|| int(get("EventCategory"))),
        keywords: keywords(get("Keywords")),
        record_id: int(get("EventRecordId")),
        version: int(get("Version")),
        process_id: int(get("SystemProcessId")),
        thread_id: int(get("SystemThreadId")),
        user_sid: string(get("SystemUserId")),
        user_name: string(get("UserName")),
        message: string(get("RenderedDescription")),
        level: if table == "WindowsEvent" {
            int(get("EventLevel"))
        } else {
            None
        },
        ..WinEvent::default()
    };
    if table == "SecurityEvent" && ev.channel.is_empty() {
        ev.channel = "Security".to_string();
    }
    if let Some(Value::Object(d)) = get("EventData") {
        ev.data.extend(d.iter().map(|(k, v)| (k.clone(), text(v))));
    }
    ev.data.extend(
        cols.iter()
            .filter(|(k, _)| !SENTINEL_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), text(v))),
    );
    ev.sentinel = Some((table, cols));
    ev
}

fn attr<'a>(v: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    match v? {
        Value::Object(o) => match o.get("#attributes") {
            Some(Value::Object(a)) => a.get(name),
            _ => o.get(name),
        },
        _ => None,
    }
}

/// An element's value: the value itself, or its `#text` when it also has attributes.
fn inner(v: Option<&Value>) -> Option<&Value> {
    match v? {
        Value::Object(o) => o.get("#text"),
        other => Some(other),
    }
}

fn evtx_json(mut row: Map<String, Value>) -> WinEvent {
    let Some(Value::Object(mut e)) = row.remove("Event") else {
        return WinEvent::default();
    };
    let sys = match e.remove("System") {
        Some(Value::Object(s)) => s,
        _ => Map::new(),
    };
    let g = |k: &str| sys.get(k);
    let mut ev = WinEvent {
        time_ns: attr(g("TimeCreated"), "SystemTime")
            .and_then(Value::as_str)
            .and_then(parse_datetime),
        provider: string(attr(g("Provider"), "Name")),
        provider_guid: string(attr(g("Provider"), "Guid")),
        event_id: int(inner(g("EventID"))),
        version: int(inner(g("Version"))),
        level: int(inner(g("Level"))),
        task: int(inner(g("Task"))),
        opcode: int(inner(g("Opcode"))),
        keywords: string(inner(g("Keywords"))),
        record_id: int(inner(g("EventRecordID"))),
        activity_id: string(attr(g("Correlation"), "ActivityID")),
        related_activity_id: string(attr(g("Correlation"), "RelatedActivityID")),
        process_id: int(attr(g("Execution"), "ProcessID")),
        thread_id: int(attr(g("Execution"), "ThreadID")),
        channel: string(inner(g("Channel"))),
        computer: string(inner(g("Computer"))),
        user_sid: string(attr(g("Security"), "UserID")),
        ..WinEvent::default()
    };
    match e.remove("EventData") {
        Some(Value::Object(d)) => {
            for (k, v) in d {
                if k == "#attributes" {
                    continue;
                }
                ev.data.push((k, text(&v)));
            }
        }
        Some(v @ Value::Array(_)) | Some(v @ Value::String(_)) => {
            ev.data.push((String::new(), text(&v)));
        }
        _ => {}
    }
    if let Some(Value::Object(u)) = e.remove("UserData")
        && let Some((el, Value::Object(fields))) = u.into_iter().next()
    {
        ev.user_data_element = el;
        for (k, v) in fields {
            if k != "#attributes" {
                ev.data.push((k, text(&v)));
            }
        }
    }
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> Map<String, Value> {
        match serde_json::from_str(s) {
            Ok(Value::Object(m)) => m,
            _ => panic!("not an object: {s}"),
        }
    }

    #[test]
    fn flattened_nxlog_time_uses_the_zone_offset() {
        let r = obj(
            r#"{"EventID":4624,"Channel":"security","Hostname":"H","SourceName":"Microsoft-Windows-Security-Auditing","@timestamp":"2020-08-06T05:20:14.617Z","EventTime":"2020-08-06 01:20:11","EventReceivedTime":"2020-08-06 01:20:14","LogonType":"10","TargetUserName":"svc_x","Keywords":-9214364837600034816}"#,
        );
        assert_eq!(classify(&r), Some(Layout::Flattened));
        let ev = from_json(r, Layout::Flattened);
        assert_eq!(ev.time_ns, parse_datetime("2020-08-06T05:20:11Z"));
        assert_eq!(ev.keywords, "0x8020000000000000");
        assert_eq!(ev.get("LogonType"), Some("10"));
        assert!(ev.get("Hostname").is_none());
        assert!(ev.is_security_channel());
    }

    #[test]
    fn winlogbeat_and_sentinel() {
        let r = obj(
            r#"{"@timestamp":"2019-05-18T20:43:27.288Z","event_id":4624,"log_name":"Security","computer_name":"HFDC01","source_name":"Microsoft-Windows-Security-Auditing","keywords":["Audit Success"],"event_data":{"LogonType":"3","TargetUserName":"HFDC01$"}}"#,
        );
        assert_eq!(classify(&r), Some(Layout::Winlogbeat));
        let ev = from_json(r, Layout::Winlogbeat);
        assert_eq!(ev.event_id, Some(4624));
        assert_eq!(ev.computer, "HFDC01");
        assert_eq!(ev.get("TargetUserName"), Some("HFDC01$"));
        let r = obj(
            r#"{"TimeGenerated":"2021-08-02T13:06:38.33Z","Computer":"DC01","EventID":4624,"Type":"SecurityEvent","LogonType":3,"ProcessId_string":"0x0","Account":"X\\y"}"#,
        );
        assert_eq!(classify(&r), Some(Layout::Sentinel));
        let ev = from_json(r, Layout::Sentinel);
        assert_eq!(ev.get("LogonType"), Some("3"));
        assert_eq!(ev.get("ProcessId"), Some("0x0"));
        assert!(ev.get("Account").is_none());
        assert_eq!(
            ev.sentinel.as_ref().map(|s| s.0.as_str()),
            Some("SecurityEvent")
        );
        assert_eq!(
            classify(&obj(r#"{"Timestamp":"x","ActionType":"LogonSuccess"}"#)),
            None
        );
    }
}
