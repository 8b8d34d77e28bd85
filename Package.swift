// swift-tools-version:6.0
import PackageDescription

// Programs bind every symbol at load (BIND_NOW, with the default RELRO: the dynamic symbol table
// is read-only once loaded), as Debian's hardening flags ask of installed programs.
let bindNow: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "now"])]
// The C shims use glibc's checked memory and string functions in optimized builds.
let fortify: [CSetting] = [.define("_FORTIFY_SOURCE", to: "2", .when(configuration: .release))]

// Tests reach their module and whatever they need to build inputs for it (a collector test
// makes its reports with a real check).
let testDependencies: [Target.Dependency] = [
    "TenkenBase", "TenkenScan", "TenkenCollector", "TenkenTestSupport",
    .product(name: "Crypto", package: "swift-crypto"), .product(name: "GRDB", package: "GRDB.swift"),
]

let package = Package(
    name: "tenken",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tenken", targets: ["tenken"]),
        .executable(name: "tenken-agent", targets: ["tenken-agent"]),
        .executable(name: "tenken-collector", targets: ["tenken-collector"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // The agent's HTTPS client (NIO + BoringSSL, linked statically: no libcurl/krb5/ldap to
        // load on every `tenken check`).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Collector only: the agent (`tenken`) links none of these.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // HTTP parts as Hummingbird's pipeline passes them (the collector's connection deadlines).
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The collector's own background work beside the server (Hummingbird runs on it already).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // libsystemd (libsystemd-dev): the journal, device enumeration and monitoring, sd_notify.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // libsodium (libsodium-dev): whether 32 bytes are a point of Ed25519's prime-order subgroup, which
        // BoringSSL (swift-crypto) does not say of a key it imports.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        // libyaml from Debian (libyaml-dev): the parser Yams wraps, without the Foundation and ICU
        // that Yams links, which cost every `tenken check` milliseconds and 60 MB.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // gzip/lz4/zstd/xz with the libraries apt uses, for apt lists stored compressed.
        .target(
            name: "CCompression",
            cSettings: fortify,
            linkerSettings: [
                .linkedLibrary("z"), .linkedLibrary("lz4"), .linkedLibrary("zstd"), .linkedLibrary("lzma"),
            ]
        ),
        // Debian's libsquashfs (libsquashfs-dev, squashfs-tools-ng): the SquashFS image of an AppImage,
        // read through the descriptor tenken opened (gzip, xz, zstd, lz4, lzo images).
        .target(name: "CSquashFS", cSettings: fortify, linkerSettings: [.linkedLibrary("squashfs")]),
        // openat2(RESOLVE_IN_ROOT): every host read stays inside --root, even through absolute symlinks.
        .target(name: "CRootedIO", cSettings: fortify),
        .target(name: "CProcessMemory", cSettings: fortify),
        // The default policy and software catalog, compiled into the binary so `tenken check` needs no files.
        .target(
            name: "TenkenPolicies",
            path: "Policies",
            exclude: ["README.md"],
            resources: [
                .embedInCode("default.yaml"),
                .embedInCode("catalog/p2p.yaml"),
                .embedInCode("catalog/cloud-sync.yaml"),
                .embedInCode("catalog/remote-access.yaml"),
                .embedInCode("catalog/antivirus.yaml"),
                .embedInCode("catalog/on-access.yaml"),
                .embedInCode("contracts.json"),
                .embedInCode("distro-info/debian.csv"),
                .embedInCode("distro-info/ubuntu.csv"),
            ]
        ),
        // The base layer: localized text, the report model, the JSON reader, JWS signing, zstd,
        // atomic writes. It links none of the host-scanning C libraries, so the collector,
        // which needs only these, does not carry libsystemd, libyaml or the openat2 shims.
        .target(
            name: "TenkenBase",
            dependencies: [
                "CCompression",
                "CSodium",
                "TenkenPolicies",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The scanning layer: the host root, the fact sources and their registry, policies,
        // rule evaluation and the check pipeline.
        .target(
            name: "TenkenScan",
            dependencies: [
                "TenkenBase",
                "CCompression",
                "CRootedIO",
                "CSquashFS",
                "CSystemd",
                "CYAML",
                "TenkenPolicies",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The agent: enrollment, delivery of the spool over HTTPS, the service loop.
        .target(
            name: "TenkenAgent",
            dependencies: [
                "TenkenBase",
                "TenkenScan",
                "CSystemd",
                "CProcessMemory",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // What the executables share: stderr/stdout writes, exit codes, the --lang option.
        .target(
            name: "TenkenCommandLine",
            dependencies: ["TenkenBase", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // `tenken check`, verify, ledger: no HTTPS client, so the check starts fast.
        .executableTarget(
            name: "tenken", dependencies: ["TenkenBase", "TenkenScan", "TenkenCommandLine"], linkerSettings: bindNow),
        // `tenken enroll` and `tenken agent` (tenken runs this program for them).
        .executableTarget(
            name: "tenken-agent", dependencies: ["TenkenBase", "TenkenScan", "TenkenAgent", "TenkenCommandLine"],
            linkerSettings: bindNow),
        // The collector: HTTPS (Hummingbird 2 + NIOSSL), enrollment, verified ingest, SQLite (GRDB).
        .target(
            name: "TenkenCollector",
            dependencies: [
                "TenkenBase",
                "CProcessMemory",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "tenken-collector",
            dependencies: ["TenkenBase", "TenkenCollector", "TenkenCommandLine"],
            linkerSettings: bindNow
        ),
        // Benchmarks run against their named peer (dpkg-query, apt) in one run, and the collector's
        // ingest against its goal; not part of `swift test`.
        .executableTarget(
            name: "tenken-bench", dependencies: ["TenkenBase", "TenkenScan", "TenkenAgent", "TenkenCollector"]),
        // What the test targets share: fixture roots, scratch trees, running programs, the loopback
        // collector, and the `Needs` traits for tests that use an installed tool.
        .target(
            name: "TenkenTestSupport",
            dependencies: [
                "TenkenBase", "TenkenScan", "TenkenCollector", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/TenkenTestSupport"
        ),
        // One test target per module; fixture roots (Tests/Fixtures) are read in place.
        .testTarget(name: "TenkenBaseTests", dependencies: testDependencies),
        .testTarget(name: "TenkenScanTests", dependencies: testDependencies),
        .testTarget(name: "TenkenAgentTests", dependencies: testDependencies + ["TenkenAgent"]),
        .testTarget(
            name: "TenkenCollectorTests",
            dependencies: testDependencies + [.product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(name: "TenkenCommandLineTests", dependencies: testDependencies + ["TenkenCommandLine"]),
    ]
)
