import Crypto
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// Looks inside the programs the walk found for what they are, whatever they are called: each
/// file no installed package owns, and each owned file whose content is no longer what dpkg
/// installed (checked by md5sum when its ctime is later than its package's file list), is read
/// by `ProgramInspector`. A file dpkg installed and nobody changed is its package's, which the
/// package rules judge.
public enum ProgramContentSource {
    /// What one collection did, for the benchmark and the README.
    public struct Counts: Sendable {
        public internal(set) var candidates = 0
        public internal(set) var ownedUnchanged = 0
        public internal(set) var verifiedByChecksum = 0
        public internal(set) var inspected = 0
        public internal(set) var searchedBytes = 0
        /// Files whose checksum or inspection the cache already held.
        public internal(set) var fromCache = 0
    }

    public static func collect(_ root: HostRoot, request: HostFacts.Request, into facts: inout HostFacts) {
        guard let rules = request.content, !rules.isEmpty else { return }
        var counts = Counts()
        var candidates = resolved(root, facts.programCandidates, owned: facts.ownedPaths, issues: &facts.issues)
        candidates += unvouched(
            root, facts.ownedPaths, installed: facts.installedPackageNames, besides: candidates, issues: &facts.issues)
        counts.candidates = candidates.count
        counts.ownedUnchanged = facts.walkCounts.ownedUnchanged
        let checksums = DpkgChecksums(root)
        var known: [ProgramCandidate.Owner: [UInt8]?] = [:]
        func recordedMD5(_ owner: ProgramCandidate.Owner) -> [UInt8]? {
            if let found = known[owner] { return found }
            let read = checksums.recordedMD5(owner)
            known.updateValue(read, forKey: owner)
            return read
        }
        let inspector = ProgramInspector(rules: rules)
        var cache = ContentCache(rules: rules)
        if let known = request.memory?.kept(ContentCache.slot, as: ContentCache.self, fromPreviousCheck: false),
            known.rulesDigest == cache.rulesDigest
        {
            cache = known
        } else if let state = request.cacheDirectory {
            load(&cache, from: state, issues: &facts.issues)
        }
        for candidate in candidates {
            guard let identity = candidate.identity else { continue }
            var ownershipState = InspectedProgram.Ownership.unowned
            // A package's file that changed since dpkg wrote the package's records: still the
            // package's while its content is what dpkg recorded.
            if let owner = candidate.owner {
                counts.verifiedByChecksum += 1
                guard let recorded = recordedMD5(owner) else {
                    ownershipState = .unverifiable(package: owner.package)
                    counts.inspected += 1
                    record(candidate, ownershipState, identity, root, inspector, &cache, into: &facts)
                    continue
                }
                if let actual = checksum(root, candidate, identity, &cache, issues: &facts.issues), actual == recorded {
                    continue
                }
                ownershipState = .replaced(package: owner.package)
            }
            counts.inspected += 1
            record(candidate, ownershipState, identity, root, inspector, &cache, into: &facts)
        }
        if let state = request.cacheDirectory, cache.changed { save(cache, to: state, issues: &facts.issues) }
        request.memory?.keep(ContentCache.slot, cache.carriedOver())
        counts.fromCache = cache.hits
        counts.searchedBytes = inspector.searchedBytes
        facts.contentCounts = counts
        facts.contentRules = rules
    }

    /// The candidates with each symlink replaced by the file it leads to (kept under the link's
    /// name, so evidence says which command runs it), and each file once.
    private static func resolved(
        _ root: HostRoot, _ candidates: [ProgramCandidate], owned: OwnedPathIndex?, issues: inout [FactIssue]
    ) -> [ProgramCandidate] {
        // A command is reported under its own name even when the walk met its target too (the
        // content cache reads that target once); each target once among the commands.
        var seen = IdentitySet(capacity: candidates.count)
        var result: [ProgramCandidate] = []
        for candidate in candidates {
            guard candidate.identity == nil else {
                result.append(candidate)
                continue
            }
            let file: Int32
            do { file = try root.open(candidate.path, flags: LocalFile.pathOnly) } catch {
                // A dangling link runs nothing.
                if !error.isNotFound { issues.append(.unreadable(.content, error)) }
                continue
            }
            defer { close(file) }
            var info = stat()
            guard fstat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_mode & 0o111 != 0,
                seen.insert(UInt64(info.st_dev), UInt64(info.st_ino))
            else { continue }
            let target = root.pathUnderRoot(of: file) ?? candidate.path
            // A command that is a package's file is judged as that file (the walk met it too,
            // unless the policy left its place out).
            var owner: ProgramCandidate.Owner?
            if let owned, let listed = owned.entry(path: target) {
                let package = owned.package(of: listed)
                if let trusted = package.trustedUntil, Int(info.st_ctim.tv_sec) <= trusted { continue }
                owner = ProgramCandidate.Owner(package: package.name, listedAs: owned.owner(of: listed).listedAs)
            }
            result.append(
                ProgramCandidate(path: target, file: candidate.file, identity: FileIdentity(info), owner: owner))
        }
        return result
    }

