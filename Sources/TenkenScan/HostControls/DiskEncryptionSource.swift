import TenkenBase

/// Which block devices hold / and /home, and whether LUKS sits below them (through LVM and
/// partitions): the root's /proc/self/mountinfo, then /sys/dev/block/MAJ:MIN and its slaves.
enum DiskEncryptionSource {
    static let mountPoints = ["/", "/home"]

    static func collect(_ reader: inout ControlReader, packages: Set<String>, into controls: inout HostControlFacts) {
        // A mounted image has an empty /proc: its mounts are unknown, and the rule does not apply.
        guard let bytes = reader.file("/proc/self/mountinfo", for: .disks, limit: 16 << 20) else { return }
        var devices: [String: String] = [:]  // mount point → "MAJ:MIN"
        for line in ByteText.split(bytes[...], on: 0x0A) {
            let fields = ByteText.display(line).split(separator: " ")
            guard fields.count > 5 else { continue }
            devices[String(fields[4])] = String(fields[2])  // later mounts over the same point win
        }
        var result: [HostControlFacts.MountEncryption] = []
        for mountPoint in mountPoints {
            guard let number = devices[mountPoint], !number.hasPrefix("0:") else { continue }  // 0:N is tmpfs, overlay
            guard let name = blockName(&reader, number) else {
                // A mount on a block device tenken cannot name is a mount it cannot judge.
                reader.add(
                    FactIssue(
                        .disks, .error, .missing, path: "/sys/dev/block/\(number)",
                        Localized(
                            ja: "\(mountPoint) のブロックデバイス \(number) を /sys/dev/block で特定できません",
                            en: "the block device \(number) of \(mountPoint) is not named in /sys/dev/block")))
                continue
            }
            let (chain, encrypted) = walk(&reader, name, depth: 8)
            result.append(.init(mountPoint: mountPoint, device: name, chain: chain, encrypted: encrypted))
        }
        controls.mounts = result
    }

    private static func blockName(_ reader: inout ControlReader, _ number: String) -> String? {
        guard let text = reader.file("/sys/dev/block/\(number)/uevent", for: .disks, limit: 4096) else { return nil }
        return ByteText.display(text[...]).split(separator: "\n").first { $0.hasPrefix("DEVNAME=") }.map {
            String($0.dropFirst(8))
        }
    }

    /// Follows slaves/ down from a device; encrypted when a dm device on the way is CRYPT-LUKS.
    private static func walk(_ reader: inout ControlReader, _ name: String, depth: Int) -> ([String], Bool) {
        var chain = [name]
        // Only device-mapper devices have dm/uuid; a partition or disk has none.
        if let uuid = reader.file("/sys/class/block/\(name)/dm/uuid", for: .disks, limit: 256),
            ByteText.display(uuid[...]).hasPrefix("CRYPT-LUKS")
        {
            return (chain, true)
        }
        // slaves/ holds a link to each device this one is built on.
        let slaves = depth > 0 ? reader.entries(in: "/sys/class/block/\(name)/slaves", for: .disks) : []
        guard !slaves.isEmpty else { return (chain, false) }
        var all = true
        for slave in slaves.map(\.name.display).sorted() {
            let (below, encrypted) = walk(&reader, slave, depth: depth - 1)
            chain += below
            all = all && encrypted
        }
        return (chain, all)
    }
}
