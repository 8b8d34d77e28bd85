import TenkenBase

/// Rules on the PC and its media against the ledger: 001 第6条5・6・8, 002 第11条(5)(10)オ,
/// 003 第14条(3)(7)(9).
public enum DeviceRule: RuleFamily {
    /// This PC is in the ledger (else it is a private PC).
    case machineRegistered
    /// Every storage device connected now or within `historyDays` is in the ledger.
    case mediaRegistered(historyDays: Int)
    /// Phones, USB tethering and Bluetooth pairings are reported.
    case mobileDevices(historyDays: Int)
    /// Connected media the ledger marks `encrypted` are LUKS-encrypted.
    case mediaEncrypted

    /// The family's rule kinds as a policy's `kind:` names them.
    public enum Name: String, CaseIterable, Sendable {
        case machineRegistered = "machine-registered"
        case mediaRegistered = "media-registered"
        case mobileDevices = "mobile-devices"
        case mediaEncrypted = "media-encrypted"
    }

    public var name: Name {
        switch self {
        case .machineRegistered: return .machineRegistered
        case .mediaRegistered: return .mediaRegistered
        case .mobileDevices: return .mobileDevices
        case .mediaEncrypted: return .mediaEncrypted
        }
    }

    static func parameters(of name: Name) -> Set<String> {
        switch name {
        case .mediaRegistered, .mobileDevices: return ["history-days"]
        case .machineRegistered, .mediaEncrypted: return []
        }
    }

    init(_ name: Name, from yaml: YAMLObject) throws(PolicyError) {
        switch name {
        case .machineRegistered: self = .machineRegistered
        case .mediaRegistered: self = .mediaRegistered(historyDays: try yaml.count("history-days", default: 30))
        case .mobileDevices: self = .mobileDevices(historyDays: try yaml.count("history-days", default: 30))
        case .mediaEncrypted: self = .mediaEncrypted
        }
    }

    var ruleKind: RuleKind { .devices(self) }

    var sources: Set<FactSource> {
        switch self {
        case .machineRegistered: return [.identity]
        case .mediaRegistered, .mobileDevices, .mediaEncrypted: return [.devices, .identity]
        }
    }

    func refine(_ request: inout HostFacts.Request) {
        switch self {
        case .mediaRegistered(let days), .mobileDevices(let days):
            request.deviceHistoryDays = max(request.deviceHistoryDays, days)
        case .machineRegistered, .mediaEncrypted: break
        }
    }

