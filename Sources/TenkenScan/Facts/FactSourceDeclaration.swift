import TenkenBase

/// One fact source, declared once (osquery's tables are the model): its name, what turns it
/// on, what it needs read before it, what it fills in `HostFacts`, when in a collection it runs,
/// and the one function that reads it. `HostFacts.collect`, the benchmark's per-phase timings,
/// the coverage in reports and the evaluator's check that a rule's sources were read all go
/// through these declarations.
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

        /// Stages whose sources read into facts of their own thread, taken over with `adopt`.
        public var isBackground: Bool { self == .packages || self == .besidePackages }
    }

    /// Whether the source is read for every check or only when a rule asks for it.
    public enum Activation: Sendable {
        case always
        case whenRequested
    }

    public let source: FactSource
    public let activation: Activation
    public let stage: Stage
    /// Sources whose facts this one reads: they come first in the registry's order.
    public let needs: [FactSource]
    /// The `HostFacts` properties it fills.
    public let produces: [String]
    private let generate: @Sendable (HostRoot, HostFacts.Request, inout HostFacts) -> Void
    /// For a background stage: copies what the source filled from its thread's facts into the
    /// caller's (issues and the record of what was read are taken over for every source).
    let adopt: (@Sendable (inout HostFacts, HostFacts) -> Void)?

    init(
        _ source: FactSource, _ activation: Activation, _ stage: Stage, needs: [FactSource] = [],
        produces: [String], adopt: (@Sendable (inout HostFacts, HostFacts) -> Void)? = nil,
        generate: @escaping @Sendable (HostRoot, HostFacts.Request, inout HostFacts) -> Void
    ) {
        self.source = source
        self.activation = activation
        self.stage = stage
        self.needs = needs
        self.produces = produces
        self.adopt = adopt
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