    /// The files named by the lists of packages that are not installed (planted, or left
    /// behind): the walk took their lists at their word, as it had to before the package database
    /// was read; they own nothing, so each is looked at as an unowned file.
    private static func unvouched(
        _ root: HostRoot, _ owned: OwnedPathIndex?, installed: Set<String>, besides: [ProgramCandidate],
        issues: inout [FactIssue]
    ) -> [ProgramCandidate] {
        guard let owned else { return [] }
        var seen = IdentitySet(capacity: besides.count)
        for identity in besides.lazy.compactMap(\.identity) { seen.insert(identity.device, identity.inode) }
        var found: [ProgramCandidate] = []
        for (index, package) in owned.packages.enumerated() where !installed.contains(package.bareName) {
            for entry in owned.entries[index] {
                let path = owned.path(of: entry)
                var info = stat()
                let file: Int32
                do {
                    // Only a regular file is opened for reading (opening a device node can have effects).
                    let handle = try root.open(path, flags: LocalFile.pathOnly | O_NOFOLLOW)
                    let looked = fstat(handle, &info)
                    close(handle)
                    guard looked == 0, (info.st_mode & S_IFMT) == S_IFREG,
                        seen.insert(UInt64(info.st_dev), UInt64(info.st_ino))
                    else { continue }
                    file = try root.open(path, flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
                } catch {
                    if !(error.isNotFound || error.reason == .notADirectory) {
                        issues.append(.unreadable(.content, error))
                    }
                    continue
                }
                defer { close(file) }
                var head = [UInt8](repeating: 0, count: FileMagic.headBytes)
                let count = head.withUnsafeMutableBytes { pread(file, $0.baseAddress, $0.count, 0) }
                guard info.st_mode & 0o111 != 0 || (count > 0 && FileMagic(head.prefix(count)).holdsProgram)
                else { continue }
                let bytes = path.bytes
                let slash = bytes.lastIndex(of: 0x2F) ?? 0
                let name = FileName(bytes: Array(bytes[(slash + 1)...]))
                let directory = slash == 0 ? "/" : ByteText.display(bytes[..<slash])
                found.append(
                    ProgramCandidate(
                        path: path, file: ExecutableFile(directory: directory, name: name, location: .system),
                        identity: FileIdentity(info)))
            }
        }
        return found
    }

    /// Opens a candidate for reading only if it is still a regular file (opening a device node
    /// that replaced it could have effects), with the identity of what was opened. A candidate
    /// replaced by something else since the walk is an error (what it was went unseen); one
    /// removed since is a note.
    private static func openRegular(
        _ root: HostRoot, _ candidate: ProgramCandidate, issues: inout [FactIssue]
    ) -> (fd: Int32, size: Int, identity: FileIdentity)? {
        do {
            let handle = try root.open(candidate.path, flags: LocalFile.pathOnly | O_NOFOLLOW)
            var info = stat()
            let looked = fstat(handle, &info)
            close(handle)
            guard looked == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                issues.append(changed(candidate))
                return nil
            }
            let file = try root.open(candidate.path, flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
            guard fstat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                close(file)
                issues.append(changed(candidate))
                return nil
            }
            return (file, Int(info.st_size), FileIdentity(info))
        } catch {
            if error.isNotFound {
                issues.append(
                    FactIssue(
                        .content, .limited, .missing, path: candidate.file.path,
                        Localized(
                            ja: "\(candidate.file.path): 点検中に削除されました",
                            en: "\(candidate.file.path): removed during the check")))
            } else {
                // A symlink put in its place (O_NOFOLLOW), or a file no longer readable.
                issues.append(.unreadable(.content, error))
            }
            return nil
        }
    }

