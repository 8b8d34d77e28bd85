/// GNOME's screen lock from the system dconf databases (per-user settings are not read).
enum ScreenLockSource {
    /// Only where GNOME is installed; otherwise the screen-lock rule does not apply.
    static func collect(_ reader: inout ControlReader, packages: Set<String>, into controls: inout HostControlFacts) {
        if packages.contains("gnome-shell") { controls.screenLock = screenLock(&reader) }
    }

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
}
