import TenkenBase

/// One fact source, declared once (osquery's tables are the model): its name, what turns it
/// on, what it fills in `HostFacts`, when in a collection it runs, and the one function that
/// reads it. `HostFacts.collect`, the benchmark's per-phase timings, the coverage in reports and
/// the evaluator's check that a rule's sources were read all go through these declarations.
public struct FactSourceDeclaration: Sendable {
    /// When a source can run: some need the installed packages, some are slow enough to run
    /// on the other core.
    public enum Stage: Sendable {
        /// Policy-independent package databases, read on another thread while the policy loads.
        case packages
        /// Read on the calling thread once the request is known.
        case host
        /// Needs the installed packages; read on the calling thread after them.
        case afterPackages
        /// Needs the installed packages and is slow (every apt list): read on the other thread,
        /// beside the host sources.
        case besidePackages
    }

    /// Whether the source is read for every check or only when a rule asks for it.
    public enum Activation: Sendable {
        case always
        case whenRequested
    }

    public let source: FactSource
    public let activation: Activation
    public let stage: Stage
    /// The `HostFacts` properties it fills.
    public let produces: [String]
    private let generate: @Sendable (HostRoot, HostFacts.Request, inout HostFacts) -> Void

    init(
        _ source: FactSource, _ activation: Activation, _ stage: Stage, produces: [String],
        generate: @escaping @Sendable (HostRoot, HostFacts.Request, inout HostFacts) -> Void
    ) {
        self.source = source
        self.activation = activation
        self.stage = stage
        self.produces = produces
        self.generate = generate
    }

    public var name: String { source.rawValue }

    public func isRequested(by request: HostFacts.Request) -> Bool {
        activation == .always || request.sources.contains(source)
    }

    /// Reads the source into `facts` and records that it was read.
    public func collect(_ root: HostRoot, _ request: HostFacts.Request, _ facts: inout HostFacts) {
        generate(root, request, &facts)
        facts.collected.insert(source)
    }
}

/// Every fact source, in reading order.
public enum FactSourceRegistry {
    public static let all: [FactSourceDeclaration] = FactSource.allCases.map(declaration)

    public static func declaration(of source: FactSource) -> FactSourceDeclaration {
        switch source {
        case .dpkg:
            return .init(.dpkg, .always, .packages, produces: ["dpkgAvailable", "debianPackages"]) { root, _, facts in
                DpkgSource.collect(root, into: &facts)
            }
        case .snap:
            return .init(.snap, .always, .packages, produces: ["snaps"]) { root, _, facts in
                SnapSource.collect(root, into: &facts)
            }
        case .identity:
            return .init(.identity, .always, .host, produces: ["identity"]) { root, _, facts in
                IdentitySource.collect(root, into: &facts)
            }
        case .files:
            // Home directories first: the Flatpak and path sources look inside them too.
            return .init(.files, .always, .host, produces: ["homes", "executables"]) { root, _, facts in
                HomeDirectorySource.collect(root, into: &facts)
                ExecutableSource.collect(root, into: &facts)
            }
        case .flatpak:
            return .init(.flatpak, .always, .host, produces: ["flatpaks"]) { root, _, facts in
                FlatpakSource.collect(root, into: &facts)
            }
        case .sockets:
            // Before the processes, so only the inodes of listening sockets are looked up in /proc/PID/fd.
            return .init(.sockets, .always, .host, produces: ["listeningSockets"]) { root, _, facts in
                SocketSource.collect(root, into: &facts)
            }
        case .processes:
            return .init(.processes, .always, .host, produces: ["processes", "listeningSockets.pids"]) {
                root, request, facts in
                ProcessSource.collect(root, request: request, into: &facts)
            }
        case .paths:
            return .init(.paths, .always, .host, produces: ["probedPaths"]) { root, request, facts in
                PathProbe.collect(root, paths: request.probePaths, into: &facts)
            }
        case .antivirus:
            return .init(.antivirus, .whenRequested, .host, produces: ["clamav"]) { root, _, facts in
                ClamAVSource.collect(root, into: &facts)
            }
        case .devices:
            return .init(.devices, .whenRequested, .host, produces: ["usbDevices", "bluetoothPairings", "usbHistory"]) {
                root, request, facts in
                UsbSysfsSource.collect(root, into: &facts)
                BluetoothSource.collect(root, into: &facts)
                if request.deviceHistoryDays > 0 {
                    UsbHistorySource.collect(root, sinceDays: request.deviceHistoryDays, now: request.now, into: &facts)
                }
            }
        case .disks:
            return control(.disks, produces: "mounts") { reader, controls, _ in
                DiskEncryptionSource.collect(&reader, into: &controls)
            }
        case .accounts:
            return control(.accounts, produces: "emptyPasswordAccounts, shadowReadable, autologins") {
                reader, controls, _ in
                AccountSource.collectAuthentication(&reader, into: &controls)
            }
        case .groups:
            return control(.groups, produces: "privilegedMembers") { reader, controls, _ in
                AccountSource.collectGroups(&reader, into: &controls)
            }
        case .desktop:
            return control(.desktop, produces: "screenLock") { reader, controls, packages in
                if packages.contains("gnome-shell") {
                    controls.screenLock = DesktopAndServiceSource.screenLock(&reader)
                }
            }
        case .sshd:
            return control(.sshd, produces: "sshd") { reader, controls, packages in
                if packages.contains("openssh-server") { controls.sshd = DesktopAndServiceSource.sshd(&reader) }
            }
        case .logs:
            return control(.logs, produces: "logRetention") { reader, controls, packages in
                controls.logRetention = DesktopAndServiceSource.logRetention(
                    &reader, rsyslog: packages.contains("rsyslog"))
            }
        case .firewall:
            return control(.firewall, produces: "firewalls") { reader, controls, packages in
                controls.firewalls = DesktopAndServiceSource.firewalls(&reader, packages: packages)
            }
        case .apt:
            return .init(.apt, .whenRequested, .besidePackages, produces: ["apt"]) { root, _, facts in
                AptSource.collect(root, into: &facts)
            }
        }
    }

    /// A host-control source: reads through a `ControlReader` (what it cannot read becomes an
    /// issue of this source) into `hostControls`, knowing the installed packages.
    private static func control(
        _ source: FactSource, produces: String,
        read: @escaping @Sendable (inout ControlReader, inout HostControlFacts, Set<String>) -> Void
    ) -> FactSourceDeclaration {
        .init(source, .whenRequested, .afterPackages, produces: ["hostControls: " + produces]) { root, _, facts in
            var reader = ControlReader(root)
            var controls = facts.hostControls ?? HostControlFacts()
            read(&reader, &controls, facts.installedPackageNames)
            facts.hostControls = controls
            facts.issues += reader.issues
        }
    }
}

extension HostFacts {
    /// Names of the Debian packages installed (or half-installed) now.
    var installedPackageNames: Set<String> { Set(debianPackages.filter(\.isPresent).map(\.name)) }
}