    private static func changed(_ candidate: ProgramCandidate) -> FactIssue {
        FactIssue(
            .content, .error, .unreadable, path: candidate.file.path,
            Localized(
                ja: "\(candidate.file.path): 点検中に通常のファイル以外に置き換えられました",
                en: "\(candidate.file.path): replaced by something other than a file during the check"))
    }

    /// Inspects a candidate (or takes what the cache knows of this version of it) and keeps it
    /// when it shows a mark.
    private static func record(
        _ candidate: ProgramCandidate, _ ownership: InspectedProgram.Ownership, _ identity: FileIdentity,
        _ root: HostRoot, _ inspector: ProgramInspector, _ cache: inout ContentCache, into facts: inout HostFacts
    ) {
        let result: ProgramInspector.Result?
        if let known = cache.inspection(identity) {
            result = known
        } else if let (found, opened) = inspect(root, candidate, inspector, issues: &facts.issues) {
            // Kept under the version that was read, which may be newer than the one the walk saw.
            cache.record(opened, .inspected(found))
            result = found
        } else {
            result = nil
        }
        guard let result, result.isMarked else { return }
        facts.inspectedPrograms.append(
            InspectedProgram(
                file: candidate.file, format: result.format, ownership: ownership, linked: result.linked,
                searchPaths: result.searchPaths, signatures: result.signatures, windows: result.windows,
                appImage: result.appImage))
    }

    /// What inspection finds in the file, with the identity of what was read; nil when it could
    /// not be read (an issue says why).
    private static func inspect(
        _ root: HostRoot, _ candidate: ProgramCandidate, _ inspector: ProgramInspector,
        issues: inout [FactIssue]
    ) -> (ProgramInspector.Result, FileIdentity)? {
        guard let (file, size, identity) = openRegular(root, candidate, issues: &issues) else { return nil }
        defer { close(file) }
        do {
            return (try inspector.inspect(FileWindow(fd: file, size: size, path: candidate.file.path)), identity)
        } catch {
            issues.append(.unreadable(.content, error))
            return nil
        }
    }

    private static func checksum(
        _ root: HostRoot, _ candidate: ProgramCandidate, _ identity: FileIdentity, _ cache: inout ContentCache,
        issues: inout [FactIssue]
    ) -> [UInt8]? {
        if let known = cache.checksum(identity) { return known }
        guard let computed = md5(root, candidate, issues: &issues) else { return nil }
        cache.record(identity, .checksum(computed))
        return computed
    }

    /// A cache that cannot be read is started over: it only saves time, so that is a note.
    private static func load(_ cache: inout ContentCache, from state: StateDirectory, issues: inout [FactIssue]) {
        do {
            guard let bytes = try state.read(ContentCache.fileName, limit: ContentCache.maximumBytes, privateFile: true)
            else { return }
            if let problem = cache.load(bytes) {
                issues.append(
                    FactIssue(.content, .limited, .damaged, path: state.path + "/" + ContentCache.fileName, problem))
            }
        } catch {
            issues.append(.unreadable(.content, error, level: .limited))
        }
    }

    private static func save(_ cache: ContentCache, to state: StateDirectory, issues: inout [FactIssue]) {
        do { try state.write(ContentCache.fileName, cache.encoded(), mode: 0o600) } catch {
            issues.append(.unreadable(.content, error, level: .limited))
        }
    }

    /// The file's md5sum as 32 lowercase hex digits, as dpkg's md5sums files write it.
    private static func md5(_ root: HostRoot, _ candidate: ProgramCandidate, issues: inout [FactIssue]) -> [UInt8]? {
        guard let (file, size, _) = openRegular(root, candidate, issues: &issues) else { return nil }
        defer { close(file) }
        let window = FileWindow(fd: file, size: size, path: candidate.file.path)
        var digest = Insecure.MD5()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var offset = 0
        do {
            while true {
                let read = try window.fill(buffer, at: offset)
                if read == 0 { break }
                digest.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<read]))
                offset += read
            }
        } catch {
            issues.append(.unreadable(.content, error))
            return nil
        }
        let hex = Array("0123456789abcdef".utf8)
        return digest.finalize().flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]] }
    }
}
