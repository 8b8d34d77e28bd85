import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("devices and ledger")
struct DeviceTests {
    private func report(_ path: String, ledger: LedgerState? = nil) throws -> CheckReport {
        Check.run(root: try HostRoot(path), policy: try PolicyLoader.loadDefault(), now: Fixture.now, ledger: ledger)
    }

    private func cleanLedger() throws -> Ledger {
        guard case .loaded(let ledger) = LedgerFile.load(file: Fixture.path("debian-clean") + "/etc/tenken/ledger.yaml")
        else {
            throw CouldNotLoad()
        }
        return ledger
    }

    struct CouldNotLoad: Error {}

    @Test("sysfs: ids, strings, interfaces and kinds; hubs skipped; odd values kept")
    func sysfs() throws {
        let facts = HostFacts.collect(
            from: try Fixture.root("workstation"), request: HostFacts.Request(sources: [.devices]))
        #expect(facts.usbDevices.map(\.busPath) == ["1-2", "1-3", "1-5", "1-6"])
        let stick = try #require(facts.usbDevices.first { $0.busPath == "1-2" })
        #expect(stick.ledgerID == "0781:5581:4C530001230804117513")
        #expect(stick.kinds == [.storage])
        #expect(stick.interfaces.first?.driver == "usb-storage")
        #expect(stick.disks == [UsbDevice.Disk(name: "sdc", encrypted: false)])
        #expect(facts.usbDevices.first { $0.busPath == "1-3" }?.kinds == [.phone])
        let cheap = try #require(facts.usbDevices.first { $0.busPath == "1-5" })
        #expect(cheap.serial == nil && cheap.product == "Flash\\xff Disk" && cheap.ledgerID == "090c:1000:")
        #expect(facts.bluetoothPairings.map(\.name) == ["Pixel 7"])
    }

    @Test("LUKS through an open dm-crypt holder")
    func luks() throws {
        let facts = HostFacts.collect(
            from: try Fixture.root("debian-clean"), request: HostFacts.Request(sources: [.devices]))
        #expect(facts.usbDevices.first?.disks == [UsbDevice.Disk(name: "sdb", encrypted: true)])
        #expect(facts.identity.dmiSerial == "PF2ABC12")
    }

    @Test("a registered clean machine with its registered encrypted medium passes")
    func cleanMachine() throws {
        let result = try report(Fixture.path("debian-clean"))
        for rule in ["machine-registered", "media-registered", "mobile-devices", "registered-media-encrypted"] {
            #expect(result.finding(rule)?.status == .pass, "\(rule)")
        }
    }

