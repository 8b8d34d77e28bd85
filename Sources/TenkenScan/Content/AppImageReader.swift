import CSquashFS
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// What an AppImage carries, read from the SquashFS image after its ELF runtime with Debian's
/// libsquashfs: its desktop entries (the application's name and command) and its programs, each
/// inspected like a program on disk. An AppImage is known by what is inside, not by its file name.
struct AppImageReader {
    /// Bounds on what one image may make tenken read: far beyond any real AppImage.
    static let maximumEntries: UInt32 = 200_000
    static let maximumDepth: UInt32 = 64
    /// The most bytes of programs one image may make tenken read (hard links make one file many).
    static let maximumProgramBytes = 8 << 30
    static let desktopLimit = 64 << 10
    /// Inner paths kept for evidence, and program names kept for the catalog.
    static let keptMembers = 16
    static let keptPrograms = 512

    /// SquashFS's magic, "hsqs", where the runtime's ELF headers end.
    static func hasImage(_ window: FileWindow, at offset: Int) throws(HostReadError) -> Bool {
        guard offset > 0, offset <= window.size - 96 else { return false }
        return try window.bytes(at: offset, count: 4) == [0x68, 0x73, 0x71, 0x73]
    }

    /// Reads the image at `offset` of the AppImage in `window`, inspecting each program in it with
    /// `inspect`. An image that cannot be read is an error: what it holds stays unknown.
    static func read(
        _ window: FileWindow, offset: Int,
        inspect: @escaping (FileWindow) throws(HostReadError) -> ProgramInspector.Result
    ) throws(HostReadError) -> (contents: AppImageContents, marks: ProgramInspector.Result) {
        guard let fd = window.descriptor else {
            // One level is what AppImages use; an image inside one is not read, so it is not seen.
            throw unreadable(
                window.path,
                Localized(ja: "AppImage の中の AppImage は読みません", en: "an AppImage inside an AppImage is not read"))
        }
        var image: OpaquePointer?
        let opened = tenken_squashfs_open(fd, UInt64(offset), UInt64(window.size - offset), &image)
        guard opened == 0, let image else { throw damaged(window.path, code: opened) }
        defer { tenken_squashfs_close(image) }
        var walk = Walk(path: window.path, image: image, inspect: inspect)
        let status = withUnsafeMutablePointer(to: &walk) { state in
            tenken_squashfs_walk(image, visitFile, state, maximumEntries, maximumDepth)
        }
        if let failure = walk.failure { throw failure }
        guard status == 0 else {
            if status == 2 {
                throw HostReadError(
                    path: window.path,
                    reason: .refused(
                        Localized(
                            ja: "AppImage の中身が多すぎるため読み切れません",
                            en: "the AppImage holds more than can be read (\(maximumEntries) entries)")))
            }
            throw damaged(window.path, code: status)
        }
        return (walk.contents, walk.marks)
    }

    static func unreadable(_ path: String, _ why: Localized) -> HostReadError {
        HostReadError(path: path, reason: .refused(why))
    }

    static func damaged(_ path: String, code: Int32) -> HostReadError {
        HostReadError(
            path: path,
            reason: .refused(
                Localized(
                    ja: "AppImage の SquashFS イメージを読めません (libsquashfs \(code))",
                    en: "the AppImage's SquashFS image cannot be read (libsquashfs error \(code))")))
    }

    /// What the walk gathered, reached from the C callback through its context pointer.
    private struct Walk {
        let path: String
        let image: OpaquePointer
        let inspect: (FileWindow) throws(HostReadError) -> ProgramInspector.Result
        var contents = AppImageContents()
        var marks = ProgramInspector.Result(format: .appImage)
        var failure: HostReadError?
        var programBytes = 0
    }

    private static let visitFile: tenken_squashfs_visit = { context, name, size, mode, file in
        guard let context, let name, let file else { return 0 }
        let walk = context.assumingMemoryBound(to: Walk.self)
        let member = String(decoding: UnsafeRawBufferPointer(start: name, count: strlen(name)), as: UTF8.self)
        let window = FileWindow(
            image: walk.pointee.image, file: file, size: Int(clamping: size), path: walk.pointee.path + ":" + member)
        do throws(HostReadError) {
            if !member.contains("/"), member.hasSuffix(".desktop") {
                let bytes = try window.bytes(at: 0, count: min(window.size, desktopLimit))
                walk.pointee.contents.addDesktopEntry(bytes)
            }
            let base = member.split(separator: "/").last.map(String.init) ?? member
            // Programs, and what programs load or Wine runs without an execute bit.
            let lowered = base.lowercased()
            let loadable =
                lowered.hasSuffix(".so") || lowered.contains(".so.") || lowered.hasSuffix(".exe")
                || lowered.hasSuffix(".dll")
            guard mode & 0o111 != 0 || loadable else { return 0 }
            if mode & 0o111 != 0, walk.pointee.contents.programs.count < keptPrograms {
                walk.pointee.contents.programs.append(base)
            }
            walk.pointee.programBytes = ElfImage.sum(walk.pointee.programBytes, window.size)
            guard walk.pointee.programBytes <= maximumProgramBytes else {
                throw HostReadError(path: walk.pointee.path, reason: .tooLarge(limit: maximumProgramBytes))
            }
            let found = try walk.pointee.inspect(window)
            guard found.isMarked else { return 0 }
            walk.pointee.marks.merge(found)
            if walk.pointee.contents.members.count < keptMembers { walk.pointee.contents.members.append(member) }
            return 0
        } catch {
            walk.pointee.failure = error
            return 1
        }
    }
}

/// What an AppImage holds, as far as the catalog cares.
public struct AppImageContents: Sendable, Hashable {
    /// The Name= of its desktop entries ("qBittorrent").
    public internal(set) var names: [String] = []
    /// The program each desktop entry's Exec= runs ("qbittorrent").
    public internal(set) var commands: [String] = []
    /// The base names of the programs in it.
    public internal(set) var programs: [String] = []
    /// The inner paths whose content carried a mark.
    public internal(set) var members: [String] = []

    /// What another image of the same file holds, added to this one's.
    mutating func merge(_ other: AppImageContents) {
        names += other.names
        commands += other.commands
        programs += other.programs.prefix(max(0, AppImageReader.keptPrograms - programs.count))
        members += other.members.prefix(max(0, AppImageReader.keptMembers - members.count))
    }

    /// Name= and Exec= of the [Desktop Entry] group.
    mutating func addDesktopEntry(_ bytes: [UInt8]) {
        var inEntry = false
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            if line.hasPrefix("[") {
                inEntry = line == "[Desktop Entry]"
                continue
            }
            guard inEntry else { continue }
            if line.hasPrefix("Name=") {
                names.append(String(line.dropFirst(5).prefix(200)))
            } else if line.hasPrefix("Exec=") {
                let command = line.dropFirst(5).split(separator: " ").first.map(String.init) ?? ""
                let base = command.split(separator: "/").last.map(String.init) ?? command
                if !base.isEmpty { commands.append(String(base.prefix(200))) }
            }
        }
    }
}
