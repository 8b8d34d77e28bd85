/// How long logs are kept: journald.conf (and its drop-ins) and rsyslog's logrotate settings.
enum LogRetentionSource {
    static func collect(_ reader: inout ControlReader, packages: Set<String>, into controls: inout HostControlFacts) {
        controls.logRetention = logRetention(&reader, rsyslog: packages.contains("rsyslog"))
    }

    /// journald's storage and retention, and how long logrotate keeps rsyslog's files.
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
}
