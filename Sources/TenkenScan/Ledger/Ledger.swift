import TenkenBase

/// The ledger (台帳) of PCs and media registered for the work (001 第6条5, 003 第14条(7)).
/// A machine is matched by machine-id or DMI serial; a medium by "vendor:product:serial".
public struct Ledger: Sendable, Equatable {
    /// A registered PC: matched by machine-id or DMI serial, with its label and owner.
    public struct Machine: Sendable, Equatable {
        public var machineID: String?
        public var serial: String?
        public var label: String
        public var owner: String?

        public init(machineID: String?, serial: String?, label: String, owner: String?) {
            self.machineID = machineID
            self.serial = serial
            self.label = label
            self.owner = owner
        }
    }

    /// A registered medium: matched by "vendor:product:serial", with its label, owner and whether it must
    /// be encrypted.
    public struct Medium: Sendable, Equatable {
        public var device: String
        public var label: String
        public var owner: String?
        /// The medium must be LUKS-encrypted (002 第11条(5), 003 第14条(3)).
        public var encrypted: Bool

        public init(device: String, label: String, owner: String?, encrypted: Bool) {
            self.device = device
            self.label = label
            self.owner = owner
            self.encrypted = encrypted
        }
    }

    /// Where a machine keeps its ledger, under its root.
    public static let defaultPath = "/etc/tenken/ledger.yaml"

    public var machines: [Machine] = []
    public var media: [Medium] = []

    public init(machines: [Machine] = [], media: [Medium] = []) {
        self.machines = machines
        self.media = media
    }

    public func machine(id: String, serial: String?) -> Machine? {
        machines.first { entry in
            (entry.machineID.map { !$0.isEmpty && $0 == id } ?? false)
                || (entry.serial.map { !$0.isEmpty && $0 == serial } ?? false)
        }
    }

    public func medium(_ device: String) -> Medium? {
        let key = Self.normalized(device)
        return media.first { Self.normalized($0.device) == key }
    }

    /// Vendor and product ids are hex and compare case-insensitively; serials are exact.
    public static func normalized(_ device: String) -> String {
        let parts = device.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { return device }
        return parts[0].lowercased() + ":" + parts[1].lowercased() + ":" + parts[2]
    }

    /// Parses a ledger file; the same strictness as policies (unknown keys are errors).
    public init(yaml text: String, file: String) throws(PolicyError) {
        let document = try YAMLObject.document(text, file: file, keys: ["machines", "media"])
        for entry in document.has("machines")
            ? try document.objects("machines", keys: ["machine-id", "serial", "label", "owner"]) : []
        {
            let machine = Machine(
                machineID: try entry.optionalString("machine-id"), serial: try entry.optionalString("serial"),
                label: try entry.string("label"), owner: try entry.optionalString("owner"))
            guard machine.machineID != nil || machine.serial != nil else {
                throw entry.error("label", "a machine needs machine-id or serial")
            }
            machines.append(machine)
        }
        for entry in document.has("media")
            ? try document.objects("media", keys: ["device", "label", "owner", "encrypted"]) : []
        {
            let device = try entry.string("device")
            guard device.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).count == 3 else {
                throw entry.error("device", "'\(device)' is not vendor:product:serial")
            }
            media.append(
                Medium(
                    device: device, label: try entry.string("label"), owner: try entry.optionalString("owner"),
                    encrypted: try entry.bool("encrypted", default: false)))
        }
    }

    /// The YAML text of the ledger, every value quoted so serials and labels stay strings.
    public var yaml: String {
        func quoted(_ value: String) -> String {
            "\"" + value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n") + "\""
        }
        var lines = ["# tenken ledger (台帳): registered PCs and media", "machines:"]
        for machine in machines {
            lines.append("  - label: " + quoted(machine.label))
            if let id = machine.machineID { lines.append("    machine-id: " + quoted(id)) }
            if let serial = machine.serial { lines.append("    serial: " + quoted(serial)) }
            if let owner = machine.owner { lines.append("    owner: " + quoted(owner)) }
        }
        if machines.isEmpty { lines[lines.count - 1] = "machines: []" }
        lines.append(media.isEmpty ? "media: []" : "media:")
        for medium in media {
            lines.append("  - device: " + quoted(medium.device))
            lines.append("    label: " + quoted(medium.label))
            if let owner = medium.owner { lines.append("    owner: " + quoted(owner)) }
            lines.append("    encrypted: " + (medium.encrypted ? "true" : "false"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// USBGuard rules allowing exactly the registered media (usbguard-rules.conf(5)); append a
    /// policy of your own for keyboards and hubs, since USBGuard blocks what no rule allows.
    public var usbguardRules: String {
        media.map { medium in
            let parts = Self.normalized(medium.device).split(
                separator: ":", maxSplits: 2, omittingEmptySubsequences: false
            ).map(String.init)
            // A serial or label comes from the device or a person: a newline in one must not start a
            // rule of its own, so control characters are escaped as well as quotes and backslashes.
            let serial = TerminalText.escaped(parts[2].replacing("\\", with: "\\\\").replacing("\"", with: "\\\""))
            let label = TerminalText.escaped(medium.label.replacing("\\", with: "\\\\").replacing("\"", with: "\\\""))
            return "allow id \(parts[0]):\(parts[1]) serial \"\(serial)\" # \(label)"
        }.joined(separator: "\n") + (media.isEmpty ? "" : "\n")
    }
}
