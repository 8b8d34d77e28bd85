/// Something a source could not read fully. `error` means the facts are incomplete in a way that
/// can hide a violation (a corrupt dpkg status); `limited` means visibility was narrowed for an
/// expected reason (another user's processes when not running as root).
public struct FactIssue: Sendable, Codable, Hashable {
    public enum Level: String, Sendable, Codable { case error, limited }

    public let source: FactSource
    public let level: Level
    public let message: Localized

    public init(_ source: FactSource, _ level: Level, _ message: Localized) {
        self.source = source
        self.level = level
        self.message = message
    }

    static func unreadable(_ source: FactSource, _ error: HostReadError) -> FactIssue {
        FactIssue(source, .error, Localized(ja: error.message(in: .ja), en: error.message(in: .en)))
    }
}

/// The families of host facts, one source type each. The host controls have one family per
/// rule they serve, so an unreadable sshd configuration stops only the sshd rule.
public enum FactSource: String, Sendable, Codable, CaseIterable {
    case dpkg, snap, flatpak, files, processes, sockets, identity, apt, antivirus, devices
    /// /proc/self/mountinfo and the block devices below / and /home.
    case disks
    /// /etc/shadow and the display managers' autologin settings.
    case accounts
    /// /etc/group (the privileged groups' members).
    case groups
    /// GNOME's system dconf databases.
    case desktop
    /// sshd_config and what it includes.
    case sshd
    /// journald.conf and rsyslog's logrotate settings.
    case logs
    /// nftables, ufw and firewalld settings.
    case firewall
}
