//! Deriving the rows of the hunting tables from a [`WinEvent`]: which events feed which table,
//! and where every column's value comes from (documented column by column in docs/tables.md).

use super::event::{WinEvent, file_name, parse_int};
use super::lookups::{
    failure_reason, integrity_level, ip_type, legacy_level, level_name, logon_type_label,
    logon_type_name, security_activity, token_elevation, well_known_sid,
};
use crate::types::ScalarType;
use crate::values::{Parsed, convert_json, convert_text};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// The tables Windows events feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WinTable {
    SecurityEvent,
    DeviceLogonEvents,
    DeviceProcessEvents,
    DeviceNetworkEvents,
    WindowsEvent,
    Event,
}

impl WinTable {
    pub const ALL: [WinTable; 6] = [
        WinTable::SecurityEvent,
        WinTable::DeviceLogonEvents,
        WinTable::DeviceProcessEvents,
        WinTable::DeviceNetworkEvents,
        WinTable::WindowsEvent,
        WinTable::Event,
    ];

    /// The table of an exact-case name.
    pub fn from_name(name: &str) -> Option<WinTable> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            WinTable::SecurityEvent => "SecurityEvent",
            WinTable::DeviceLogonEvents => "DeviceLogonEvents",
            WinTable::DeviceProcessEvents => "DeviceProcessEvents",
            WinTable::DeviceNetworkEvents => "DeviceNetworkEvents",
            WinTable::WindowsEvent => "WindowsEvent",
            WinTable::Event => "Event",
        }
    }

    /// Whether `ev` gives a row of this table.
    pub fn feeds(self, ev: &WinEvent) -> bool {
        let sentinel = ev.sentinel.as_ref().map(|(t, _)| t.as_str());
        let security = match sentinel {
            Some(t) => t == "SecurityEvent",
            None => ev.is_security_channel(),
        };
        let id = ev.event_id;
        match self {
            WinTable::SecurityEvent => security,
            WinTable::Event => match sentinel {
                Some(t) => t == "Event",
                None => !ev.is_security_channel(),
            },
            WinTable::WindowsEvent => true,
            WinTable::DeviceLogonEvents => {
                matches!(id, Some(4624) | Some(4625))
                    && (security
                        || ev
                            .provider
                            .eq_ignore_ascii_case("Microsoft-Windows-Security-Auditing"))
            }
            WinTable::DeviceProcessEvents => {
                (ev.is_sysmon() && id == Some(1)) || (security && id == Some(4688))
            }
            WinTable::DeviceNetworkEvents => ev.is_sysmon() && id == Some(3),
        }
    }
}

/// The columns to build (the projection), in output order, with a name index.
#[derive(Debug)]
pub struct Columns {
    cols: Vec<(String, ScalarType)>,
    index: HashMap<String, usize>,
}

impl Columns {
    pub fn new(cols: &[(String, ScalarType)]) -> Self {
        let mut index = HashMap::with_capacity(cols.len());
        for (i, (n, _)) in cols.iter().enumerate() {
            index.entry(n.clone()).or_insert(i);
        }
        Columns {
            cols: cols.to_vec(),
            index,
        }
    }

    pub fn len(&self) -> usize {
        self.cols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }
}

/// One row being filled: the first value set for a column wins, columns not in the projection
/// are ignored (and costly values are not computed: see [`Row::wants`]).
pub struct Row<'c> {
    cols: &'c Columns,
    cells: Vec<Option<Parsed<'static>>>,
}

impl<'c> Row<'c> {
    pub fn new(cols: &'c Columns) -> Self {
        Row {
            cols,
            cells: vec![None; cols.len()],
        }
    }

    /// Whether the column is wanted and not yet set.
    pub fn wants(&self, name: &str) -> bool {
        self.cols
            .index
            .get(name)
            .is_some_and(|i| self.cells.get(*i).is_some_and(Option::is_none))
    }

    fn put(&mut self, name: &str, v: Parsed<'static>) {
        if let Some(i) = self.cols.index.get(name).copied()
            && let Some(c) = self.cells.get_mut(i)
            && c.is_none()
        {
            *c = Some(v);
        }
    }

    /// A string value.
    pub fn s(&mut self, name: &str, v: &str) {
        if self.wants(name) {
            self.put(name, Parsed::Str(Cow::Owned(v.to_string())));
        }
    }

    /// A string value built only when wanted.
    pub fn s_with(&mut self, name: &str, f: impl FnOnce() -> String) {
        if self.wants(name) {
            self.put(name, Parsed::Str(Cow::Owned(f())));
        }
    }

