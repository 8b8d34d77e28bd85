import TenkenBase

/// Every fact source, in reading order: the order of `FactSource`'s cases, within each stage.
public enum FactSourceRegistry {
    public static let all: [FactSourceDeclaration] = FactSource.allCases.map(declaration)

    /// The one declaration of each source (the switch is exhaustive: a new source needs one).
    public static func declaration(of source: FactSource) -> FactSourceDeclaration {
        switch source {
        case .dpkg:
            return .init(
                .dpkg, .always, .packages, produces: ["dpkgAvailable", "debianPackages", "installedPackageNames"],
                adopt: { facts, read in
                    facts.dpkgAvailable = read.dpkgAvailable
                    facts.debianPackages = read.debianPackages
                    facts.installedPackageNames = read.installedPackageNames
                },
                generate: { root, _, facts in DpkgSource.collect(root, into: &facts) })
        case .snap:
            return .init(
                .snap, .always, .packages, produces: ["snaps"], adopt: { $0.snaps = $1.snaps },
                generate: { root, _, facts in SnapSource.collect(root, into: &facts) })
        case .identity:
            return .init(.identity, .always, .host, produces: ["identity"]) { root, _, facts in
                IdentitySource.collect(root, into: &facts)
            }
        case .files:
            // Home directories first: the program walk looks inside them too.
            return .init(.files, .always, .host, produces: ["homes", "identity.userNames", "executables"]) {
                root, request, facts in
                HomeDirectorySource.collect(root, into: &facts)
                ExecutableSource.collect(root, request: request, into: &facts)
            }
        case .flatpak:
            return .init(.flatpak, .always, .host, needs: [.files], produces: ["flatpaks"]) { root, _, facts in
                FlatpakSource.collect(root, into: &facts)
            }
        case .sockets:
            return .init(.sockets, .always, .host, produces: ["listeningSockets"]) { root, _, facts in
                SocketSource.collect(root, into: &facts)
            }
        case .processes:
            // After the sockets, so only the inodes of listening sockets are looked up in /proc/PID/fd.
            return .init(
                .processes, .always, .host, needs: [.sockets, .files],
                produces: ["processes", "listeningSockets.pids"]
            ) { root, request, facts in ProcessSource.collect(root, request: request, into: &facts) }
        case .paths:
            return .init(.paths, .always, .host, needs: [.files], produces: ["probedPaths"]) { root, request, facts in
                PathProbe.collect(root, paths: request.probePaths, into: &facts)
            }
        case .content:
            return .init(
                .content, .whenRequested, .afterPackages, needs: [.dpkg, .files], produces: ["inspectedPrograms"]
            ) { root, request, facts in ProgramContentSource.collect(root, request: request, into: &facts) }
        case .antivirus:
            return .init(.antivirus, .whenRequested, .host, produces: ["clamav"]) { root, _, facts in
                ClamAVSource.collect(root, into: &facts)
            }
        case .devices:
            return .init(
                .devices, .whenRequested, .host, produces: ["usbDevices", "bluetoothPairings", "usbHistory"]
            ) { root, request, facts in
                UsbSysfsSource.collect(root, into: &facts)
                BluetoothSource.collect(root, into: &facts)
                if request.deviceHistoryDays > 0 {
                    UsbHistorySource.collect(root, sinceDays: request.deviceHistoryDays, now: request.now, into: &facts)
                }
            }
        case .disks: return control(.disks, produces: ["mounts"], DiskEncryptionSource.collect)
        case .accounts:
            return control(
                .accounts, produces: ["emptyPasswordAccounts", "shadowReadable", "autologins"],
                AuthenticationSource.collect)
        case .groups: return control(.groups, produces: ["privilegedMembers"], GroupSource.collect)
        case .desktop: return control(.desktop, produces: ["screenLock"], ScreenLockSource.collect)
        case .sshd: return control(.sshd, produces: ["sshd"], SshdSource.collect)
        case .logs: return control(.logs, produces: ["logRetention"], LogRetentionSource.collect)
        case .firewall: return control(.firewall, produces: ["firewalls"], FirewallSource.collect)
        case .release:
            return .init(.release, .whenRequested, .afterPackages, needs: [.dpkg], produces: ["release"]) {
                root, _, facts in ReleaseSource.collect(root, into: &facts)
            }
        case .apt:
            return .init(
                .apt, .whenRequested, .besidePackages, needs: [.dpkg], produces: ["apt"], adopt: { $0.apt = $1.apt },
                generate: { root, request, facts in
                    AptSource.collect(root, request: request, into: &facts)
                })
        }
    }

    /// A host-control source: reads through a `ControlReader` (what it cannot read becomes an
    /// issue of this source) into `hostControls`, knowing the installed packages.
    private static func control(
        _ source: FactSource, produces: [String],
        _ read: @escaping @Sendable (inout ControlReader, Set<String>, inout HostControlFacts) -> Void
    ) -> FactSourceDeclaration {
        .init(source, .whenRequested, .afterPackages, needs: [.dpkg], produces: produces.map { "hostControls." + $0 }) {
            root, _, facts in
            var reader = ControlReader(root)
            var controls = facts.hostControls ?? HostControlFacts()
            read(&reader, facts.installedPackageNames, &controls)
            facts.hostControls = controls
            facts.issues += reader.issues
        }
    }
}
