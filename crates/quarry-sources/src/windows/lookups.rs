//! Fixed translations from Windows event values to the names the hunting tables use. Each
//! mapping says where it comes from; `(inferred)` marks our own decisions (docs/tables.md).

use std::borrow::Cow;
use std::net::IpAddr;

/// DeviceLogonEvents `LogonType` for a Windows logon type number. 2–13: the Windows
/// `SECURITY_LOGON_TYPE` names, which are the names Defender uses (../shared/schemas
/// DeviceLogonEvents.md §1.2). 0 (only the SYSTEM account at boot): `System` (inferred, as that
/// document's table). 1 and 6 (`Proxy`, unused since NT) and other numbers: the number as text,
/// so nothing is lost and queries can still tell them apart (inferred).
pub fn logon_type_name(n: i64) -> Cow<'static, str> {
    Cow::Borrowed(match n {
        0 => "System",
        2 => "Interactive",
        3 => "Network",
        4 => "Batch",
        5 => "Service",
        6 => "Proxy",
        7 => "Unlock",
        8 => "NetworkCleartext",
        9 => "NewCredentials",
        10 => "RemoteInteractive",
        11 => "CachedInteractive",
        12 => "CachedRemoteInteractive",
        13 => "CachedUnlock",
        n => return Cow::Owned(n.to_string()),
    })
}

/// `SecurityEvent.LogonTypeName` as Sentinel writes it (`3 - Network`, observed in the OTRF
/// Sentinel export); 0 reads `0 - System` (inferred).
pub fn logon_type_label(n: i64) -> String {
    format!("{n} - {}", logon_type_name(n))
}

/// DeviceLogonEvents `FailureReason` for a 4625 Status/SubStatus (hex text). The SubStatus
/// is used when set (not 0x0), else the Status. `InvalidUserNameOrPassword` is observed in a
/// real Defender row; the other names are inferred from the NTSTATUS meanings (docs/tables.md).
/// Unknown codes are kept as their lower-case hex text.
pub fn failure_reason(status: &str, sub_status: &str) -> String {
    let code = |s: &str| {
        let t = s.trim().to_ascii_lowercase();
        let t = t.strip_prefix("0x").map(str::to_string).unwrap_or(t);
        u32::from_str_radix(&t, 16).ok()
    };
    let chosen = match (code(sub_status), code(status)) {
        (Some(s), _) if s != 0 => Some(s),
        (_, Some(s)) if s != 0 => Some(s),
        _ => None,
    };
    let Some(c) = chosen else {
        return String::new();
    };
    match c {
        0xC000_0064 | 0xC000_006A | 0xC000_006D => "InvalidUserNameOrPassword",
        0xC000_006E => "AccountRestriction",
        0xC000_006F => "InvalidLogonHours",
        0xC000_0070 => "InvalidWorkstation",
        0xC000_0071 => "PasswordExpired",
        0xC000_0072 => "AccountDisabled",
        0xC000_0193 => "AccountExpired",
        0xC000_0234 => "AccountLocked",
        0xC000_015B => "LogonTypeNotGranted",
        0xC000_0224 => "PasswordMustChange",
        0xC000_0133 => "ClockSkew",
        0xC000_005E => "NoLogonServers",
        0xC000_018C => "TrustFailure",
        0xC000_0192 => "NetlogonNotStarted",
        0xC000_0413 => "AuthenticationFirewallFailed",
        other => return format!("0x{other:x}"),
    }
    .to_string()
}

/// Defender's IP address class (`Public`, `Private`, `Loopback`, …; docs of RemoteIPType).
/// Empty for no address (`-`, empty). The classification rules are inferred (RFC 1918 private,
/// RFC 6890 reserved ranges, IPv4-mapped IPv6 as `FourToSixMapping`, 2001::/32 `Teredo`).
pub fn ip_type(ip: &str) -> &'static str {
    let t = ip.trim();
    if t.is_empty() || t == "-" {
        return "";
    }
    let t = t.split('%').next().unwrap_or(t);
    let Ok(addr) = t.parse::<IpAddr>() else {
        return "";
    };
    match addr {
        IpAddr::V4(v4) => {
            if v4.is_loopback() {
                "Loopback"
            } else if v4.is_private() {
                "Private"
            } else if v4.is_broadcast() {
                "Broadcast"
            } else if v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.octets()[0] >= 240
                || v4.octets()[0] == 0
                || (v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]))
            {
                "Reserved"
            } else {
                "Public"
            }
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            if v6.is_loopback() {
                "Loopback"
            } else if v6.to_ipv4_mapped().is_some() {
                "FourToSixMapping"
            } else if seg[0] == 0x2001 && seg[1] == 0 {
                "Teredo"
            } else if (seg[0] & 0xfe00) == 0xfc00 {
                "Private"
            } else if (seg[0] & 0xffc0) == 0xfe80 || v6.is_unspecified() || v6.is_multicast() {
                "Reserved"
            } else {
                "Public"
            }
        }
    }
}

