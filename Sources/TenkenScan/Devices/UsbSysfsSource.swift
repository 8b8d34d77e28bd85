import TenkenBase

/// Connected USB devices from /sys/bus/usb/devices under the root: ids, strings, interfaces,
/// drivers and, for storage, the block devices and whether they are LUKS-encrypted.
enum UsbSysfsSource {
    static let devicesPath = "/sys/bus/usb/devices"

    static func collect(_ root: HostRoot, into facts: inout HostFacts) {
        let names: [String]
        do {
            guard let directory = try root.directoryIfPresent(devicesPath) else { return }
            names = try directory.entries().map(\.name.display).sorted()
        } catch {
            facts.issues.append(.unreadable(.devices, error))
            return
        }
        // "1-2" and "1-2.3" are devices; "1-2:1.0" are interfaces; "usb1" are root hubs.
        for name in names where !name.contains(":") && !name.hasPrefix("usb") {
            let path = devicesPath + "/" + name
            do {
                guard let device = try device(root, path: path, busPath: name) else { continue }
                facts.usbDevices.append(device)
            } catch {
                facts.issues.append(.unreadable(.devices, error))
            }
        }
    }

    private static func device(_ root: HostRoot, path: String, busPath: String) throws(HostReadError) -> UsbDevice? {
        let directory = try root.directory(path)
        func attribute(_ name: String) -> String? {
            guard let bytes = try? directory.readFile(FileName(name), limit: 4096) else { return nil }
            let text = ByteText.display(bytes[...]).trimmingCharacters(in: " \n\t\0")
            return text.isEmpty ? nil : text
        }
        // Hubs carry no data; a device without ids is not a usable device.
        guard let vendor = attribute("idVendor")?.lowercased(), let product = attribute("idProduct")?.lowercased(),
            attribute("bDeviceClass") != "09"
        else { return nil }
        var interfaces: [UsbDevice.Interface] = []
        for entry in try directory.entries() where entry.name.display.hasPrefix(busPath + ":") {
            guard let interface = try? directory.subdirectory(entry.name) else { continue }
            func hex(_ name: String) -> UInt8 {
                (try? interface.readFile(FileName(name), limit: 64)).flatMap {
                    UInt8(ByteText.display($0[...]).trimmingCharacters(in: " \n"), radix: 16)
                } ?? 0
            }
            let driver = (try? interface.readLink(FileName("driver")))?.display.split(separator: "/").last.map(
                String.init)
            let label = (try? interface.readFile(FileName("interface"), limit: 4096))
                .map { ByteText.display($0[...]).trimmingCharacters(in: " \n") }
            interfaces.append(
                UsbDevice.Interface(
                    number: String(entry.name.display.dropFirst(busPath.count + 1)), classCode: hex("bInterfaceClass"),
                    subclass: hex("bInterfaceSubClass"), protocolCode: hex("bInterfaceProtocol"), name: label,
                    driver: driver))
        }
        var device = UsbDevice(
            busPath: busPath, vendorID: vendor, productID: product, serial: attribute("serial"),
            manufacturer: attribute("manufacturer"), product: attribute("product"),
            interfaces: interfaces.sorted { $0.number < $1.number })
        if device.kinds.contains(.storage) { device.disks = disks(root, device: path) }
        return device
    }

    /// Block devices below a USB device: …/1-2:1.0/host6/target6:0:0/6:0:0:0/block/sdb.
    private static func disks(_ root: HostRoot, device path: String) -> [UsbDevice.Disk] {
        var found: [UsbDevice.Disk] = []
        func walk(_ directory: Directory, depth: Int) {
            guard depth > 0, let entries = try? directory.entries() else { return }
            for entry in entries where entry.kind == .directory {
                guard let child = try? directory.subdirectory(entry.name) else { continue }
                if entry.name.display == "block" {
                    for disk in (try? child.entries()) ?? [] {
                        found.append(
                            UsbDevice.Disk(
                                name: disk.name.display,
                                encrypted: BlockEncryption.isEncrypted(root, disk: disk.name.display)))
                    }
                } else {
                    walk(child, depth: depth - 1)
                }
            }
        }
        if let directory = try? root.directory(path) { walk(directory, depth: 6) }
        return found.sorted { $0.name < $1.name }
    }
}
