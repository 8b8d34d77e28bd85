import TenkenBase

extension CheckReport {
    /// The report of one check of `facts` under `policy`.
    public init(
        facts: HostFacts, root: String, policy: Policy, findings: [Finding], startedAt: String, duration: Double
    ) {
        self.init(
            host: Host(
                hostname: facts.identity.hostname, machineID: facts.identity.machineID,
                dmiSerial: facts.identity.dmiSerial, os: facts.identity.osName),
            root: root, policy: PolicyReference(id: policy.id, version: policy.version, digest: policy.digest),
            coverage: facts.coverage, findings: findings, startedAt: startedAt, duration: duration)
    }
}