/// The legacy event type that Sentinel's `Event.EventLevel` and `SecurityEvent.Level` carry
/// (observed: Sysmon Information → 4, audit success → 8 in the OTRF export): audit success 8,
/// audit failure 16 (from the Keywords bits), else Windows level 1–2 → 1 (Error), 3 → 2
/// (Warning), anything else → 4 (Information). Inferred from those observations.
pub fn legacy_level(level: Option<i64>, keywords: Option<u64>) -> (i64, &'static str) {
    use super::event::{KEYWORD_AUDIT_FAILURE, KEYWORD_AUDIT_SUCCESS};
    if let Some(k) = keywords {
        if k & KEYWORD_AUDIT_FAILURE != 0 {
            return (16, "Audit Failure");
        }
        if k & KEYWORD_AUDIT_SUCCESS != 0 {
            return (8, "Audit Success");
        }
    }
    match level {
        Some(1) | Some(2) => (1, "Error"),
        Some(3) => (2, "Warning"),
        _ => (4, "Information"),
    }
}

/// The name of a Windows event level number (winmeta.xml names).
pub fn level_name(level: Option<i64>) -> &'static str {
    match level {
        Some(1) => "Critical",
        Some(2) => "Error",
        Some(3) => "Warning",
        Some(0) | Some(4) => "Information",
        Some(5) => "Verbose",
        _ => "",
    }
}

/// Names of well-known SIDs, for `Event.UserName` when the source did not resolve the SID.
pub fn well_known_sid(sid: &str) -> Option<&'static str> {
    Some(match sid {
        "S-1-5-18" => "NT AUTHORITY\\SYSTEM",
        "S-1-5-19" => "NT AUTHORITY\\LOCAL SERVICE",
        "S-1-5-20" => "NT AUTHORITY\\NETWORK SERVICE",
        "S-1-5-7" => "NT AUTHORITY\\ANONYMOUS LOGON",
        _ => return None,
    })
}

/// `TokenElevationType` (`%%1936`–`%%1938`) as Defender's `ProcessTokenElevation` names.
pub fn token_elevation(v: &str) -> &'static str {
    match v.trim() {
        "%%1936" => "TokenElevationTypeDefault",
        "%%1937" => "TokenElevationTypeFull",
        "%%1938" => "TokenElevationTypeLimited",
        _ => "",
    }
}

/// A mandatory label SID (4688 `MandatoryLabel`) as an integrity level name.
pub fn integrity_level(label: &str) -> &'static str {
    match label.trim() {
        "S-1-16-0" => "Untrusted",
        "S-1-16-4096" => "Low",
        "S-1-16-8192" => "Medium",
        "S-1-16-8448" => "MediumPlus",
        "S-1-16-12288" => "High",
        "S-1-16-16384" => "System",
        "S-1-16-20480" => "ProtectedProcess",
        _ => "",
    }
}

