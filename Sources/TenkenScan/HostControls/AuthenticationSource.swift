import TenkenBase

/// How accounts log in: empty passwords in /etc/shadow and display-manager autologin.
enum AuthenticationSource {
    static func collect(_ reader: inout ControlReader, packages: Set<String>, into controls: inout HostControlFacts) {
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
            let level: FactIssue.Level = error.reason == .permissionDenied ? .limited : .error
            reader.add(
                .unreadable(
                    .accounts, error, level: level,
                    hint: Localized(ja: " (root で実行すると確認できます)", en: " (run as root to check)")))
        }
        controls.autologins = autologins(&reader)
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
