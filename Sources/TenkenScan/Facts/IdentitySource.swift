import TenkenBase

/// Who this host is: hostname and machine-id as stored under the root, and the uid-to-name map
/// that evidence uses to say whose process it saw.
public struct HostIdentity: Sendable, Codable, Hashable {
    public var hostname: String = ""
    public var machineID: String = ""
    public var osName: String = ""
    /// DMI (SMBIOS) serial of the machine: /sys/class/dmi/id/product_serial, readable by root.
    public var dmiSerial: String?
    public var userNames: [UInt32: String] = [:]

    public init() {}
}

/// Reads the host's identity (hostname, machine-id, DMI serial, OS name) from the files under the root.
public enum IdentitySource {
    /// Hostname, machine-id, DMI serial and OS of a root, e.g. for enrollment.
    public static func identity(of root: HostRoot) -> HostIdentity {
        var facts = HostFacts()
        collect(root, into: &facts)
        return facts.identity
    }

    static func collect(_ root: HostRoot, into facts: inout HostFacts) {
        // The running kernel's hostname belongs to this host only when scanning "/".
        let hostnameFiles = root.isHostRoot ? ["/proc/sys/kernel/hostname", "/etc/hostname"] : ["/etc/hostname"]
        for path in hostnameFiles {
            if let name = firstLine(root, path), !name.isEmpty {
                facts.identity.hostname = name
                break
            }
        }
        facts.identity.machineID = firstLine(root, "/etc/machine-id") ?? ""
        // Placeholder serials of unbranded boards identify nothing.
        if let serial = firstLine(root, "/sys/class/dmi/id/product_serial"), !serial.isEmpty,
            !["To Be Filled By O.E.M.", "Default string", "System Serial Number", "0", "None"].contains(serial)
        {
            facts.identity.dmiSerial = serial
        }
        if let release = try? root.readFileIfPresent("/etc/os-release", limit: 1 << 20) {
            for line in ByteText.split(release[...], on: 0x0A) {
                guard let text = ByteText.utf8(line), text.hasPrefix("PRETTY_NAME=") else { continue }
                facts.identity.osName = String(text.dropFirst(12)).trimmingCharacters(in: "\"'")
            }
        }
    }

    private static func firstLine(_ root: HostRoot, _ path: String) -> String? {
        guard let bytes = try? root.readFileIfPresent(path, limit: 4096),
            let line = ByteText.split(bytes[...], on: 0x0A).first
        else { return nil }
        return ByteText.display(line).trimmingCharacters(in: " \t\r")
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
