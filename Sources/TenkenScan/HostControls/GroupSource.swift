import TenkenBase

/// The members of the privileged groups (sudo, wheel, adm, admin) in /etc/group.
enum GroupSource {
    static let privilegedGroups = ["sudo", "wheel", "adm", "admin"]

    /// The members of the privileged groups in /etc/group.
    static func collect(_ reader: inout ControlReader, packages: Set<String>, into controls: inout HostControlFacts) {
        if let group = reader.file("/etc/group", for: .groups, limit: 16 << 20) {
            for line in ByteText.split(group[...], on: 0x0A) {
                let fields = ByteText.display(line).split(separator: ":", omittingEmptySubsequences: false)
                guard fields.count >= 4, privilegedGroups.contains(String(fields[0])) else { continue }
                controls.privilegedMembers[String(fields[0])] = fields[3].split(separator: ",").map(String.init)
            }
        }
    }
}
