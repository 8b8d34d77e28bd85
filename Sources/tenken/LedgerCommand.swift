import ArgumentParser
import TenkenBase
import TenkenCommandLine
import TenkenScan

/// Maintains the ledger (台帳) file: register this PC and connected media, export USBGuard rules.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: HelpText.pick(
            ja: "この PC と USB 媒体を台帳に登録する。USBGuard のルールを出力する。",
            en: "Register this PC and USB media in the ledger (台帳); export USBGuard rules."),
        subcommands: [AddMachine.self, AddDevice.self, ExportUSBGuard.self]
    )

    struct Location: ParsableArguments {
        @Option(name: .long, help: .text(ja: "端末と機器の情報を読むルート。", en: "Root whose machine and devices are read."))
        var root: String = "/"

        @Option(
            name: .long,
            help: .text(
                ja: "台帳ファイル (既定: ルート内の /etc/tenken/ledger.yaml)。",
                en: "Ledger file (default: /etc/tenken/ledger.yaml under the root)."))
        var ledger: String?

        var path: String { ledger ?? (root == "/" ? "" : root) + Ledger.defaultPath }

        func load() throws -> Ledger {
            switch LedgerFile.load(file: path) {
            case .loaded(let ledger): return ledger
            case .missing: return Ledger()
            case .invalid(let error): throw CommandFailure(message: "cannot read the ledger: \(error)")
            }
        }

        func save(_ ledger: Ledger) throws {
            do { try LedgerFile.save(ledger, to: path) } catch {
                throw CommandFailure(message: "cannot write the ledger: \(error)")
            }
            FileDescriptorOutput.standardOutput.write("\(path) updated\n")
        }
    }

    struct AddMachine: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-machine",
            abstract: HelpText.pick(
                ja: "この PC を登録する (machine-id と DMI シリアル)。",
                en: "Register this PC (machine-id and DMI serial)."))

        @OptionGroup var location: Location
        @Option(
            name: .long,
            help: .text(
                ja: "台帳での PC の名前 (例: 開発PC-01)。",
                en: "Name of the PC in the ledger, e.g. 開発PC-01.")) var label: String
        @Option(name: .long, help: .text(ja: "管理責任者。", en: "Person responsible.")) var owner: String?

        func run() throws {
            let identity = try HostIdentityReader.read(location.root)
            var ledger = try location.load()
            ledger.machines.removeAll { $0.machineID == identity.machineID && !identity.machineID.isEmpty }
            ledger.machines.append(
                Ledger.Machine(
                    machineID: identity.machineID.isEmpty ? nil : identity.machineID,
                    serial: identity.dmiSerial, label: label, owner: owner))
            try location.save(ledger)
        }
    }

    struct AddDevice: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-device",
            abstract: HelpText.pick(
                ja: "USB 記憶媒体を登録する: --device vendor:product:serial で指定、または今接続している媒体。",
                en: "Register a USB storage device: by --device vendor:product:serial, or the one connected now."))

        @OptionGroup var location: Location
        @Option(
            name: .long,
            help: .text(
                ja: "vendor:product:serial (点検結果の根拠に出る形式)。",
                en: "vendor:product:serial, as in a check's evidence.")) var device: String?
        @Option(
            name: .long,
            help: .text(
                ja: "媒体の名前 (例: USBメモリ-03)。",
                en: "Name of the medium, e.g. USBメモリ-03.")) var label: String
        @Option(name: .long, help: .text(ja: "管理責任者。", en: "Person responsible.")) var owner: String?
        @Flag(
            name: .long,
            help: .text(
                ja: "この媒体は LUKS で暗号化されていなければならない。",
                en: "The medium must be LUKS-encrypted.")) var encrypted = false

        func run() throws {
            let id: String
            if let device {
                guard device.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).count == 3 else {
                    throw CommandFailure(
                        message: "--device takes vendor:product:serial, e.g. 0781:5581:4C530001230804117513")
                }
                id = Ledger.normalized(device)
            } else {
                let root = try HostRoot(location.root)
                let storage = HostFacts.collect(from: root, request: HostFacts.Request(sources: [.devices])).usbDevices
                    .filter { $0.kinds.contains(.storage) }
                guard storage.count == 1 else {
                    let listed = storage.map { "  \($0.ledgerID)  \($0.displayName)" }.joined(separator: "\n")
                    throw CommandFailure(
                        message: storage.isEmpty
                            ? "no USB storage device is connected"
                            : "several storage devices are connected; choose one with --device:\n" + listed)
                }
                id = storage[0].ledgerID
            }
            var ledger = try location.load()
            ledger.media.removeAll { Ledger.normalized($0.device) == id }
            ledger.media.append(Ledger.Medium(device: id, label: label, owner: owner, encrypted: encrypted))
            try location.save(ledger)
        }
    }

    struct ExportUSBGuard: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-usbguard",
            abstract: HelpText.pick(
                ja: "登録済み媒体を許可する USBGuard のルールを出力する。",
                en: "Print USBGuard allow rules for the registered media."))

        @OptionGroup var location: Location

        func run() throws {
            FileDescriptorOutput.standardOutput.write(try location.load().usbguardRules)
        }
    }
}

/// This machine's identity as the ledger records it.
enum HostIdentityReader {
    static func read(_ root: String) throws -> HostIdentity {
        do {
            return IdentitySource.identity(of: try HostRoot(root))
        } catch {
            throw CommandFailure(message: "cannot open root: \(error)")
        }
    }
}
