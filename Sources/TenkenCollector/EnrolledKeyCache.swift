import Synchronization
import TenkenBase

/// Enrolled machines by key id, remembered after the first lookup: a key id is a hash of its
/// key, and what enrollment bound to it (the key, machine-id, DMI serial, the time, the policy)
/// does not change (a command that changes one must forget the entry), so most reports then
/// need no database read before their write. Unknown ids are not remembered (the machine may
/// enroll a moment later).
final class EnrolledKeyCache: Sendable {
    /// What enrollment bound to a key.
    struct Enrolled: Sendable {
        let publicKey: [UInt8]
        let machineID: String
        let dmiSerial: String?
        let enrolledAt: Int
        let policyDigest: String
    }

    private let store: any ReportStore
    private let machines = Mutex<[String: Enrolled]>([:])

    init(store: any ReportStore) {
        self.store = store
    }

    func machine(keyID: String) async throws -> Enrolled? {
        if let known = machines.withLock({ $0[keyID] }) { return known }
        guard let machine = try await store.machine(keyID: keyID), let raw = Base64URL.decode(machine.publicKey) else {
            return nil
        }
        let enrolled = Enrolled(
            publicKey: raw, machineID: machine.machineID, dmiSerial: machine.dmiSerial, enrolledAt: machine.enrolledAt,
            policyDigest: machine.policyDigest)
        machines.withLock { $0[keyID] = enrolled }
        return enrolled
    }
}
