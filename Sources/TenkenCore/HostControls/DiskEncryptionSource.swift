/// Which block devices hold / and /home, and whether LUKS sits below them (through LVM and
/// partitions): the root's /proc/self/mountinfo, then /sys/dev/block/MAJ:MIN and its slaves.
enum DiskEncryptionSource {
    static let mountPoints = ["/", "/home"]

    static func collect(_ root: HostRoot, into controls: inout HostControlFacts) {
        // A mounted image has an empty /proc: its mounts are unknown, and the rule does not apply.
        guard let bytes = try? root.readFile("/proc/self/mountinfo", limit: 16 << 20) else { return }
        var devices: [String: String] = [:]  // mount point → "MAJ:MIN"
        for line in ByteText.split(bytes[...], on: 0x0A) {
            let fields = ByteText.display(line).split(separator: " ")
            guard fields.count > 5 else { continue }
            devices[String(fields[4])] = String(fields[2])  // later mounts over the same point win
        }
        var result: [HostControlFacts.MountEncryption] = []
        for mountPoint in mountPoints {
            guard let number = devices[mountPoint], !number.hasPrefix("0:") else { continue }  // 0:N is tmpfs, overlay
            guard let name = blockName(root, number) else { continue }
            let (chain, encrypted) = walk(root, name, depth: 8)
            result.append(.init(mountPoint: mountPoint, device: name, chain: chain, encrypted: encrypted))
        }
        controls.mounts = result
    }

    private static func blockName(_ root: HostRoot, _ number: String) -> String? {
        guard let text = try? root.readFile("/sys/dev/block/\(number)/uevent", limit: 4096) else { return nil }
        return ByteText.display(text[...]).split(separator: "\n").first { $0.hasPrefix("DEVNAME=") }.map { String($0.dropFirst(8)) }
    }

    /// Follows slaves/ down from a device; encrypted when a dm device on the way is CRYPT-LUKS.
    private static func walk(_ root: HostRoot, _ name: String, depth: Int) -> ([String], Bool) {
        var chain = [name]
        if let uuid = try? root.readFile("/sys/class/block/\(name)/dm/uuid", limit: 256),
           ByteText.display(uuid[...]).hasPrefix("CRYPT-LUKS") {
            return (chain, true)
        }
        guard depth > 0, let slaves = try? root.directory("/sys/class/block/\(name)/slaves"),
              let entries = try? slaves.entries(), !entries.isEmpty else { return (chain, false) }
        var all = true
        for slave in entries.map(\.name.display).sorted() {
            let (below, encrypted) = walk(root, slave, depth: depth - 1)
            chain += below
            all = all && encrypted
        }
        return (chain, all)
    }
}
