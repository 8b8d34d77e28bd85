import TenkenBase

/// Accounts: empty passwords in /etc/shadow, display-manager autologin, privileged groups.
enum AccountSource {
    static let privilegedGroups = ["sudo", "wheel", "adm", "admin"]

    /// Empty passwords in /etc/shadow and display-manager autologin.
    static func collectAuthentication(_ reader: inout ControlReader, into controls: inout HostControlFacts) {
        do {
            if let shadow = try reader.root.readFileIfPresent("/etc/shadow", limit: 16 << 20) {
                controls.shadowReadable = true
                for line in ByteText.split(shadow[...], on: 0x0A) {
                    let fields = line.split(separator: 0x3A, omittingEmptySubsequences: false)
                    // An empty second field logs in with no password; "!" and "*" are locked.
                    if fields.count >= 2 && fields[1].isEmpty {
                        controls.emptyPasswordAccounts.append(ByteText.display(fields[0]))
                    }
                }
            }
        } catch {
            // Root-only: as an ordinary user this narrows the check (the rule then says it could
            // not check empty passwords unless it found something else); any other failure is an error.
            reader.add(
                FactIssue(
                    .accounts, error.reason == .permissionDenied ? .limited : .error, .unreadable, path: error.path,
                    Localized(
                        ja: error.message(in: .ja) + " (root で実行すると確認できます)",
                        en: error.message(in: .en) + " (run as root to check)")))
        }
        controls.autologins = autologins(&reader)
    }

    /// The members of the privileged groups in /etc/group.
    static func collectGroups(_ reader: inout ControlReader, into controls: inout HostControlFacts) {
        if let group = reader.file("/etc/group", for: .groups, limit: 16 << 20) {
            for line in ByteText.split(group[...], on: 0x0A) {
                let fields = ByteText.display(line).split(separator: ":", omittingEmptySubsequences: false)
                guard fields.count >= 4, privilegedGroups.contains(String(fields[0])) else { continue }
                controls.privilegedMembers[String(fields[0])] = fields[3].split(separator: ",").map(String.init)
            }
        }
    }

    private static func autologins(_ reader: inout ControlReader) -> [String] {
        var found: [String] = []
        let gdm = reader.ini("/etc/gdm3/daemon.conf", for: .accounts)
        for (enable, user) in [("AutomaticLoginEnable", "AutomaticLogin"), ("TimedLoginEnable", "TimedLogin")]
        where gdm["daemon", enable]?.lowercased() == "true" {
            found.append("gdm3: " + (gdm["daemon", user] ?? "?"))
        }
        for path in ["/etc/lightdm/lightdm.conf"]
            + reader.files(in: "/etc/lightdm/lightdm.conf.d", suffix: ".conf", for: .accounts)
        {
            if let user = reader.ini(path, for: .accounts)["Seat:*", "autologin-user"], !user.isEmpty {
                found.append("lightdm: " + user)
            }
        }
        for path in ["/etc/sddm.conf"] + reader.files(in: "/etc/sddm.conf.d", suffix: ".conf", for: .accounts) {
            if let user = reader.ini(path, for: .accounts)["Autologin", "User"], !user.isEmpty {
                found.append("sddm: " + user)
            }
        }
        return found
    }
}

/// A keyfile/INI file: "[section]" then "key=value"; "#" and ";" comment lines.
struct IniFile {
    private var values: [String: String] = [:]

    init(_ text: String) {
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: " \t")
            values[section + "\u{0}" + key] = line[line.index(after: equals)...].trimmingCharacters(in: " \t")
        }
    }

    subscript(section: String, key: String) -> String? { values[section + "\u{0}" + key] }
}
