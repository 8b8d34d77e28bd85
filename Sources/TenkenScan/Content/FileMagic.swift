/// What a file is by its first bytes, never by its name, suffix or mode: the walk reads
/// `headBytes` of every file no package vouches for and keeps those that can hold or run a
/// program for inspection.
enum FileMagic: Sendable, Equatable {
    /// An ELF program or shared object (ET_EXEC, ET_DYN), whatever its mode or name.
    case elf
    /// An ELF file that is neither (a relocatable object, a core dump): nothing the loader runs.
    case elfOther
    /// A Windows program (MZ), run by Wine whatever its suffix (.exe, .scr, .com, .dat).
    case windows
    /// A SquashFS image stored as a file, which a launcher can mount and run.
    case squashFS
    /// A script (#!), which may carry an archive or an encoded payload after its text.
    case script
    case other

    /// Bytes that decide: the ELF header's type field lies within the first 18.
    static let headBytes = 64
    /// Smaller files hold no program, image or payload worth the name (an ELF header alone is 52 bytes).
    static let minimumSize = 52

    init(_ head: some Collection<UInt8>) {
        let bytes = Array(head.prefix(Self.headBytes))
        if bytes.starts(with: ElfImage.magic) {
            guard bytes.count >= 18 else {
                self = .elf
                return
            }
            // e_type in the file's byte order (EI_DATA 2: big-endian).
            let type =
                bytes[5] == 2 ? UInt16(bytes[16]) << 8 | UInt16(bytes[17]) : UInt16(bytes[17]) << 8 | UInt16(bytes[16])
            // Anything but a relocatable object (1) or a core dump (4) is looked at (2, 3, and
            // values a loader may still accept).
            self = type == 1 || type == 4 ? .elfOther : .elf
        } else if bytes.starts(with: [0x4D, 0x5A]) {
            self = .windows
        } else if bytes.starts(with: Array("hsqs".utf8)) || bytes.starts(with: Array("sqsh".utf8)) {
            self = .squashFS
        } else if bytes.starts(with: [0x23, 0x21]) {
            self = .script
        } else {
            self = .other
        }
    }

    /// Whether the file is inspected: it runs, or holds what runs.
    var holdsProgram: Bool {
        switch self {
        case .elf, .windows, .squashFS, .script: return true
        case .elfOther, .other: return false
        }
    }
}
