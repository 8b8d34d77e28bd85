import TenkenBase

/// When each pending update was first seen, kept in the state directory, so that an update's
/// age is its own: an unrelated `apt install` that upgrades one dependency resets nothing. The
/// key is the package and its installed version; a newer candidate for the same installed
/// version keeps the time, and the entry goes only when another version is installed (an
/// update that stops being offered, because the lists were emptied say, keeps its time for
/// when it comes back).
///
/// What the history cannot know it does not guess: updates pending when the history began (the
/// first check with a state directory, or after it was deleted) have been pending for an
/// unknown time, at least since then; an update first seen now appeared after the previous
/// check, so it counts from that check. A history of another machine (another machine-id), a
/// damaged one, or a clock set back before the previous check starts one anew.
struct UpdateHistory: Sendable {
    static let fileName = "update-history"
    static let magic = "tenken-update-history 1"
    /// Entries are installed packages (a few thousand); a larger file is not ours.
    static let maximumBytes = 16 << 20

    struct Key: Hashable, Sendable {
        let name: String
        let architecture: String
        let installed: String
    }

    struct Entry: Sendable, Equatable {
        /// First seen with any update pending, and with a security update pending.
        var pending: Int
        var security: Int?
        /// Already pending when the history began: its times are a lower bound, not its age.
        var atStart: Bool
    }

    let machineID: String
    /// When the history began.
    let started: Int
    /// The previous check that recorded into it (`started` for a new history).
    private(set) var lastCheck: Int
    private(set) var entries: [Key: Entry] = [:]
    /// A history made by this check: everything pending now was pending at its start.
    let isNew: Bool

    init(machineID: String, now: Int) {
        self.machineID = machineID
        started = now
        lastCheck = now
        isNew = true
    }

    private init(machineID: String, started: Int, lastCheck: Int, entries: [Key: Entry]) {
        self.machineID = machineID
        self.started = started
        self.lastCheck = lastCheck
        self.entries = entries
        isNew = false
    }

    /// When an update was first seen, as the rules judge it.
    struct Seen: Sendable, Equatable {
        /// First seen pending (security or any, as the update is); its age is now minus this.
        var at: Int?
        /// Pending for an unknown time, at least since this (the history's start).
        var atLeastSince: Int?
    }

    /// Records this check's pending updates and says when each was first seen; entries of
    /// packages now at another version (or removed) go.
    mutating func record(_ updates: [PendingUpdate], installed: [DebianPackage], now: Int) -> [Seen] {
        var seen: [Seen] = []
        seen.reserveCapacity(updates.count)
        for update in updates {
            let key = Key(name: update.name, architecture: update.architecture, installed: update.installed)
            var entry =
                entries[key] ?? Entry(pending: isNew ? started : lastCheck, security: nil, atStart: isNew)
            if update.isSecurity && entry.security == nil {
                entry.security = isNew ? started : lastCheck
            }
            entries[key] = entry
            let time = update.isSecurity ? entry.security! : entry.pending
            // A security update first seen at the history's start was pending then for an unknown time.
            let unknown = entry.atStart && time == started
            seen.append(unknown ? Seen(at: nil, atLeastSince: started) : Seen(at: time, atLeastSince: nil))
        }
        let present = Set(
            installed.filter(\.isPresent).map {
                Key(name: $0.name, architecture: $0.architecture, installed: $0.version)
            })
        entries = entries.filter { present.contains($0.key) }
        lastCheck = now
        return seen
    }

    /// The file's text: a header line, then one line per entry, sorted so that an unchanged
    /// history writes the same bytes.
    func encoded() -> [UInt8] {
        var text = "\(Self.magic) \(machineID) \(started) \(lastCheck)\n"
        for (key, entry) in entries.sorted(by: {
            ($0.key.name, $0.key.architecture) < ($1.key.name, $1.key.architecture)
        }) {
            text += "\(key.name) \(key.architecture) \(key.installed) \(entry.pending) "
            text += "\(entry.security.map(String.init) ?? "-") \(entry.atStart ? 1 : 0)\n"
        }
        return Array(text.utf8)
    }

