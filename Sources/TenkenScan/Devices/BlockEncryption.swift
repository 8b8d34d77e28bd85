import TenkenBase

/// Whether a block device holds LUKS: an open dm-crypt mapping above it ("CRYPT-LUKS" dm uuid,
/// found through LVM too), or udev's record that it or a partition has a LUKS header.
enum BlockEncryption {
    static func isEncrypted(_ root: HostRoot, disk: String) -> Bool {
        let base = "/sys/class/block/" + disk
        var candidates = [disk]
        if let directory = try? root.directory(base), let entries = try? directory.entries() {
            candidates += entries.map(\.name.display).filter { $0.hasPrefix(disk) && $0 != disk }  // partitions
        }
        return candidates.contains { udevSaysLUKS(root, device: $0) || hasCryptHolder(root, device: $0, depth: 4) }
    }

    /// /run/udev/data/b<major>:<minor> holds "E:ID_FS_TYPE=crypto_LUKS" for a LUKS volume.
    static func udevSaysLUKS(_ root: HostRoot, device: String) -> Bool {
        guard let numbers = try? root.readFile("/sys/class/block/\(device)/dev", limit: 64) else { return false }
        let id = ByteText.display(numbers[...]).trimmingCharacters(in: " \n")
        guard let data = try? root.readFile("/run/udev/data/b" + id, limit: 1 << 20) else { return false }
        return ByteText.display(data[...]).split(separator: "\n").contains("E:ID_FS_TYPE=crypto_LUKS")
    }

    /// A dm device stacked on this one (holders/dm-N) whose uuid starts with CRYPT-LUKS, directly
    /// or through LVM.
    static func hasCryptHolder(_ root: HostRoot, device: String, depth: Int) -> Bool {
        guard depth > 0, let holders = try? root.directory("/sys/class/block/\(device)/holders"),
            let entries = try? holders.entries()
        else { return false }
        for holder in entries.map(\.name.display) {
            if let uuid = try? root.readFile("/sys/class/block/\(holder)/dm/uuid", limit: 256),
                ByteText.display(uuid[...]).hasPrefix("CRYPT-LUKS")
            {
                return true
            }
            if hasCryptHolder(root, device: holder, depth: depth - 1) { return true }
        }
        return false
    }
}
