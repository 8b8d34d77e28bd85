import TenkenBase

/// Connections of USB devices as the kernel logged them: "usb 1-2: New USB device found,
/// idVendor=0781, idProduct=5581", then Product/Manufacturer/SerialNumber lines, then the
/// driver that bound ("USB Mass Storage device detected", rndis_host, cdc_ether, ...).
public struct UsbConnection: Sendable, Hashable {
    /// Unix seconds.
    public let time: Int
    public let busPath: String
    public var vendorID: String
    public var productID: String
    public var product: String?
    public var manufacturer: String?
    public var serial: String?
    public var kinds: Set<UsbDevice.Kind> = []

    public var ledgerID: String { "\(vendorID):\(productID):\(serial ?? "")" }
}

enum UsbHistory {
    /// Messages worth reading: the usb core's, usb-storage's and the tethering drivers'.
    static func isRelevant(_ text: String) -> Bool {
        text.hasPrefix("usb ") || text.hasPrefix("usb-storage ") || text.hasPrefix("rndis_host ")
            || text.hasPrefix("cdc_ether ") || text.hasPrefix("cdc_ncm ") || text.hasPrefix("ipheth ")
    }

    static func connections(_ messages: [KernelJournal.Message]) -> [UsbConnection] {
        var result: [UsbConnection] = []
        var open: [String: Int] = [:]  // bus path → index in result
        for message in messages {
            let words = message.text.split(separator: " ", maxSplits: 2).map(String.init)
            guard words.count == 3 else { continue }
            let driver = words[0]
            // "1-2:" for the device, "1-2:1.0:" or "1-2:1.0" for an interface.
            let subject = words[1].hasSuffix(":") ? String(words[1].dropLast()) : words[1]
            let busPath = String(subject.split(separator: ":").first ?? "")
            let rest = words[2]
            if driver == "usb", rest.hasPrefix("New USB device found, ") {
                let fields = keyValues(rest)
                guard let vendor = fields["idVendor"], let product = fields["idProduct"] else { continue }
                result.append(
                    UsbConnection(
                        time: message.time / 1_000_000, busPath: busPath,
                        vendorID: vendor.lowercased(), productID: product.lowercased()))
                open[busPath] = result.count - 1
                continue
            }
            guard let index = open[busPath] else { continue }
            if driver == "usb" {
                if rest.hasPrefix("Product: ") { result[index].product = String(rest.dropFirst(9)) }
                if rest.hasPrefix("Manufacturer: ") { result[index].manufacturer = String(rest.dropFirst(14)) }
                if rest.hasPrefix("SerialNumber: ") { result[index].serial = String(rest.dropFirst(14)) }
                if rest.hasPrefix("USB disconnect") { open[busPath] = nil }
            } else if driver == "usb-storage" {
                result[index].kinds.insert(.storage)
            } else {
                result[index].kinds.insert(.tethering)
            }
        }
        return result
    }

    /// "idVendor=0781, idProduct=5581, bcdDevice= 1.00" → ["idVendor": "0781", …]
    private static func keyValues(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            fields[pair[0].trimmingCharacters(in: " ")] = pair[1].trimmingCharacters(in: " ")
        }
        return fields
    }
}

/// Reads the connection history under the root for the devices rule.
enum UsbHistorySource {
    static func collect(_ root: HostRoot, sinceDays: Int, now: Int, into facts: inout HostFacts) {
        let since = (now - sinceDays * 86_400) * 1_000_000
        do {
            let messages = try KernelJournal.messages(root: root.path, since: since, keep: UsbHistory.isRelevant)
            facts.usbHistory = UsbHistory.connections(messages)
        } catch {
            // No journal at all (ENOENT) is normal on a minimal image; anything else is an error.
            if error.code != 2 {
                facts.issues.append(
                    FactIssue(
                        .devices, .error, .unreadable, path: "/var/log/journal",
                        Localized(
                            ja: "ジャーナルを読み取れません (errno \(error.code))",
                            en: "cannot read the journal (errno \(error.code))")))
            }
        }
    }
}
