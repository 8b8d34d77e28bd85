import TenkenBase

/// Numbers a report, signs it with the machine key and, for delivery, spools it: the number is
/// taken and the spool file written under the sequence lock (see `SequenceCounter`).
public enum ReportSigner {
    /// The numbered report, its signed token and, when spooled, the spool file's name.
    public struct Signed: Sendable {
        public let report: CheckReport
        public let token: String
        /// The spool file's name, when the report was queued for the collector.
        public let spooled: String?
    }

    /// `compressed`: the payload a zstd frame of the JSON, as agents send reports (see
    /// `ReportPayload`); otherwise the JSON itself, readable with any JOSE tool.
    public static func sign(_ report: CheckReport, stateDirectory: String, spool: Bool, compressed: Bool = false) throws
        -> Signed
    {
        var numbered = report
        let (_, (token, name)) = try SequenceCounter.next(stateDirectory: stateDirectory) {
            sequence throws -> (String, String?) in
            // Loaded under the sequence lock, which `tenken rotate-key` holds while it replaces
            // the key: every report numbered after a rotation is signed with the new key.
            let key = try MachineKey.loadOrCreate(stateDirectory: stateDirectory)
            numbered.sequence = sequence
            let json = Array(try numbered.json(pretty: false))
            let token = try ReportPayload.sign(json, with: key, compressed: compressed)
            let name =
                spool
                ? try Spool(stateDirectory: stateDirectory).enqueue(
                    token, sequence: sequence, reportID: numbered.reportID) : nil
            return (token, name)
        }
        return Signed(report: numbered, token: token, spooled: name)
    }
}
