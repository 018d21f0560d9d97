//! Known table schemas, kept as data: one `Name:type` line per column in `schemas/*.schema`.

use crate::types::{ScalarType, field};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

/// (table name, schema text) of every known table.
const SCHEMA_TEXTS: &[(&str, &str)] = &[
    (
        "DeviceLogonEvents",
        include_str!("schemas/DeviceLogonEvents.schema"),
    ),
    (
        "DeviceProcessEvents",
        include_str!("schemas/DeviceProcessEvents.schema"),
    ),
    (
        "DeviceNetworkEvents",
        include_str!("schemas/DeviceNetworkEvents.schema"),
    ),
    (
        "SecurityEvent",
        include_str!("schemas/SecurityEvent.schema"),
    ),
    ("WindowsEvent", include_str!("schemas/WindowsEvent.schema")),
    ("Event", include_str!("schemas/Event.schema")),
    ("SigninLogs", include_str!("schemas/SigninLogs.schema")),
    ("AuditLogs", include_str!("schemas/AuditLogs.schema")),
    ("DeviceEvents", include_str!("schemas/DeviceEvents.schema")),
    (
        "DeviceFileEvents",
        include_str!("schemas/DeviceFileEvents.schema"),
    ),
    (
        "SecurityAlert",
        include_str!("schemas/SecurityAlert.schema"),
    ),
    (
        "OfficeActivity",
        include_str!("schemas/OfficeActivity.schema"),
    ),
    (
        "CloudAppEvents",
        include_str!("schemas/CloudAppEvents.schema"),
    ),
    (
        "CommonSecurityLog",
        include_str!("schemas/CommonSecurityLog.schema"),
    ),
    ("IdentityInfo", include_str!("schemas/IdentityInfo.schema")),
    (
        "ThreatIntelligenceIndicator",
        include_str!("schemas/ThreatIntelligenceIndicator.schema"),
    ),
    ("DeviceInfo", include_str!("schemas/DeviceInfo.schema")),
    (
        "AzureActivity",
        include_str!("schemas/AzureActivity.schema"),
    ),
    ("EmailEvents", include_str!("schemas/EmailEvents.schema")),
    (
        "AADNonInteractiveUserSignInLogs",
        include_str!("schemas/AADNonInteractiveUserSignInLogs.schema"),
    ),
    ("AlertInfo", include_str!("schemas/AlertInfo.schema")),
    (
        "AlertEvidence",
        include_str!("schemas/AlertEvidence.schema"),
    ),
    ("Syslog", include_str!("schemas/Syslog.schema")),
    ("DnsEvents", include_str!("schemas/DnsEvents.schema")),
    (
        "DeviceRegistryEvents",
        include_str!("schemas/DeviceRegistryEvents.schema"),
    ),
    (
        "DeviceImageLoadEvents",
        include_str!("schemas/DeviceImageLoadEvents.schema"),
    ),
    (
        "DeviceNetworkInfo",
        include_str!("schemas/DeviceNetworkInfo.schema"),
    ),
    (
        "IdentityLogonEvents",
        include_str!("schemas/IdentityLogonEvents.schema"),
    ),
    (
        "IdentityQueryEvents",
        include_str!("schemas/IdentityQueryEvents.schema"),
    ),
    (
        "IdentityDirectoryEvents",
        include_str!("schemas/IdentityDirectoryEvents.schema"),
    ),
    ("Heartbeat", include_str!("schemas/Heartbeat.schema")),
    (
        "SecurityIncident",
        include_str!("schemas/SecurityIncident.schema"),
    ),
    (
        "AzureDiagnostics",
        include_str!("schemas/AzureDiagnostics.schema"),
    ),
    ("W3CIISLog", include_str!("schemas/W3CIISLog.schema")),
    ("EmailUrlInfo", include_str!("schemas/EmailUrlInfo.schema")),
    (
        "EmailAttachmentInfo",
        include_str!("schemas/EmailAttachmentInfo.schema"),
    ),
    (
        "DeviceFileCertificateInfo",
        include_str!("schemas/DeviceFileCertificateInfo.schema"),
    ),
    (
        "UrlClickEvents",
        include_str!("schemas/UrlClickEvents.schema"),
    ),
    (
        "BehaviorAnalytics",
        include_str!("schemas/BehaviorAnalytics.schema"),
    ),
    (
        "ThreatIntelIndicators",
        include_str!("schemas/ThreatIntelIndicators.schema"),
    ),
];