    func evaluate(_ rule: Rule, in context: EvaluationContext) -> Finding {
        let facts = context.facts
        let issues = context.issues(from: sources)
        /// The ledger rules need the ledger: without it they cannot be checked.
        func withLedger(_ evaluate: (Ledger) -> Finding) -> Finding {
            guard case .loaded(let book) = context.ledger else {
                return Self.missingLedger(rule, ledger: context.ledger, issues: issues)
            }
            return evaluate(book)
        }
        switch self {
        case .mobileDevices:
            return mobileDevices(rule, facts: facts, issues: issues)
        case .machineRegistered:
            return withLedger { book in
                let identity = facts.identity
                if let machine = book.machine(id: identity.machineID, serial: identity.dmiSerial) {
                    return Evaluator.finding(
                        rule, status: .pass,
                        evidence: [
                            Evidence(
                                source: .state, software: "", item: machine.label,
                                note: Localized(
                                    ja: "台帳に登録済み" + (machine.owner.map { " (管理者 \($0))" } ?? ""),
                                    en: "registered in the ledger" + (machine.owner.map { " (owner \($0))" } ?? "")))
                        ], issues: issues)
                }
                let shown = "machine-id \(identity.machineID)" + (identity.dmiSerial.map { ", serial \($0)" } ?? "")
                return Evaluator.finding(
                    rule, status: Evaluator.violated(rule),
                    evidence: [
                        Evidence(
                            source: .state, software: "", item: shown,
                            note: Localized(
                                ja: "この PC は台帳に登録されていません (私物 PC の可能性)",
                                en: "this PC is not in the ledger (a private PC?)"))
                    ],
                    issues: issues)
            }
        case .mediaRegistered:
            return withLedger { book in
                var evidence: [Evidence] = []
                for device in facts.usbDevices
                where device.kinds.contains(.storage) && book.medium(device.ledgerID) == nil {
                    evidence.append(
                        deviceEvidence(device.displayName, id: device.ledgerID, kinds: device.kinds, time: nil))
                }
                var seen = Set(evidence.map(\.item))
                for connection in facts.usbHistory
                where connection.kinds.contains(.storage) && book.medium(connection.ledgerID) == nil {
                    guard seen.insert(connection.ledgerID + "@\(connection.time)").inserted else { continue }
                    evidence.append(
                        deviceEvidence(
                            name(connection), id: connection.ledgerID, kinds: connection.kinds, time: connection.time))
                }
                let status: Finding.Status =
                    !evidence.isEmpty
                    ? Evaluator.violated(rule)
                    : issues.contains { $0.level == .error } ? .error : .pass
                return Evaluator.finding(rule, status: status, evidence: evidence, issues: issues)
            }
        case .mediaEncrypted:
            return withLedger { book in
                var evidence: [Evidence] = []
                for device in facts.usbDevices where device.kinds.contains(.storage) {
                    guard let medium = book.medium(device.ledgerID), medium.encrypted,
                        !device.disks.contains(where: \.encrypted)
                    else { continue }
                    evidence.append(
                        Evidence(
                            source: .device, software: "", item: device.ledgerID,
                            detail: device.disks.map(\.name).joined(separator: ","),
                            note: Localized(
                                ja: "\(medium.label): 暗号化が必要な媒体ですが LUKS で暗号化されていません",
                                en: "\(medium.label): must be encrypted but has no LUKS volume")))
                }
                return Evaluator.finding(
                    rule, status: evidence.isEmpty ? .pass : Evaluator.violated(rule), evidence: evidence,
                    issues: issues)
            }
        }
    }

    private func mobileDevices(_ rule: Rule, facts: HostFacts, issues: [FactIssue]) -> Finding {
        var evidence: [Evidence] = []
        for device in facts.usbDevices where !device.kinds.isDisjoint(with: [.phone, .tethering]) {
            evidence.append(deviceEvidence(device.displayName, id: device.ledgerID, kinds: device.kinds, time: nil))
        }
        for connection in facts.usbHistory where connection.kinds.contains(.tethering) {
            evidence.append(
                deviceEvidence(
                    name(connection), id: connection.ledgerID, kinds: connection.kinds, time: connection.time))
        }
        for pairing in facts.bluetoothPairings {
            evidence.append(
                Evidence(
                    source: .device, software: "", item: pairing.address,
                    note: Localized(
                        ja: "Bluetooth ペアリング済み: \(pairing.name ?? "(名前なし)")",
                        en: "Bluetooth pairing: \(pairing.name ?? "(no name)")")))
        }
        return Evaluator.finding(
            rule, status: evidence.isEmpty ? .pass : Evaluator.violated(rule), evidence: evidence, issues: issues)
    }

    private static func missingLedger(_ rule: Rule, ledger: LedgerState, issues: [FactIssue]) -> Finding {
        Evaluator.finding(rule, status: .error, evidence: [], issues: issues + ledger.problems)
    }

    private func name(_ connection: UsbConnection) -> String {
        let label = [connection.manufacturer, connection.product].compactMap { $0 }.joined(separator: " ")
        return (label.isEmpty ? "" : label + " ") + "(\(connection.vendorID):\(connection.productID)"
            + (connection.serial.map { " serial \($0)" } ?? "") + ")"
    }

    private func deviceEvidence(_ name: String, id: String, kinds: Set<UsbDevice.Kind>, time: Int?) -> Evidence {
        let what = kinds.sorted().map(\.rawValue).joined(separator: ",")
        let when =
            time.map { Localized(ja: "\(Timestamp.date($0)) に接続", en: "connected \(Timestamp.date($0))") }
            ?? Localized(ja: "接続中", en: "connected now")
        return Evidence(
            source: .device, software: "", item: id, detail: what,
            note: Localized(
                ja: "\(name) [\(what)] \(when.ja)", en: "\(name) [\(what)] \(when.en)"))
    }
}
