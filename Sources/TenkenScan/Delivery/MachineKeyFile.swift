import Crypto
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

extension MachineKey {
    /// Loads the key from the state directory, creating it when it does not exist in any form.
    /// A key that others may read, that another user owns or that is a link is refused rather
    /// than used: it would let them sign reports as this machine, or plant their own.
    /// `file`: another key beside it (the next key of `tenken rotate-key`).
    public static func loadOrCreate(stateDirectory: String = defaultStateDirectory, file fileName: String = fileName)
        throws(Failure) -> MachineKey
    {
        do {
            let state = try StateDirectory(stateDirectory)
            // Under a lock: two first runs at once (the service and an enroll) make one key, not two.
            let lock = try state.lock(fileName + ".lock")
            defer { close(lock) }
            if let bytes = try state.read(fileName, limit: 64, privateFile: true) {
                guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes) else {
                    throw Failure(message: "\(state.path)/\(fileName): not a 32-byte Ed25519 private key")
                }
                return MachineKey(privateKey: key)
            }
            let key = Curve25519.Signing.PrivateKey()
            try state.write(fileName, Array(key.rawRepresentation), mode: 0o600)
            return MachineKey(privateKey: key)
        } catch let error as Failure {
            throw error
        } catch let error as HostReadError {
            throw Failure(message: error.message(in: .en))
        } catch {
            throw Failure(message: "\(error)")
        }
    }

    /// Writes this key as the state directory's machine key (0600, atomically).
    public func save(in state: StateDirectory) throws(HostReadError) {
        try state.write(Self.fileName, Array(privateKey.rawRepresentation), mode: 0o600)
    }
}
