//! What the linter knows about tables: documented columns (from `quarry-sources`' known
//! schemas), the values some string columns take, and which columns hold identities.

/// Columns the Microsoft Sentinel / Log Analytics copy of a Defender table adds
/// (`TimeGenerated`, `TenantId`, ...): valid KQL in Sentinel, so not reported as unknown.
const SENTINEL_COPY_COLUMNS: &[&str] = &[
    "TimeGenerated",
    "TenantId",
    "SourceSystem",
    "Type",
    "MachineGroup",
    "_ResourceId",
    "_SubscriptionId",
];

/// The documented columns of a known table, `None` for tables Quarry has no schema for.
pub fn table_columns(table: &str) -> Option<Vec<String>> {
    let schema = quarry_sources::schemas::known_schema(table)?;
    let mut cols: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    // Defender tables (they have Advanced Hunting's `Timestamp`); their schemas carry
    // Sentinel's TimeGenerated already, the rest of Sentinel's columns are added here.
    if cols.iter().any(|c| c == "Timestamp") {
        for c in SENTINEL_COPY_COLUMNS {
            if !cols.iter().any(|x| x == c) {
                cols.push((*c).to_string());
            }
        }
    }
    Some(cols)
}

/// Documented values of string columns (`shared/schemas/DeviceLogonEvents.md` §1.1, §1.2 and
/// the RemoteIPType list; SecurityEvent's AccountType).
const KNOWN_VALUES: &[(&str, &str, &[&str])] = &[
    (
        "DeviceLogonEvents",
        "ActionType",
        &["LogonSuccess", "LogonFailed", "LogonAttempted"],
    ),
    (
        "DeviceLogonEvents",
        "LogonType",
        &[
            "Interactive",
            "Network",
            "Batch",
            "Service",
            "Unlock",
            "NetworkCleartext",
            "NewCredentials",
            "RemoteInteractive",
            "CachedInteractive",
            "CachedRemoteInteractive",
            "CachedUnlock",
            "Local",
            "Unknown",
        ],
    ),
    (
        "DeviceLogonEvents",
        "RemoteIPType",
        &[
            "Public",
            "Private",
            "Reserved",
            "Loopback",
            "Teredo",
            "FourToSixMapping",
            "Broadcast",
        ],
    ),
    ("SecurityEvent", "AccountType", &["User", "Machine"]),
];

/// Windows logon type numbers → DeviceLogonEvents names, for "`10` is `RemoteInteractive`".
pub const LOGON_TYPE_NUMBERS: &[(&str, &str)] = &[
    ("2", "Interactive"),
    ("3", "Network"),
    ("4", "Batch"),
    ("5", "Service"),
    ("7", "Unlock"),
    ("8", "NetworkCleartext"),
    ("9", "NewCredentials"),
    ("10", "RemoteInteractive"),
    ("11", "CachedInteractive"),
    ("12", "CachedRemoteInteractive"),
    ("13", "CachedUnlock"),
];

/// The documented values of `table.column`, if it has a closed list.
pub fn known_values(table: &str, column: &str) -> Option<&'static [&'static str]> {
    KNOWN_VALUES
        .iter()
        .find(|(t, c, _)| *t == table && *c == column)
        .map(|(_, _, v)| *v)
}

/// Other columns of `table` that document `value` (exact case).
pub fn columns_with_value(table: &str, value: &str) -> Vec<&'static str> {
    KNOWN_VALUES
        .iter()
        .filter(|(t, _, vals)| *t == table && vals.contains(&value))
        .map(|(_, c, _)| *c)
        .collect()
}

/// Columns holding account or host names: Windows compares these case-insensitively, so a
/// case-sensitive match in a hunt usually misses look-alikes (`SVC_backup`).
const IDENTITY_COLUMNS: &[&str] = &[
    "AccountName",
    "AccountDomain",
    "AccountUpn",
    "AccountDisplayName",
    "InitiatingProcessAccountName",
    "InitiatingProcessAccountDomain",
    "InitiatingProcessAccountUpn",
    "TargetUserName",
    "TargetDomainName",
    "TargetAccount",
    "TargetOutboundUserName",
    "TargetOutboundDomainName",
    "SubjectUserName",
    "SubjectDomainName",
    "SubjectAccount",
    "Account",
    "UserPrincipalName",
    "UserName",
    "DeviceName",
    "RemoteDeviceName",
    "Computer",
    "WorkstationName",
    "Workstation",
];

pub fn is_identity_column(name: &str) -> bool {
    IDENTITY_COLUMNS.contains(&name)
}

/// Levenshtein distance on chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `name`: equal ignoring case, spaces, `_` and `-` first, then the
/// smallest edit distance within a third of the name's length (at least 2).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let n = norm(name);
    if let Some(c) = candidates.iter().find(|c| norm(c) == n) {
        return Some(c);
    }
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (distance(&n, &norm(c)), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
