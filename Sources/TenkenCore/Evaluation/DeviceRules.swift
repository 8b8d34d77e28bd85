/// Rules on the PC and its media against the ledger: 001 第6条5・6・8, 002 第11条(5)(10)オ,
/// 003 第14条(3)(7)(9).
enum DeviceRules {
    static func evaluate(_ rule: Rule, facts: HostFacts, ledger: LedgerState) -> Finding {
        let issues = facts.issues(from: [.devices, .identity])
        switch rule.kind {
        case .mobileDevices:
            var evidence: [Evidence] = []
            for device in facts.usbDevices where !device.kinds.isDisjoint(with: [.phone, .tethering]) {
                evidence.append(deviceEvidence(device.displayName, id: device.ledgerID, kinds: device.kinds, time: nil))
            }
            for connection in facts.usbHistory where connection.kinds.contains(.tethering) {
                evidence.append(deviceEvidence(name(connection), id: connection.ledgerID, kinds: connection.kinds, time: connection.time))
            }
            for pairing in facts.bluetoothPairings {
                evidence.append(Evidence(source: .device, software: "", item: pairing.address, note: Localized(
                    ja: "Bluetooth ペアリング済み: \(pairing.name ?? "(名前なし)")", en: "Bluetooth pairing: \(pairing.name ?? "(no name)")")))
            }
            return Evaluator.finding(rule, status: evidence.isEmpty ? .pass : Evaluator.violated(rule), evidence: evidence, issues: issues)
        default:
            break
        }
        guard case .loaded(let book) = ledger else { return missingLedger(rule, ledger: ledger, issues: issues) }
        switch rule.kind {
        case .machineRegistered:
            let identity = facts.identity
            if let machine = book.machine(id: identity.machineID, serial: identity.dmiSerial) {
                return Evaluator.finding(rule, status: .pass, evidence: [Evidence(source: .state, software: "", item: machine.label, note: Localized(
                    ja: "台帳に登録済み" + (machine.owner.map { " (管理者 \($0))" } ?? ""),
                    en: "registered in the ledger" + (machine.owner.map { " (owner \($0))" } ?? "")))], issues: issues)
            }
            let shown = "machine-id \(identity.machineID)" + (identity.dmiSerial.map { ", serial \($0)" } ?? "")
            return Evaluator.finding(rule, status: Evaluator.violated(rule), evidence: [Evidence(
                source: .state, software: "", item: shown, note: Localized(
                    ja: "この PC は台帳に登録されていません (私物 PC の可能性)", en: "this PC is not in the ledger (a private PC?)"))],
                issues: issues)
        case .mediaRegistered:
            var evidence: [Evidence] = []
            for device in facts.usbDevices where device.kinds.contains(.storage) && book.medium(device.ledgerID) == nil {
                evidence.append(deviceEvidence(device.displayName, id: device.ledgerID, kinds: device.kinds, time: nil))
            }
            var seen = Set(evidence.map(\.item))
            for connection in facts.usbHistory where connection.kinds.contains(.storage) && book.medium(connection.ledgerID) == nil {
                guard seen.insert(connection.ledgerID + "@\(connection.time)").inserted else { continue }
                evidence.append(deviceEvidence(name(connection), id: connection.ledgerID, kinds: connection.kinds, time: connection.time))
            }
            let status: Finding.Status = !evidence.isEmpty ? Evaluator.violated(rule)
                : issues.contains { $0.level == .error } ? .error : .pass
            return Evaluator.finding(rule, status: status, evidence: evidence, issues: issues)
        case .mediaEncrypted:
            var evidence: [Evidence] = []
            for device in facts.usbDevices where device.kinds.contains(.storage) {
                guard let medium = book.medium(device.ledgerID), medium.encrypted, !device.disks.contains(where: \.encrypted) else { continue }
                evidence.append(Evidence(source: .device, software: "", item: device.ledgerID, detail: device.disks.map(\.name).joined(separator: ","),
                                         note: Localized(ja: "\(medium.label): 暗号化が必要な媒体ですが LUKS で暗号化されていません",
                                                         en: "\(medium.label): must be encrypted but has no LUKS volume")))
            }
            return Evaluator.finding(rule, status: evidence.isEmpty ? .pass : Evaluator.violated(rule), evidence: evidence, issues: issues)
        default:
            return Evaluator.finding(rule, status: .notApplicable, evidence: [], issues: issues)
        }
    }

    private static func missingLedger(_ rule: Rule, ledger: LedgerState, issues: [FactIssue]) -> Finding {
        let message: Localized
        switch ledger {
        case .missing(let path):
            message = Localized(ja: "台帳 \(path) がありません (tenken ledger add-machine で作成してください)",
                                en: "no ledger at \(path) (create one with tenken ledger add-machine)")
        case .invalid(let error):
            message = Localized(ja: "台帳を読み込めません: \(error)", en: "cannot read the ledger: \(error)")
        case .loaded:
            message = Localized(ja: "", en: "")
        }
        return Evaluator.finding(rule, status: .error, evidence: [], issues: issues + [FactIssue(.identity, .error, message)])
    }

    private static func name(_ connection: UsbConnection) -> String {
        let label = [connection.manufacturer, connection.product].compactMap { $0 }.joined(separator: " ")
        return (label.isEmpty ? "" : label + " ") + "(\(connection.vendorID):\(connection.productID)"
            + (connection.serial.map { " serial \($0)" } ?? "") + ")"
    }

    private static func deviceEvidence(_ name: String, id: String, kinds: Set<UsbDevice.Kind>, time: Int?) -> Evidence {
        let what = kinds.sorted().map(\.rawValue).joined(separator: ",")
        let when = time.map { Localized(ja: "\(Timestamp.date($0)) に接続", en: "connected \(Timestamp.date($0))") }
            ?? Localized(ja: "接続中", en: "connected now")
        return Evidence(source: .device, software: "", item: id, detail: what, note: Localized(
            ja: "\(name) [\(what)] \(when.ja)", en: "\(name) [\(what)] \(when.en)"))
    }
}

/// The ledger as the check found it.
public enum LedgerState: Sendable {
    case loaded(Ledger)
    case missing(path: String)
    case invalid(PolicyError)
}