/// The description Sentinel puts after the event id in `SecurityEvent.Activity`
/// (`4624 - An account was successfully logged on.`): the event titles of the Windows security
/// auditing documentation, for the commonly collected events.
pub fn security_activity(id: i64) -> Option<&'static str> {
    Some(match id {
        1100 => "The event logging service has shut down.",
        1102 => "The audit log was cleared.",
        4608 => "Windows is starting up.",
        4616 => "The system time was changed.",
        4624 => "An account was successfully logged on.",
        4625 => "An account failed to log on.",
        4627 => "Group membership information.",
        4634 => "An account was logged off.",
        4647 => "User initiated logoff.",
        4648 => "A logon was attempted using explicit credentials.",
        4656 => "A handle to an object was requested.",
        4657 => "A registry value was modified.",
        4658 => "The handle to an object was closed.",
        4660 => "An object was deleted.",
        4661 => "A handle to an object was requested.",
        4662 => "An operation was performed on an object.",
        4663 => "An attempt was made to access an object.",
        4670 => "Permissions on an object were changed.",
        4672 => "Special privileges assigned to new logon.",
        4673 => "A privileged service was called.",
        4674 => "An operation was attempted on a privileged object.",
        4688 => "A new process has been created.",
        4689 => "A process has exited.",
        4697 => "A service was installed in the system.",
        4698 => "A scheduled task was created.",
        4699 => "A scheduled task was deleted.",
        4700 => "A scheduled task was enabled.",
        4701 => "A scheduled task was disabled.",
        4702 => "A scheduled task was updated.",
        4703 => "A token right was adjusted.",
        4719 => "System audit policy was changed.",
        4720 => "A user account was created.",
        4722 => "A user account was enabled.",
        4723 => "An attempt was made to change an account's password.",
        4724 => "An attempt was made to reset an account's password.",
        4725 => "A user account was disabled.",
        4726 => "A user account was deleted.",
        4728 => "A member was added to a security-enabled global group.",
        4732 => "A member was added to a security-enabled local group.",
        4738 => "A user account was changed.",
        4740 => "A user account was locked out.",
        4756 => "A member was added to a security-enabled universal group.",
        4767 => "A user account was unlocked.",
        4768 => "A Kerberos authentication ticket (TGT) was requested.",
        4769 => "A Kerberos service ticket was requested.",
        4770 => "A Kerberos service ticket was renewed.",
        4771 => "Kerberos pre-authentication failed.",
        4776 => "The computer attempted to validate the credentials for an account.",
        4778 => "A session was reconnected to a Window Station.",
        4779 => "A session was disconnected from a Window Station.",
        4781 => "The name of an account was changed.",
        4798 => "A user's local group membership was enumerated.",
        4799 => "A security-enabled local group membership was enumerated.",
        4800 => "The workstation was locked.",
        4801 => "The workstation was unlocked.",
        4964 => "Special groups have been assigned to a new logon.",
        5140 => "A network share object was accessed.",
        5145 => {
            "A network share object was checked to see whether client can be granted desired access."
        }
        5152 => "The Windows Filtering Platform has blocked a packet.",
        5154 => {
            "The Windows Filtering Platform has permitted an application or service to listen on a port for incoming connections."
        }
        5156 => "The Windows Filtering Platform has permitted a connection.",
        5158 => "The Windows Filtering Platform has permitted a bind to a local port.",
        5379 => "Credential Manager credentials were read.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(logon_type_name(10), "RemoteInteractive");
        assert_eq!(logon_type_name(0), "System");
        assert_eq!(logon_type_name(42), "42");
        assert_eq!(logon_type_label(3), "3 - Network");
        assert_eq!(
            failure_reason("0xc000006d", "0xc000006a"),
            "InvalidUserNameOrPassword"
        );
        assert_eq!(
            failure_reason("0xC000006E", "0xC0000072"),
            "AccountDisabled"
        );
        assert_eq!(failure_reason("0xc0000234", "0x0"), "AccountLocked");
        assert_eq!(failure_reason("0xc0001234", "0x0"), "0xc0001234");
        assert_eq!(failure_reason("", ""), "");
        assert_eq!(ip_type("127.0.0.1"), "Loopback");
        assert_eq!(ip_type("::1"), "Loopback");
        assert_eq!(ip_type("10.1.2.3"), "Private");
        assert_eq!(ip_type("1.2.3.4"), "Public");
        assert_eq!(ip_type("fe80::1%12"), "Reserved");
        assert_eq!(ip_type("::ffff:10.0.0.1"), "FourToSixMapping");
        assert_eq!(ip_type("-"), "");
        assert_eq!(
            legacy_level(Some(0), Some(0x8020000000000000)),
            (8, "Audit Success")
        );
        assert_eq!(
            legacy_level(Some(4), Some(0x8000000000000000)),
            (4, "Information")
        );
    }
}
