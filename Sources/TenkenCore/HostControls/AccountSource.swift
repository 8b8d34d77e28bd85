/// Accounts: empty passwords in /etc/shadow, display-manager autologin, privileged groups.
enum AccountSource {
    static let privilegedGroups = ["sudo", "wheel", "adm", "admin"]

    static func collect(_ root: HostRoot, into controls: inout HostControlFacts, issues: inout [FactIssue]) {
        do {
            if let shadow = try root.readFileIfPresent("/etc/shadow", limit: 16 << 20) {
                controls.shadowReadable = true
                for line in ByteText.split(shadow[...], on: 0x0A) {
                    let fields = line.split(separator: 0x3A, omittingEmptySubsequences: false)
                    // An empty second field logs in with no password; "!" and "*" are locked.
                    if fields.count >= 2 && fields[1].isEmpty { controls.emptyPasswordAccounts.append(ByteText.display(fields[0])) }
                }
            }
        } catch {
            issues.append(FactIssue(.identity, error.reason == .permissionDenied ? .limited : .error, Localized(
                ja: error.message(in: .ja) + " (root で実行すると確認できます)", en: error.message(in: .en) + " (run as root to check)")))
        }
        if let group = try? root.readFileIfPresent("/etc/group", limit: 16 << 20) {
            for line in ByteText.split(group[...], on: 0x0A) {
                let fields = ByteText.display(line).split(separator: ":", omittingEmptySubsequences: false)
                guard fields.count >= 4, privilegedGroups.contains(String(fields[0])) else { continue }
                controls.privilegedMembers[String(fields[0])] = fields[3].split(separator: ",").map(String.init)
            }
        }
        controls.autologins = autologins(root)
    }

    private static func autologins(_ root: HostRoot) -> [String] {
        var found: [String] = []
        let gdm = IniFile(root, "/etc/gdm3/daemon.conf")
        for (enable, user) in [("AutomaticLoginEnable", "AutomaticLogin"), ("TimedLoginEnable", "TimedLogin")]
        where gdm["daemon", enable]?.lowercased() == "true" {
            found.append("gdm3: " + (gdm["daemon", user] ?? "?"))
        }
        for path in ["/etc/lightdm/lightdm.conf"] + root.files(in: "/etc/lightdm/lightdm.conf.d", suffix: ".conf") {
            if let user = IniFile(root, path)["Seat:*", "autologin-user"], !user.isEmpty { found.append("lightdm: " + user) }
        }
        for path in ["/etc/sddm.conf"] + root.files(in: "/etc/sddm.conf.d", suffix: ".conf") {
            if let user = IniFile(root, path)["Autologin", "User"], !user.isEmpty { found.append("sddm: " + user) }
        }
        return found
    }
}

/// A keyfile/INI file: "[section]" then "key=value"; "#" and ";" comment lines.
struct IniFile {
    private var values: [String: String] = [:]

    init(_ root: HostRoot, _ path: String) {
        let bytes = (try? root.readFileIfPresent(path, limit: 1 << 20)) ?? nil
        self.init(bytes.map { String(decoding: $0, as: UTF8.self) } ?? "")
    }

    init(_ text: String) {
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") { section = String(line.dropFirst().dropLast()); continue }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: " \t")
            values[section + "\u{0}" + key] = line[line.index(after: equals)...].trimmingCharacters(in: " \t")
        }
    }

    subscript(section: String, key: String) -> String? { values[section + "\u{0}" + key] }
}