    @Test("unregistered PC, unregistered media (duplicate serials both shown), phone and pairing reported")
    func workstation() throws {
        var ledger = try cleanLedger()
        ledger.machines = []
        let result = try report(Fixture.path("workstation"), ledger: .loaded(ledger))
        #expect(result.finding("machine-registered")?.status == .fail)
        let media = try #require(result.finding("media-registered"))
        #expect(media.status == .fail)
        #expect(
            media.evidence.map(\.item) == [
                "0781:5581:4C530001230804117513", "090c:1000:", "0781:5581:4C530001230804117513",
            ])
        let mobile = try #require(result.finding("mobile-devices"))
        #expect(mobile.status == .warn)
        #expect(mobile.evidence.map(\.item) == ["18d1:4ee1:2A121FDH2005XY", "A4:C1:38:00:11:22"])
    }

    @Test("a registered medium marked encrypted without LUKS fails")
    func unencryptedMedium() throws {
        var ledger = try cleanLedger()
        ledger.media.append(
            Ledger.Medium(device: "0781:5581:4C530001230804117513", label: "USBメモリ-07", owner: nil, encrypted: true))
        let result = try report(Fixture.path("workstation"), ledger: .loaded(ledger))
        let finding = try #require(result.finding("registered-media-encrypted"))
        #expect(finding.status == .fail)
        #expect(finding.evidence.first?.note?.ja.contains("USBメモリ-07") == true)
    }

    @Test(
        "history from a real journal file: storage and tethering since the window, older ones ignored",
        Needs.programs("/lib/systemd/systemd-journal-remote"))
    func journalHistory() throws {
        let scratch = try Fixture.copy("debian-clean")
        let journalDirectory = scratch.path + "/var/log/journal/5f3c8e1a9b2d4c6e8f0a1b2c3d4e5f60"
        try FileManager.default.createDirectory(atPath: journalDirectory, withIntermediateDirectories: true)
        var export = ""
        func entry(_ seconds: Int, _ message: String) {
            export +=
                "__REALTIME_TIMESTAMP=\(seconds * 1_000_000)\n__MONOTONIC_TIMESTAMP=\(seconds % 100_000 * 1_000_000)\n"
                + "_BOOT_ID=0123456789abcdef0123456789abcdef\n_TRANSPORT=kernel\nSYSLOG_IDENTIFIER=kernel\nPRIORITY=6\n"
                + "MESSAGE=\(message)\n\n"
        }
        let now = Fixture.now
        entry(now - 40 * 86_400, "usb 1-4: New USB device found, idVendor=1234, idProduct=5678, bcdDevice= 1.00")
        entry(now - 40 * 86_400 + 1, "usb-storage 1-4:1.0: USB Mass Storage device detected")
        entry(now - 3 * 86_400, "usb 1-2: new high-speed USB device number 5 using xhci_hcd")
        entry(now - 3 * 86_400 + 1, "usb 1-2: New USB device found, idVendor=0781, idProduct=5581, bcdDevice= 1.00")
        entry(now - 3 * 86_400 + 1, "usb 1-2: Product: Ultra")
        entry(now - 3 * 86_400 + 1, "usb 1-2: Manufacturer: SanDisk")
        entry(now - 3 * 86_400 + 1, "usb 1-2: SerialNumber: 4C530001230804117513")
        entry(now - 3 * 86_400 + 2, "usb-storage 1-2:1.0: USB Mass Storage device detected")
        entry(now - 3 * 86_400 + 60, "usb 1-2: USB disconnect, device number 5")
        entry(now - 86_400, "usb 1-3: New USB device found, idVendor=18d1, idProduct=4eeb, bcdDevice= 4.40")
        entry(now - 86_400 + 1, "usb 1-3: SerialNumber: 2A121FDH2005XY")
        entry(
            now - 86_400 + 2,
            "rndis_host 1-3:1.0 usb0: register 'rndis_host' at usb-0000:00:14.0-3, RNDIS device, 9a:7e:1b:22:33:44")
        try scratch.write("export.txt", export)
        let built = try run([
            "/lib/systemd/systemd-journal-remote", "--output=" + journalDirectory + "/remote.journal",
            scratch.path + "/export.txt",
        ])
        #expect(built.status == 0, "\(built.error)")

        let result = try report(scratch.path)
        let media = try #require(result.finding("media-registered"))
        #expect(media.status == .fail)
        #expect(media.evidence.map(\.item) == ["0781:5581:4C530001230804117513"])
        #expect(media.evidence.first?.note?.en.contains("SanDisk Ultra") == true)
        let mobile = try #require(result.finding("mobile-devices"))
        #expect(mobile.evidence.map(\.item) == ["18d1:4eeb:2A121FDH2005XY"])
        #expect(mobile.evidence.first?.detail == "tethering")
    }

    @Test("ledger file: strict parse, atomic save round trip, USBGuard rules")
    func ledgerFile() throws {
        let scratch = try ScratchTree()
        let ledger = Ledger(
            machines: [Ledger.Machine(machineID: "abc", serial: nil, label: "PC \"1\"", owner: "佐藤")],
            media: [Ledger.Medium(device: "0781:5581:AbC\\1", label: "USB-1", owner: nil, encrypted: true)])
        try LedgerFile.save(ledger, to: scratch.path + "/ledger.yaml")
        guard case .loaded(let read) = LedgerFile.load(file: scratch.path + "/ledger.yaml") else {
            throw CouldNotLoad()
        }
        #expect(read == ledger)
        #expect(ledger.usbguardRules == "allow id 0781:5581 serial \"AbC\\\\1\" # USB-1\n")
        #expect(ledger.medium("0781:5581:AbC\\1") != nil && ledger.medium("0781:5581:abc\\1") == nil)
        #expect(
            ledger.medium("0781:5581:AbC\\1")
                == ledger.medium("0781:5581:AbC\\1".uppercased().replacing("ABC", with: "AbC")))
        try scratch.write("bad.yaml", "machines:\n  - label: x\n    colour: red\n")
        guard case .invalid(let error) = LedgerFile.load(file: scratch.path + "/bad.yaml") else { throw CouldNotLoad() }
        #expect(error.message.contains("unknown key 'colour'"))
        try scratch.write("nomachine.yaml", "machines:\n  - label: x\n")
        guard case .invalid = LedgerFile.load(file: scratch.path + "/nomachine.yaml") else { throw CouldNotLoad() }
    }

    @Test("tenken ledger commands register this machine and export USBGuard rules")
    func ledgerCommands() throws {
        let scratch = try Fixture.copy("workstation")
        let binary = Programs.tenken
        let add = try run([
            binary, "ledger", "add-machine", "--root", scratch.path, "--label", "開発PC-02", "--owner", "鈴木",
        ])
        #expect(add.status == 0, "\(add.error)")
        // Several connected
        #expect(try run([binary, "ledger", "add-device", "--root", scratch.path, "--label", "x"]).status == 2)
        #expect(
            try run([
                binary, "ledger", "add-device", "--root", scratch.path, "--device", "0781:5581:4C530001230804117513",
                "--label", "USBメモリ-05", "--encrypted",
            ]).status == 0)
        let rules = try run([binary, "ledger", "export-usbguard", "--root", scratch.path])
        #expect(rules.output == "allow id 0781:5581 serial \"4C530001230804117513\" # USBメモリ-05\n")
        let check = Check.run(
            root: try HostRoot(scratch.path), policy: try PolicyLoader.loadDefault(), now: Fixture.now)
        #expect(check.finding("machine-registered")?.status == .pass)
        #expect(check.finding("registered-media-encrypted")?.status == .fail)
    }
}