    /// An integer value (any integer column type).
    pub fn i(&mut self, name: &str, v: Option<i64>) {
        if let Some(v) = v {
            self.put(name, Parsed::I64(v));
        }
    }

    /// A datetime (ns since the epoch).
    pub fn t(&mut self, name: &str, v: Option<i64>) {
        if let Some(v) = v {
            self.put(name, Parsed::Nanos(v));
        }
    }

    pub fn b(&mut self, name: &str, v: Option<bool>) {
        if let Some(v) = v {
            self.put(name, Parsed::Bool(v));
        }
    }

    /// A JSON value converted to the column's type (Sentinel export rows).
    fn json(&mut self, name: &str, v: &Value) {
        let Some(i) = self.cols.index.get(name).copied() else {
            return;
        };
        let Some((_, ty)) = self.cols.cols.get(i) else {
            return;
        };
        if let Ok(p) = convert_json(v, *ty) {
            let owned = match p {
                Parsed::Str(s) => Parsed::Str(Cow::Owned(s.into_owned())),
                Parsed::Null => return,
                Parsed::I64(x) => Parsed::I64(x),
                Parsed::I32(x) => Parsed::I32(x),
                Parsed::F64(x) => Parsed::F64(x),
                Parsed::Bool(x) => Parsed::Bool(x),
                Parsed::Nanos(x) => Parsed::Nanos(x),
            };
            self.put(name, owned);
        }
    }

    /// The cells in output order, each converted to its column's type. Missing values are
    /// `""` for strings (Kusto strings are never null) and null otherwise; values that do not
    /// convert are null.
    pub fn finish(self) -> Vec<Parsed<'static>> {
        self.cells
            .into_iter()
            .zip(&self.cols.cols)
            .map(|(c, (_, ty))| coerce(c, *ty))
            .collect()
    }
}

