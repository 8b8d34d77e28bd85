import TenkenBase

/// Runs a whole check: collect, evaluate, report.
public enum Check {
    public static func run(
        root: HostRoot, policy: Policy, now: Int? = nil, ledger: LedgerState? = nil,
        cacheDirectory: StateDirectory? = nil, memory: CheckMemory? = nil
    ) -> CheckReport {
        run(root: root, now: now, ledger: ledger, cacheDirectory: cacheDirectory, memory: memory) {
            () throws(Never) in policy
        }
    }

    /// Loads the policy while the package databases are parsed on another thread.
    /// `now` (unix seconds) is the time ages are measured against; the clock when nil.
    /// `ledger` defaults to the root's /etc/tenken/ledger.yaml. With `cacheDirectory`, programs
    /// and apt lists whose files have not changed since an earlier check are not read again; with
    /// `memory` (the agent's), directories its journal saw no change in are not read again either.
    public static func run<Failure: Error>(
        root: HostRoot, now: Int? = nil, ledger: LedgerState? = nil, cacheDirectory: StateDirectory? = nil,
        memory: CheckMemory? = nil, policy load: () throws(Failure) -> Policy
    ) throws(Failure) -> CheckReport {
        let now = now ?? Timestamp.seconds()
        let started = Timestamp.now()
        let clock = ContinuousClock()
        let start = clock.now
        var loaded: Policy?
        let facts = try HostFacts.collect(from: root) { () throws(Failure) -> HostFacts.Request in
            let policy = try load()
            loaded = policy
            var request = policy.factRequest
            request.now = now
            request.cacheDirectory = cacheDirectory
            request.memory = memory
            return request
        }
        let policy = loaded!
        let findings = Evaluator.evaluate(policy, facts: facts, now: now, ledger: ledger ?? LedgerFile.load(root: root))
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return CheckReport(
            facts: facts, root: root.path, policy: policy, findings: findings,
            startedAt: started, duration: seconds)
    }
}