    /// Reads a stored history; nil when its text is not one, or it belongs to another machine
    /// (`foreign` says which).
    static func decode(_ bytes: [UInt8], machineID: String) -> (history: UpdateHistory?, foreign: Bool) {
        guard let text = ByteText.utf8(bytes[...]), text.hasSuffix("\n") else { return (nil, false) }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        let header = lines.first?.split(separator: " ", omittingEmptySubsequences: false) ?? []
        guard header.count == 5, header[0] + " " + header[1] == magic, let started = Int(header[3]),
            let lastCheck = Int(header[4]), started <= lastCheck
        else { return (nil, false) }
        guard header[2] == machineID else { return (nil, true) }
        var entries: [Key: Entry] = [:]
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 6, fields[0...2].allSatisfy({ !$0.isEmpty }), let pending = Int(fields[3]),
                fields[4] == "-" || Int(fields[4]) != nil, fields[5] == "0" || fields[5] == "1"
            else { return (nil, false) }
            let key = Key(name: String(fields[0]), architecture: String(fields[1]), installed: String(fields[2]))
            entries[key] = Entry(pending: pending, security: Int(fields[4]), atStart: fields[5] == "1")
        }
        return (UpdateHistory(machineID: machineID, started: started, lastCheck: lastCheck, entries: entries), false)
    }
}

extension UpdateHistory {
    /// The root's history from the state directory, or a new one: none was there, or the one
    /// there cannot be used (a note says why; every update pending now has an unknown age).
    static func load(from state: StateDirectory, root: HostRoot, now: Int, issues: inout [FactIssue]) -> UpdateHistory {
        let machineID = Self.machineID(root)
        let fresh = UpdateHistory(machineID: machineID, now: now)
        func startedAnew(_ why: Localized) -> UpdateHistory {
            issues.append(
                FactIssue(
                    .apt, .limited, .damaged, path: fileName,
                    Localized(
                        ja: "更新の履歴 (\(fileName)) は\(why.ja)ため作り直しました。いま保留中の更新はいつからか分かりません",
                        en: "the update history (\(fileName)) \(why.en), so it was started anew: how long the updates "
                            + "pending now have been is unknown"),
                    about: .updateHistory))
            return fresh
        }
        let bytes: [UInt8]?
        do { bytes = try state.read(fileName, limit: maximumBytes, privateFile: true) } catch {
            return startedAnew(
                Localized(
                    ja: "読み取れなかった (\(error.message(in: .ja)))", en: "could not be read (\(error.message(in: .en)))"))
        }
        guard let bytes else { return fresh }
        let (history, foreign) = decode(bytes, machineID: machineID)
        guard let history else {
            return startedAnew(
                foreign
                    ? Localized(ja: "別のマシン (machine-id) のものだった", en: "belonged to another machine (machine-id)")
                    : Localized(ja: "壊れていた", en: "was damaged"))
        }
        // A clock set back makes every age look young.
        guard now + 60 >= history.lastCheck else {
            return startedAnew(
                Localized(
                    ja: "前回の点検 (\(Timestamp.date(history.lastCheck))) より時計が戻っていた",
                    en: "is dated after this check's clock (\(Timestamp.date(history.lastCheck)))"))
        }
        return history
    }

    /// Writes it back (atomically, 0600); a failure is a note: the next check starts anew.
    func save(to state: StateDirectory, issues: inout [FactIssue]) {
        do { try state.write(Self.fileName, encoded()) } catch {
            issues.append(
                FactIssue(
                    .apt, .limited, .unreadable, path: Self.fileName,
                    Localized(
                        ja: "更新の履歴を保存できませんでした: \(error.message(in: .ja))",
                        en: "the update history could not be saved: \(error.message(in: .en))"),
                    about: .updateHistory))
        }
    }

    /// The root's machine-id, as one word ("-" when there is none).
    private static func machineID(_ root: HostRoot) -> String {
        let bytes = (try? root.readFileIfPresent("/etc/machine-id", limit: 4096)) ?? nil
        let word = ByteText.split((bytes ?? [])[...], on: 0x0A).first.map { ByteText.display($0) } ?? ""
        let kept = word.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        return kept.isEmpty ? "-" : kept
    }
}