fn coerce(c: Option<Parsed<'static>>, ty: ScalarType) -> Parsed<'static> {
    let text_ty = matches!(ty, ScalarType::String | ScalarType::Guid);
    match (c, ty) {
        (None, _) | (Some(Parsed::Null), _) => {
            if text_ty {
                Parsed::Str(Cow::Borrowed(""))
            } else {
                Parsed::Null
            }
        }
        (Some(Parsed::Str(s)), ScalarType::String | ScalarType::Guid) => Parsed::Str(s),
        (Some(Parsed::Str(s)), ScalarType::Dynamic) => Parsed::Str(s),
        (Some(Parsed::Str(s)), ty) => match convert_text(&s, ty) {
            Ok(Parsed::Str(x)) => Parsed::Str(Cow::Owned(x.into_owned())),
            Ok(Parsed::I64(x)) => Parsed::I64(x),
            Ok(Parsed::I32(x)) => Parsed::I32(x),
            Ok(Parsed::F64(x)) => Parsed::F64(x),
            Ok(Parsed::Bool(x)) => Parsed::Bool(x),
            Ok(Parsed::Nanos(x)) => Parsed::Nanos(x),
            Ok(Parsed::Null) | Err(_) => {
                // Windows writes hex integers (`0x3e7`); fall back to them.
                match (ty, parse_int(&s)) {
                    (ScalarType::Long, Some(v)) => Parsed::I64(v),
                    (ScalarType::Int, Some(v)) => {
                        i32::try_from(v).map_or(Parsed::Null, Parsed::I32)
                    }
                    _ => Parsed::Null,
                }
            }
        },
        (Some(Parsed::I64(v)), ScalarType::Int) => {
            i32::try_from(v).map_or(Parsed::Null, Parsed::I32)
        }
        (Some(Parsed::I64(v)), ScalarType::Long) => Parsed::I64(v),
        (Some(Parsed::I64(v)), ScalarType::Real | ScalarType::Decimal) => Parsed::F64(v as f64),
        (Some(Parsed::I64(v)), ScalarType::String | ScalarType::Guid | ScalarType::Dynamic) => {
            Parsed::Str(Cow::Owned(v.to_string()))
        }
        (Some(Parsed::I32(v)), ScalarType::Long) => Parsed::I64(i64::from(v)),
        (Some(Parsed::I32(v)), ScalarType::Int) => Parsed::I32(v),
        (Some(Parsed::Nanos(v)), ScalarType::DateTime | ScalarType::TimeSpan) => Parsed::Nanos(v),
        (Some(Parsed::Bool(v)), ScalarType::Bool) => Parsed::Bool(v),
        (Some(Parsed::F64(v)), ScalarType::Real | ScalarType::Decimal) => Parsed::F64(v),
        (Some(_), _) if text_ty => Parsed::Str(Cow::Borrowed("")),
        (Some(_), _) => Parsed::Null,
    }
}

/// `DOMAIN\user`, or `user` alone when there is no domain.
fn account(domain: &str, user: &str) -> String {
    if domain.is_empty() {
        user.to_string()
    } else {
        format!("{domain}\\{user}")
    }
}

/// Splits `DOMAIN\user` (Sysmon `User`) into (domain, user).
fn split_account(s: &str) -> (&str, &str) {
    match s.split_once('\\') {
        Some((d, u)) => (d, u),
        None => ("", s),
    }
}

/// The value of `-` (Windows' "none") as empty.
fn dash(s: &str) -> &str {
    if s == "-" { "" } else { s }
}

/// Sysmon `Hashes` (`SHA1=…,MD5=…,SHA256=…,IMPHASH=…`): the named hash, lower case.
fn hash_of(hashes: &str, name: &str) -> String {
    hashes
        .split(',')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Sysmon's `UtcTime` (`2020-09-21 08:09:15.123`, UTC).
fn sysmon_time(s: &str) -> Option<i64> {
    crate::values::parse_datetime(s.trim())
}

/// Fills `row` with the values `ev` gives for `table`. The caller has checked
/// [`WinTable::feeds`].
pub fn fill(table: WinTable, ev: &WinEvent, row: &mut Row<'_>) {
    // A row exported from Sentinel keeps its own values; derived values fill the gaps.
    if let Some((t, cols)) = &ev.sentinel
        && t == table.name()
    {
        for (k, v) in cols {
            row.json(k, v);
        }
    }
    match table {
        WinTable::SecurityEvent => security_event(ev, row),
        WinTable::DeviceLogonEvents => device_logon(ev, row),
        WinTable::DeviceProcessEvents => device_process(ev, row),
        WinTable::DeviceNetworkEvents => device_network(ev, row),
        WinTable::WindowsEvent => windows_event(ev, row),
        WinTable::Event => event(ev, row),
    }
}

fn security_event(ev: &WinEvent, row: &mut Row<'_>) {
    row.t("TimeGenerated", ev.time_ns);
    row.s("Computer", &ev.computer);
    // Sentinel's Channel for these events is "Security" (the data also has "security").
    if ev.is_security_channel() {
        row.s("Channel", "Security");
    } else {
        row.s("Channel", &ev.channel);
    }
    row.i("EventID", ev.event_id);
    row.s_with("Activity", || match ev.event_id {
        Some(id) => match security_activity(id) {
            Some(d) => format!("{id} - {d}"),
            None => id.to_string(),
        },
        None => String::new(),
    });
    row.s("EventSourceName", &ev.provider);
    row.i("Task", ev.task);
    let (level, _) = legacy_level(ev.level, ev.keywords_bits());
    row.s("Level", &level.to_string());
    row.s("Type", "SecurityEvent");
    // Account: the target account when the event has one, else the subject.
    let (tu, td) = (ev.val("TargetUserName"), ev.val("TargetDomainName"));
    let (su, sd) = (ev.val("SubjectUserName"), ev.val("SubjectDomainName"));
    let acct = if !tu.is_empty() {
        Some((td, tu))
    } else if !su.is_empty() {
        Some((sd, su))
    } else {
        None
    };
    if let Some((d, u)) = acct {
        row.s_with("Account", || account(d, u));
        row.s(
            "AccountType",
            if u.ends_with('$') { "Machine" } else { "User" },
        );
    }
    if ev.get("SubjectUserName").is_some() {
        row.s_with("SubjectAccount", || {
            format!(
                "{}\\{}",
                ev.str("SubjectDomainName"),
                ev.str("SubjectUserName")
            )
        });
    }
    if ev.get("TargetUserName").is_some() {
        row.s_with("TargetAccount", || {
            format!(
                "{}\\{}",
                ev.str("TargetDomainName"),
                ev.str("TargetUserName")
            )
        });
    }
    if let Some(lt) = ev.int("LogonType") {
        row.i("LogonType", Some(lt));
        row.s_with("LogonTypeName", || logon_type_label(lt));
    }
    if let Some(p) = ev.get("ProcessName") {
        row.s("Process", if p == "-" { "-" } else { file_name(p) });
    }
    row.s_with("EventData", || ev.event_data_xml());
    // Every other column: the EventData field of the same name, as text.
    for (k, v) in &ev.data {
        if !k.is_empty() && row.wants(k) {
            row.s(k, v);
        }
    }
}

fn device_logon(ev: &WinEvent, row: &mut Row<'_>) {
    row.t("Timestamp", ev.time_ns);
    row.t("TimeGenerated", ev.time_ns);
    row.s("DeviceName", &ev.computer);
    row.s(
        "ActionType",
        if ev.event_id == Some(4625) {
            "LogonFailed"
        } else {
            "LogonSuccess"
        },
    );
    if let Some(lt) = ev.int("LogonType") {
        row.s_with("LogonType", || logon_type_name(lt).into_owned());
    }
    row.s("AccountDomain", ev.val("TargetDomainName"));
    row.s("AccountName", ev.val("TargetUserName"));
    row.s("AccountSid", ev.val("TargetUserSid"));
    row.s("Protocol", ev.val("AuthenticationPackageName"));
    if ev.event_id == Some(4625) {
        row.s_with("FailureReason", || {
            failure_reason(ev.str("Status"), ev.str("SubStatus"))
        });
    } else {
        row.i("LogonId", ev.int("TargetLogonId"));
    }
    row.s("RemoteDeviceName", ev.val("WorkstationName"));
    let ip = ev.val("IpAddress");
    row.s("RemoteIP", ip);
    row.s("RemoteIPType", ip_type(ip));
    row.i("RemotePort", ev.int("IpPort"));
    row.s(
        "InitiatingProcessAccountDomain",
        ev.val("SubjectDomainName"),
    );
    row.s("InitiatingProcessAccountName", ev.val("SubjectUserName"));
    row.s("InitiatingProcessAccountSid", ev.val("SubjectUserSid"));
    let proc_path = ev.val("ProcessName");
    row.s("InitiatingProcessFileName", file_name(proc_path));
    row.s("InitiatingProcessFolderPath", proc_path);
    row.i("InitiatingProcessId", ev.int("ProcessId"));
    row.i("ReportId", ev.record_id);
    row.s_with("AdditionalFields", || {
        additional(
            ev,
            &[
                "LogonProcessName",
                "LmPackageName",
                "ImpersonationLevel",
                "ElevatedToken",
                "VirtualAccount",
                "RestrictedAdminMode",
                "TargetLinkedLogonId",
                "TargetOutboundUserName",
                "TargetOutboundDomainName",
                "KeyLength",
                "LogonGuid",
                "Status",
                "SubStatus",
                "FailureReason",
            ],
        )
    });
}

/// `AdditionalFields`: the named EventData fields that are present, plus the event's identity.
fn additional(ev: &WinEvent, names: &[&str]) -> String {
    let mut m = Map::new();
    if let Some(id) = ev.event_id {
        m.insert("EventID".into(), Value::from(id));
    }
    if let Some(r) = ev.record_id {
        m.insert("EventRecordID".into(), Value::from(r));
    }
    if !ev.channel.is_empty() {
        m.insert("Channel".into(), Value::String(ev.channel.clone()));
    }
    for n in names {
        if let Some(v) = ev.get(n) {
            m.insert((*n).to_string(), Value::String(v.to_string()));
        }
    }
    Value::Object(m).to_string()
}

fn device_process(ev: &WinEvent, row: &mut Row<'_>) {
    row.t("Timestamp", ev.time_ns);
    row.t("TimeGenerated", ev.time_ns);
    row.s("DeviceName", &ev.computer);
    row.s("ActionType", "ProcessCreated");
    row.i("ReportId", ev.record_id);
    if ev.event_id == Some(1) {
        // Sysmon 1.
        let image = ev.str("Image");
        row.s("FileName", file_name(image));
        row.s("FolderPath", image);
        let hashes = ev.str("Hashes");
        for (col, h) in [("SHA1", "SHA1"), ("SHA256", "SHA256"), ("MD5", "MD5")] {
            row.s_with(col, || hash_of(hashes, h));
        }
        row.s("ProcessVersionInfoCompanyName", ev.str("Company"));
        row.s("ProcessVersionInfoProductName", ev.str("Product"));
        row.s("ProcessVersionInfoProductVersion", ev.str("FileVersion"));
        row.s(
            "ProcessVersionInfoOriginalFileName",
            ev.str("OriginalFileName"),
        );
        row.s("ProcessVersionInfoFileDescription", ev.str("Description"));
        row.i("ProcessId", ev.int("ProcessId"));
        row.s("ProcessCommandLine", ev.str("CommandLine"));
        row.s("ProcessIntegrityLevel", ev.str("IntegrityLevel"));
        row.t(
            "ProcessCreationTime",
            sysmon_time(ev.str("UtcTime")).or(ev.time_ns),
        );
        let (d, u) = split_account(ev.str("User"));
        row.s("AccountDomain", d);
        row.s("AccountName", u);
        row.i("LogonId", ev.int("LogonId"));
        let parent = ev.str("ParentImage");
        row.s("InitiatingProcessFileName", file_name(parent));
        row.s("InitiatingProcessFolderPath", parent);
        row.i("InitiatingProcessId", ev.int("ParentProcessId"));
        row.s("InitiatingProcessCommandLine", ev.str("ParentCommandLine"));
        let (pd, pu) = split_account(ev.str("ParentUser"));
        row.s("InitiatingProcessAccountDomain", pd);
        row.s("InitiatingProcessAccountName", pu);
        row.s_with("AdditionalFields", || {
            let mut extra = additional(
                ev,
                &[
                    "ProcessGuid",
                    "ParentProcessGuid",
                    "CurrentDirectory",
                    "TerminalSessionId",
                    "LogonGuid",
                    "RuleName",
                ],
            );
            let imphash = hash_of(hashes, "IMPHASH");
            if !imphash.is_empty()
                && let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&extra)
            {
                m.insert("IMPHASH".into(), Value::String(imphash));
                extra = Value::Object(m).to_string();
            }
            extra
        });
    } else {
        // Security 4688.
        let image = ev.str("NewProcessName");
        row.s("FileName", file_name(image));
        row.s("FolderPath", image);
        row.i("ProcessId", ev.int("NewProcessId"));
        row.s("ProcessCommandLine", ev.str("CommandLine"));
        row.s(
            "ProcessIntegrityLevel",
            integrity_level(ev.str("MandatoryLabel")),
        );
        row.s(
            "ProcessTokenElevation",
            token_elevation(ev.str("TokenElevationType")),
        );
        row.t("ProcessCreationTime", ev.time_ns);
        // The new process runs as the target account when 4688 names one (version 2), else as
        // the subject (the creator).
        let target_logon = ev.int("TargetLogonId").filter(|l| *l != 0);
        if target_logon.is_some() && !ev.val("TargetUserName").is_empty() {
            row.s("AccountDomain", ev.val("TargetDomainName"));
            row.s("AccountName", ev.val("TargetUserName"));
            row.s("AccountSid", ev.val("TargetUserSid"));
            row.i("LogonId", target_logon);
        } else {
            row.s("AccountDomain", ev.val("SubjectDomainName"));
            row.s("AccountName", ev.val("SubjectUserName"));
            row.s("AccountSid", ev.val("SubjectUserSid"));
            row.i("LogonId", ev.int("SubjectLogonId"));
        }
        row.s(
            "InitiatingProcessAccountDomain",
            ev.val("SubjectDomainName"),
        );
        row.s("InitiatingProcessAccountName", ev.val("SubjectUserName"));
        row.s("InitiatingProcessAccountSid", ev.val("SubjectUserSid"));
        row.i("InitiatingProcessLogonId", ev.int("SubjectLogonId"));
        row.i("InitiatingProcessId", ev.int("ProcessId"));
        let parent = ev.val("ParentProcessName");
        row.s("InitiatingProcessFileName", file_name(parent));
        row.s("InitiatingProcessFolderPath", parent);
        row.s_with("AdditionalFields", || {
            additional(ev, &["TokenElevationType", "MandatoryLabel"])
        });
    }
}

fn device_network(ev: &WinEvent, row: &mut Row<'_>) {
    row.t("Timestamp", ev.time_ns);
    row.t("TimeGenerated", ev.time_ns);
    row.s("DeviceName", &ev.computer);
    row.i("ReportId", ev.record_id);
    let initiated = ev.str("Initiated").eq_ignore_ascii_case("true");
    row.s(
        "ActionType",
        if initiated {
            "ConnectionSuccess"
        } else {
            "InboundConnectionAccepted"
        },
    );
    let (local, remote) = if initiated {
        ("Source", "Destination")
    } else {
        ("Destination", "Source")
    };
    let field = |side: &str, what: &str| ev.str(&format!("{side}{what}")).to_string();
    let (lip, rip) = (field(local, "Ip"), field(remote, "Ip"));
    row.s("LocalIP", &lip);
    row.s("LocalIPType", ip_type(&lip));
    row.i("LocalPort", parse_int(&field(local, "Port")));
    row.s("RemoteIP", &rip);
    row.s("RemoteIPType", ip_type(&rip));
    row.i("RemotePort", parse_int(&field(remote, "Port")));
    row.s("RemoteUrl", dash(&field(remote, "Hostname")));
    row.s_with("Protocol", || {
        let p = ev.str("Protocol");
        let mut c = p.chars();
        match c.next() {
            Some(f) => f
                .to_uppercase()
                .chain(c.flat_map(char::to_lowercase))
                .collect(),
            None => String::new(),
        }
    });
    let image = ev.str("Image");
    row.s("InitiatingProcessFileName", file_name(image));
    row.s("InitiatingProcessFolderPath", image);
    row.i("InitiatingProcessId", ev.int("ProcessId"));
    let (d, u) = split_account(ev.str("User"));
    row.s("InitiatingProcessAccountDomain", d);
    row.s("InitiatingProcessAccountName", u);
    row.s_with("AdditionalFields", || {
        additional(
            ev,
            &[
                "ProcessGuid",
                "SourceHostname",
                "DestinationHostname",
                "SourcePortName",
                "DestinationPortName",
                "RuleName",
            ],
        )
    });
}

fn windows_event(ev: &WinEvent, row: &mut Row<'_>) {
    row.t("TimeGenerated", ev.time_ns);
    row.s("Computer", &ev.computer);
    row.s("Channel", &ev.channel);
    row.s("Provider", &ev.provider);
    row.i("EventID", ev.event_id);
    row.i("EventLevel", ev.level);
    row.s(
        "EventLevelName",
        if ev.level_name.is_empty() {
            level_name(ev.level)
        } else {
            &ev.level_name
        },
    );
    row.i("Task", ev.task);
    row.s_with("Opcode", || match (&ev.opcode_name, ev.opcode) {
        (n, _) if !n.is_empty() => n.clone(),
        (_, Some(o)) => o.to_string(),
        _ => String::new(),
    });
    row.s("Keywords", &ev.keywords);
    row.s_with("EventRecordId", || {
        ev.record_id.map(|r| r.to_string()).unwrap_or_default()
    });
    row.i("Version", ev.version);
    row.i("SystemProcessId", ev.process_id);
    row.i("SystemThreadId", ev.thread_id);
    row.s("SystemUserId", &ev.user_sid);
    row.s_with("Correlation", || {
        if ev.activity_id.is_empty() && ev.related_activity_id.is_empty() {
            String::new()
        } else {
            let mut m = Map::new();
            if !ev.activity_id.is_empty() {
                m.insert("ActivityID".into(), Value::String(ev.activity_id.clone()));
            }
            if !ev.related_activity_id.is_empty() {
                m.insert(
                    "RelatedActivityID".into(),
                    Value::String(ev.related_activity_id.clone()),
                );
            }
            Value::Object(m).to_string()
        }
    });
    row.s_with("EventData", || ev.event_data_json());
    row.s("Type", "WindowsEvent");
}

fn event(ev: &WinEvent, row: &mut Row<'_>) {
    row.t("TimeGenerated", ev.time_ns);
    row.s("Computer", &ev.computer);
    row.s("EventLog", &ev.channel);
    row.s("Source", &ev.provider);
    row.i("EventID", ev.event_id);
    let (level, name) = legacy_level(ev.level, ev.keywords_bits());
    row.i("EventLevel", Some(level));
    row.s("EventLevelName", name);
    row.i("EventCategory", ev.task);
    row.s_with("UserName", || {
        if !ev.user_name.is_empty() {
            ev.user_name.clone()
        } else {
            well_known_sid(&ev.user_sid)
                .map(str::to_string)
                .unwrap_or_else(|| ev.user_sid.clone())
        }
    });
    row.s("RenderedDescription", &ev.message);
    row.s_with("ParameterXml", || {
        let mut s = String::new();
        for (_, v) in &ev.data {
            s.push_str("<Param>");
            s.push_str(&super::event::xml_escape(v));
            s.push_str("</Param>");
        }
        s
    });
    row.s_with("EventData", || {
        format!(
            r#"<DataItem type="System.XmlData" time="{}">{}</DataItem>"#,
            ev.time_ns
                .map(crate::windows::format_time)
                .unwrap_or_default(),
            ev.event_data_xml()
        )
    });
    row.s("Type", "Event");
}
