import TenkenBase

/// Paired Bluetooth devices from BlueZ's store: /var/lib/bluetooth/<adapter>/<device>/info.
public struct BluetoothPairing: Sendable, Hashable {
    public let adapter: String
    public let address: String
    public let name: String?
}

enum BluetoothSource {
    static let storePath = "/var/lib/bluetooth"

    static func collect(_ root: HostRoot, into facts: inout HostFacts) {
        do {
            guard let store = try root.directoryIfPresent(storePath) else { return }
            for adapter in try store.entries() where adapter.kind == .directory {
                guard let devices = try? store.subdirectory(adapter.name), let entries = try? devices.entries() else {
                    continue
                }
                // Device directories are named by address: "AA:BB:CC:DD:EE:FF".
                for device in entries where device.kind == .directory && device.name.display.count == 17 {
                    let info =
                        (try? devices.subdirectory(device.name).readFile(FileName("info"), limit: 1 << 20))
                        .map { ByteText.display($0[...]) } ?? ""
                    let name = info.split(separator: "\n").first { $0.hasPrefix("Name=") }.map {
                        String($0.dropFirst(5))
                    }
                    facts.bluetoothPairings.append(
                        BluetoothPairing(adapter: adapter.name.display, address: device.name.display, name: name))
                }
            }
        } catch {
            facts.issues.append(.unreadable(.devices, error))
        }
    }
}
