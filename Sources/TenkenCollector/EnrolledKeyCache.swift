import Synchronization
import TenkenBase

/// Enrolled keys by key id, remembered after the first lookup: a key id is a hash of its key,
/// and what it speaks for (its machine, that machine's machine-id, DMI serial and enrollment
/// time) changes only by an enrollment for that machine, which forgets its keys. So most
/// reports need no database read before their write. What can change meanwhile (a machine
/// removed, a key retired, the expected policy) is read again in the write's transaction; a
/// retired key stays retired. Unknown ids are not remembered (the machine may enroll a moment later).
final class EnrolledKeyCache: Sendable {
    /// What enrollment bound to a key.
    struct Enrolled: Sendable {
        let publicKey: [UInt8]
        /// The machine's id (the key id it first enrolled with).
        let machine: String
        let machineID: String
        let dmiSerial: String?
        let enrolledAt: Int
        /// Replaced by a newer key, or its machine removed.
        let retired: Bool
    }

    private let store: any ReportStore
    /// Keys remembered at once (about 200 bytes each).
    static let capacity = 65_536
    private let keys = Mutex<[String: Enrolled]>([:])

    init(store: any ReportStore) {
        self.store = store
    }

    func key(_ keyID: String) async throws -> Enrolled? {
        if let known = keys.withLock({ $0[keyID] }) { return known }
        guard let key = try await store.signingKey(keyID: keyID), let raw = Base64URL.decode(key.publicKey) else {
            return nil
        }
        let enrolled = Enrolled(
            publicKey: raw, machine: key.machine.keyID, machineID: key.machine.machineID,
            dmiSerial: key.machine.dmiSerial, enrolledAt: key.machine.enrolledAt, retired: key.retired)
        keys.withLock { keys in
            // Keys of machines long rotated or removed would otherwise stay for ever: past the
            // bound, all are read again as they are asked for.
            if keys.count >= Self.capacity { keys.removeAll(keepingCapacity: true) }
            keys[keyID] = enrolled
        }
        return enrolled
    }

    /// After an enrollment for this machine: what its keys are bound to may have changed.
    func forget(machine: String, key keyID: String) {
        keys.withLock { keys in
            keys[keyID] = nil
            for (id, key) in keys where key.machine == machine { keys[id] = nil }
        }
    }
}
