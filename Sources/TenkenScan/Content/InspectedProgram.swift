import TenkenBase

/// A program whose content showed one of the catalog's marks: an engine library it links, or
/// protocol signatures it carries, or a Windows program's version resource. Only such files are kept.
public struct InspectedProgram: Sendable {
    /// What the file is, as far as inspection goes.
    public enum Format: String, Sendable {
        case elf
        /// A script (#!): searched whole.
        case script
        /// Anything else with an execute bit: searched whole.
        case other
        /// A Windows program (PE): its version resource is read, and it is searched whole.
        case windows
        /// An AppImage: its runtime is searched, and the programs in its SquashFS image inspected.
        case appImage
    }

    /// Whether dpkg knows the file.
    public enum Ownership: Sendable, Hashable {
        /// No installed package lists it.
        case unowned
        /// A package lists it, but its content is not what dpkg installed (its md5sum differs).
        case replaced(package: String)
        /// A package lists it and it changed since, with no md5sum to check it against.
        case unverifiable(package: String)
    }

    public let file: ExecutableFile
    public let format: Format
    public let ownership: Ownership
    /// DT_NEEDED entries naming an engine, with the engine's index in the rules.
    public let linked: [(library: String, engine: Int)]
    /// DT_RPATH and DT_RUNPATH entries naming an engine's library, with the engine's index.
    public let searchPaths: [(path: String, engine: Int)]
    /// Signatures found, by protocol.
    public let signatures: [SignatureID]
    /// A Windows program's version strings (ProductName, OriginalFilename, ...).
    public let windows: WindowsVersionInfo?
    /// What an AppImage holds: its desktop entries, its programs, which of them carried a mark.
    public let appImage: AppImageContents?
}
