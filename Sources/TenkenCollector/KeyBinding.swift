/// What enrolling a key does, from what the store holds about it: the rules every store
/// applies in its enrollment transaction.
public enum KeyBinding {
    /// What the store holds: the key if it is known, the token's machine, and the enrolled
    /// machines that are the same one as the enrolling machine (machine-id, and the DMI serial
    /// where both have one).
    public struct Known: Sendable {
        /// The machine the key belongs to, whether the key was retired (replaced, or its machine
        /// removed), and whether that machine is the enrolling one.
        public let key: (machine: String, retired: Bool, sameMachine: Bool)?
        /// The machine a token issued with `--machine` is for, and its last sequence (nil
        /// sequence: that machine was removed since).
        public let target: (machine: String, lastSequence: Int?)?
        /// Enrolled machines with the enrolling machine's identity.
        public let sameMachines: [String]

        public init(
            key: (machine: String, retired: Bool, sameMachine: Bool)?, target: (machine: String, lastSequence: Int?)?,
            sameMachines: [String]
        ) {
            self.key = key
            self.target = target
            self.sameMachines = sameMachines
        }
    }

    /// What the store then writes.
    public enum Action: Sendable, Equatable {
        /// The same key again (run twice, a new hostname): the machine's row updated in place.
        case updateInPlace(machine: String)
        /// A token for that machine: the key replaces all of its keys.
        case replaceKeys(machine: String, lastSequence: Int)
        /// A machine of its own.
        case newMachine
        /// Nothing: the token stays unused.
        case refuse(EnrollmentOutcome)
    }

    /// A key speaks for one machine: only a token an administrator issued for that machine
    /// moves it to another identity or gives the machine another key, and never into the place
    /// of another enrolled machine.
    public static func decide(_ known: Known) -> Action {
        if let key = known.key {
            if key.retired { return .refuse(.keyRetired) }
            if let target = known.target, target.machine != key.machine {
                return .refuse(.alreadyEnrolled(machine: key.machine))
            }
            if let other = known.sameMachines.first(where: { $0 != key.machine }) {
                return .refuse(.alreadyEnrolled(machine: other))
            }
            guard key.sameMachine || known.target != nil else { return .refuse(.identityChanged(machine: key.machine)) }
            return .updateInPlace(machine: key.machine)
        }
        if let target = known.target {
            guard let last = target.lastSequence else { return .refuse(.tokenRefused) }
            if let other = known.sameMachines.first(where: { $0 != target.machine }) {
                return .refuse(.alreadyEnrolled(machine: other))
            }
            return .replaceKeys(machine: target.machine, lastSequence: last)
        }
        // Cloned images share machine-ids: only the machine's own key or a token for it gives it a new key.
        if let owner = known.sameMachines.first { return .refuse(.alreadyEnrolled(machine: owner)) }
        return .newMachine
    }

    /// Whether two enrollments name the same machine: the same machine-id, and the same DMI
    /// serial where both have one (a machine without one is known by its machine-id alone).
    public static func isSameMachine(_ machine: EnrolledMachine, as other: EnrolledMachine) -> Bool {
        guard machine.machineID == other.machineID else { return false }
        guard let serial = machine.dmiSerial, !serial.isEmpty, let otherSerial = other.dmiSerial, !otherSerial.isEmpty
        else { return true }
        return serial == otherSerial
    }
}
