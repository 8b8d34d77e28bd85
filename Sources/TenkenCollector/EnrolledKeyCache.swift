import Synchronization
import TenkenBase

/// Enrolled public keys by key id, remembered after the first lookup: a key id is a hash of
/// its key, so an entry never changes, and most reports then need no database read before
/// their write. Unknown ids are not remembered (the machine may enroll a moment later).
final class EnrolledKeyCache: Sendable {
    private let store: any ReportStore
    private let keys = Mutex<[String: [UInt8]]>([:])

    init(store: any ReportStore) {
        self.store = store
    }

    func publicKey(keyID: String) async throws -> [UInt8]? {
        if let known = keys.withLock({ $0[keyID] }) { return known }
        guard let machine = try await store.machine(keyID: keyID), let raw = Base64URL.decode(machine.publicKey) else {
            return nil
        }
        keys.withLock { $0[keyID] = raw }
        return raw
    }
}
