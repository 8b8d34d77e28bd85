/// A USB device as sysfs describes it (or as the kernel logged it when it was connected).
public struct UsbDevice: Sendable, Hashable {
    /// One interface of the device: its class, subclass and protocol (which decide `kinds`), name and driver.
    public struct Interface: Sendable, Hashable {
        public let number: String
        public let classCode: UInt8
        public let subclass: UInt8
        public let protocolCode: UInt8
        public let name: String?
        public let driver: String?
    }

    /// What a device is, for the rules: media, a phone, or a network link through a phone.
    public enum Kind: String, Sendable, Codable, CaseIterable, Comparable {
        case storage, phone, tethering

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The kernel's name for the port path, e.g. "1-2.3".
    public let busPath: String
    public let vendorID: String
    public let productID: String
    public let serial: String?
    public let manufacturer: String?
    public let product: String?
    public let interfaces: [Interface]
    /// Block devices of a storage device ("sdb"), with whether each is LUKS-encrypted.
    public var disks: [Disk] = []

    /// A block device of a storage device, and whether it is encrypted.
    public struct Disk: Sendable, Hashable {
        public let name: String
        /// Encrypted partitions or whole disk (LUKS header seen by udev, or an open dm-crypt mapping).
        public let encrypted: Bool
    }

    /// The ledger key: "vendor:product:serial" (lowercase hex ids), as USBGuard matches devices.
    public var ledgerID: String { "\(vendorID):\(productID):\(serial ?? "")" }

    public var kinds: Set<Kind> {
        var kinds = Set<Kind>()
        for interface in interfaces {
            switch (interface.classCode, interface.subclass, interface.protocolCode) {
            case (0x08, _, _): kinds.insert(.storage)
            case (0x06, 0x01, 0x01): kinds.insert(.phone)  // still image: PTP, iPhone photos
            case (0xFF, _, _) where interface.name?.uppercased().contains("MTP") == true: kinds.insert(.phone)
            case (0xE0, 0x01, 0x03), (0x02, 0x02, 0xFF), (0xEF, 0x04, 0x01): kinds.insert(.tethering)  // RNDIS
            case (0x02, 0x06, _), (0x02, 0x0D, _): kinds.insert(.tethering)  // CDC ECM, NCM
            case (0xFF, 0xFD, 0x01) where vendorID == "05ac": kinds.formUnion([.tethering, .phone])  // iPhone (ipheth)
            case (0xFF, 0xFE, 0x02) where vendorID == "05ac": kinds.insert(.phone)  // iPhone usbmux
            default: break
            }
            if ["rndis_host", "cdc_ether", "cdc_ncm", "ipheth"].contains(interface.driver ?? "") {
                kinds.insert(.tethering)
            }
        }
        return kinds
    }

    public var displayName: String {
        let name = [manufacturer, product].compactMap { $0 }.joined(separator: " ")
        return (name.isEmpty ? "" : name + " ") + "(\(vendorID):\(productID)" + (serial.map { " serial \($0)" } ?? "")
            + ")"
    }
}