/// Parses a schema text; `Err` names the first bad line.
pub fn parse_schema_text(text: &str) -> Result<Vec<(String, ScalarType)>, String> {
    let mut cols: Vec<(String, ScalarType)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (name, ty) = line
            .split_once(':')
            .ok_or_else(|| format!("line {}: expected `Name:type`", i + 1))?;
        let (name, ty) = (name.trim(), ty.trim());
        let ty = ScalarType::from_name(ty)
            .ok_or_else(|| format!("line {}: unknown type `{ty}`", i + 1))?;
        if name.is_empty() || cols.iter().any(|(n, _)| n == name) {
            return Err(format!(
                "line {}: empty or duplicate column `{name}`",
                i + 1
            ));
        }
        cols.push((name.to_string(), ty));
    }
    Ok(cols)
}

fn registry() -> &'static HashMap<&'static str, SchemaRef> {
    static REG: OnceLock<HashMap<&'static str, SchemaRef>> = OnceLock::new();
    REG.get_or_init(|| {
        SCHEMA_TEXTS
            .iter()
            .filter_map(|(name, text)| {
                // The texts are compiled in and checked by a unit test; a bad one is left out.
                let cols = parse_schema_text(text).ok()?;
                let fields: Vec<_> = cols.iter().map(|(n, t)| field(n, *t)).collect();
                Some((*name, Arc::new(Schema::new(fields))))
            })
            .collect()
    })
}

/// The documented schema of a known table (exact-case name).
pub fn known_schema(table: &str) -> Option<SchemaRef> {
    registry().get(table).cloned()
}

/// The column a file's value for `column` of known table `table` is taken from when the file
/// lacks `column` itself. Defender XDR tables as Sentinel stores them carry both `Timestamp`
/// (Advanced Hunting's name) and `TimeGenerated` (Sentinel's), the same event time; an export
/// from either product has only one, so each fills the other. Every other missing documented
/// column reads as empty.
pub fn time_alias(table: &str, column: &str) -> Option<&'static str> {
    let other = match column {
        "TimeGenerated" => "Timestamp",
        "Timestamp" => "TimeGenerated",
        _ => return None,
    };
    static BOTH: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let both = BOTH.get_or_init(|| {
        registry()
            .iter()
            .filter(|(_, s)| s.index_of("TimeGenerated").is_ok() && s.index_of("Timestamp").is_ok())
            .map(|(n, _)| *n)
            .collect()
    });
    both.contains(table).then_some(other)
}

/// Names of all known tables.
pub fn known_tables() -> Vec<&'static str> {
    SCHEMA_TEXTS.iter().map(|(n, _)| *n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_schema_texts_parse() {
        for (name, text) in SCHEMA_TEXTS {
            let cols = parse_schema_text(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!cols.is_empty());
            assert!(known_schema(name).is_some());
        }
    }

    #[test]
    fn device_logon_events_columns() {
        let s = known_schema("DeviceLogonEvents").expect("known");
        assert_eq!(s.fields().len(), 49);
        assert_eq!(s.field(0).name(), "Timestamp");
        assert_eq!(s.field(43).name(), "AdditionalFields");
        assert_eq!(s.field(47).name(), "InitiatingProcessRemoteSessionIP");
        assert_eq!(s.field(48).name(), "TimeGenerated");
        assert!(known_schema("devicelogonevents").is_none());
    }

    #[test]
    fn time_alias_only_for_tables_with_both_time_columns() {
        assert_eq!(
            time_alias("DeviceProcessEvents", "TimeGenerated"),
            Some("Timestamp")
        );
        assert_eq!(
            time_alias("EmailEvents", "Timestamp"),
            Some("TimeGenerated")
        );
        assert_eq!(time_alias("SecurityEvent", "TimeGenerated"), None);
        assert_eq!(time_alias("DeviceProcessEvents", "DeviceName"), None);
    }
}
