import CSystemd
import TenkenBase

/// Kernel messages from the systemd journal of a root (its /var/log/journal and
/// /run/log/journal), read with libsystemd's sd-journal.
public enum KernelJournal {
    /// One kernel message and when the journal recorded it.
    public struct Message: Sendable, Hashable {
        /// Unix time in microseconds.
        public let time: Int
        public let text: String
    }

    /// Why the journal could not be read: the errno sd-journal returned (ENOENT when there is no journal).
    public struct Failure: Error, Sendable {
        public let code: Int32
    }

    /// At most this many messages are returned: a journal can hold millions.
    static let maximumMessages = 200_000

    /// Kernel messages since `since` (unix microseconds) whose text passes `keep`.
    public static func messages(root: String, since: Int, keep: (String) -> Bool) throws(Failure) -> [Message] {
        var journal: OpaquePointer?
        // OS_ROOT: the directory is an OS tree; its journal directories are found below it.
        var code = sd_journal_open_directory(&journal, root, Int32(SD_JOURNAL_OS_ROOT))
        guard code >= 0, let journal else { throw Failure(code: -code) }
        defer { sd_journal_close(journal) }
        code = sd_journal_add_match(journal, "_TRANSPORT=kernel", 0)
        guard code >= 0 else { throw Failure(code: -code) }
        code = sd_journal_seek_realtime_usec(journal, UInt64(max(0, since)))
        guard code >= 0 else { throw Failure(code: -code) }
        var messages: [Message] = []
        while messages.count < maximumMessages {
            code = sd_journal_next(journal)
            if code < 0 { throw Failure(code: -code) }
            if code == 0 { break }
            var time: UInt64 = 0
            var data: UnsafeRawPointer?
            var length = 0
            guard sd_journal_get_realtime_usec(journal, &time) >= 0,
                sd_journal_get_data(journal, "MESSAGE", &data, &length) >= 0, let data, length >= 8
            else { continue }
            // "MESSAGE="
            let bytes = UnsafeBufferPointer(start: data.assumingMemoryBound(to: UInt8.self) + 8, count: length - 8)
            let text = ByteText.display(Array(bytes)[...])
            if keep(text) { messages.append(Message(time: Int(time), text: text)) }
        }
        return messages
    }
}
