/// GNOME screen lock (system dconf keyfiles), sshd's effective settings, journald and rsyslog
/// retention, and which firewall is enabled at boot: one function per source of the registry.
enum DesktopAndServiceSource {
    /// Keyfiles in /etc/dconf/db/*.d/ override GNOME's defaults (lock on, 300 s idle).
    static func screenLock(_ reader: inout ControlReader) -> HostControlFacts.ScreenLock {
        var lock = HostControlFacts.ScreenLock()
        for database in reader.files(in: "/etc/dconf/db", suffix: ".d", for: .desktop, directories: true) {
            for path in reader.files(in: database, suffix: "", for: .desktop) {
                let file = reader.ini(path, for: .desktop)
                if let enabled = file["org/gnome/desktop/screensaver", "lock-enabled"] {
                    lock.lockEnabled = enabled == "true"
                    lock.setIn.append(path)
                }
                if let delay = file["org/gnome/desktop/session", "idle-delay"],
                    let seconds = Int(delay.replacing("uint32", with: "").trimmingCharacters(in: " "))
                {
                    lock.idleDelaySeconds = seconds
                    lock.setIn.append(path)
                }
            }
        }
        return lock
    }

    /// sshd takes the first value of each keyword, reading Include files where they stand
    /// (Debian's sshd_config starts with "Include /etc/ssh/sshd_config.d/*.conf"); Match blocks
    /// apply to some connections only and are not read.
    static func sshd(_ reader: inout ControlReader) -> [String: String] {
        var settings: [String: String] = [:]
        func read(_ path: String, depth: Int) {
            guard depth > 0, let bytes = reader.file(path, for: .sshd) else { return }
            for raw in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                let words = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" }).map(String.init)
                guard let keyword = words.first?.lowercased(), !keyword.hasPrefix("#"), words.count >= 2 else {
                    continue
                }
                if keyword == "match" { return }
                if keyword == "include" {
                    for pattern in words.dropFirst() {
                        let full = pattern.hasPrefix("/") ? pattern : "/etc/ssh/" + pattern
                        if full.hasSuffix("/*.conf") {
                            for file in reader.files(in: String(full.dropLast(7)), suffix: ".conf", for: .sshd) {
                                read(file, depth: depth - 1)
                            }
                        } else {
                            read(full, depth: depth - 1)
                        }
                    }
                    continue
                }
                if settings[keyword] == nil { settings[keyword] = words[1].lowercased() }
            }
        }
        read("/etc/ssh/sshd_config", depth: 4)
        return settings
    }

    static func logRetention(_ reader: inout ControlReader, rsyslog: Bool) -> HostControlFacts.LogRetention {
        var retention = HostControlFacts.LogRetention()
        var storage = "auto"
        for path in ["/etc/systemd/journald.conf"]
            + reader.files(in: "/etc/systemd/journald.conf.d", suffix: ".conf", for: .logs)
        {
            let file = reader.ini(path, for: .logs)
            if let value = file["Journal", "Storage"] { storage = value }
            if let value = file["Journal", "MaxRetentionSec"] { retention.journalMaxRetention = seconds(value) ?? 0 }
        }
        retention.journalPersistent =
            storage == "persistent" || (storage == "auto" && reader.root.exists("/var/log/journal"))
        if rsyslog, let bytes = reader.file("/etc/logrotate.d/rsyslog", for: .logs) {
            var period = 7
            var count = 4  // Debian's rsyslog: weekly, rotate 4
            for raw in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                let words = raw.split(separator: " ").map { $0.trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
                switch words.first {
                case "daily": period = 1
                case "weekly": period = 7
                case "monthly": period = 30
                case "yearly": period = 365
                case "rotate": count = words.count > 1 ? Int(words[1]) ?? count : count
                default: break
                }
            }
            retention.rsyslogDays = period * count
        }
        return retention
    }

    /// "1year", "365d", "12month", "3600" (seconds) as journald.conf(5) spells spans.
    static func seconds(_ value: String) -> Int? {
        let units: [(String, Int)] = [
            ("years", 31_557_600), ("year", 31_557_600), ("y", 31_557_600), ("months", 2_629_800),
            ("month", 2_629_800), ("weeks", 604_800), ("week", 604_800), ("w", 604_800),
            ("days", 86_400), ("day", 86_400), ("d", 86_400), ("hours", 3600), ("hour", 3600),
            ("h", 3600), ("min", 60), ("m", 60), ("s", 1), ("", 1),
        ]
        var total = 0
        for part in value.split(separator: " ") {
            let digits = part.prefix { $0.isNumber }
            let unit = String(part.dropFirst(digits.count))
            guard let number = Int(digits), let scale = units.first(where: { $0.0 == unit })?.1,
                number < 1_000_000
            else { return nil }
            total += number * scale
        }
        return total
    }

    static func firewalls(_ reader: inout ControlReader, packages: Set<String>) -> [String] {
        var found: [String] = []
        if packages.contains("nftables"),
            reader.root.linkExists("/etc/systemd/system/sysinit.target.wants/nftables.service"),
            let rules = reader.file("/etc/nftables.conf", for: .firewall),
            String(decoding: rules, as: UTF8.self).contains("hook input")
        {
            found.append("nftables")
        }
        if packages.contains("ufw"),
            reader.ini("/etc/ufw/ufw.conf", for: .firewall)["", "ENABLED"]?.lowercased() == "yes"
        {
            found.append("ufw")
        }
        if packages.contains("firewalld"),
            reader.root.linkExists("/etc/systemd/system/multi-user.target.wants/firewalld.service")
        {
            found.append("firewalld")
        }
        return found
    }
}
