import CProcessMemory
import Synchronization
import TenkenBase
import TenkenScan

/// `tenken agent`: the check as a service. It checks at start, on a schedule, when a USB device
/// is plugged in and when packages, apt lists, the policy or the ledger change; every report is
/// signed and spooled first, then sent, so nothing depends on the collector being up.
public final class Agent: Sendable {
    /// What the agent checks and how often: the `tenken agent` options (root, state directory, policy,
    /// ledger, schedule, settle time, retry backoff).
    public struct Configuration: Sendable {
        public var root = "/"
        public var stateDirectory = MachineKey.defaultStateDirectory
        public var policyFile: String?
        public var rules: [String]?
        public var ledgerFile: String?
        /// Time between scheduled checks.
        public var interval: Duration = .seconds(6 * 3600)
        /// Quiet time after a change before checking: an upgrade touches dpkg's status many times.
        public var settle: Duration = .seconds(15)
        public var backoff = Backoff()
        public var watchedDirectories = ChangeWatcher.defaultDirectories

        public init() {}
    }

    enum Trigger: Sendable {
        case start, schedule, change, device
    }

    public let configuration: Configuration
    /// When the check now running began (unix seconds), 0 when none runs: the watchdog stops
    /// pinging when a check hangs, so systemd restarts the service.
    private let checkStarted = Atomic<Int>(0)
    static let longestCheck = 600
    /// File changes seen so far: a change already covered by a check needs no check of its own.
    private let changes = Atomic<Int>(0)
    let log: AgentLog
    let notifier = ServiceNotifier()
    let deviceEvents: any DeviceEventSource

    /// What checks keep between them: the program walk, with its change journal (fanotify), so a
    /// periodic check reads only directories that changed since the last.
    let memory = CheckMemory()

    public init(configuration: Configuration, log: AgentLog, deviceEvents: any DeviceEventSource) {
        self.configuration = configuration
        self.log = log
        self.deviceEvents = deviceEvents
    }

    /// One check, signed and spooled. False when no report could be written.
    @discardableResult
    public func checkAndSpool() -> Bool {
        checkStarted.store(Timestamp.seconds(), ordering: .relaxed)
        defer { checkStarted.store(0, ordering: .relaxed) }
        let report: CheckReport
        // Programs unchanged since the last check are not read again (a cache in the state directory);
        // without it they all are, and signing below says what is wrong with the directory.
        var cache: StateDirectory?
        do { cache = try StateDirectory(configuration.stateDirectory) } catch {
            log(
                .warning, ja: "状態ディレクトリを開けません: \(error.message(in: .ja))",
                en: "cannot open the state directory: \(error)")
        }
        do {
            let root = try HostRoot(configuration.root)
            report = try Check.run(
                root: root, ledger: configuration.ledgerFile.map { LedgerFile.load(file: $0) }, cacheDirectory: cache,
                memory: memory
            ) {
                () throws(PolicyError) in
                try PolicyLoader.load(file: configuration.policyFile, rules: configuration.rules)
            }
        } catch let error as PolicyError {
            log(.error, ja: "ポリシーを読み込めません: \(error)", en: "cannot load the policy: \(error)")
            return false
        } catch {
            log(.error, ja: "ルートを開けません: \(error)", en: "cannot open the root: \(error)")
            return false
        }
        do {
            let signed = try ReportSigner.sign(
                report, stateDirectory: configuration.stateDirectory, spool: true, compressed: true)
            let verdict = report.verdict.title
            log(
                .info, ja: "点検しました: \(verdict.ja) (報告 \(signed.report.sequence ?? 0), \(report.reportID))",
                en: "checked: \(verdict.en) (report \(signed.report.sequence ?? 0), \(report.reportID))")
            notifier.status("last check: \(verdict.en)")
            return true
        } catch {
            log(.error, ja: "報告に署名できません: \(error)", en: "cannot sign the report: \(error)")
            return false
        }
    }

    /// Between checks the agent waits for hours: what it needed only while working (free heap
    /// pages, the pages of its own code) is given back, so it sits idle in a few megabytes.
    /// What it keeps for the next check (the walk, the lists' offers) stays.
    func releaseIdleMemory() {
        _ = tenken_release_idle_memory()
    }

    /// Sends what the spool holds, once.
    public func deliver() async -> SpoolSender.Result {
        let link: CollectorLink
        let client: CollectorClient
        do {
            link = try CollectorLink.load(stateDirectory: configuration.stateDirectory)
            client = try link.client(stateDirectory: configuration.stateDirectory)
        } catch {
            return .retryLater(sent: 0, reason: "\(error)")
        }
        let result = await SpoolSender(
            spool: Spool(stateDirectory: configuration.stateDirectory), client: client, log: log
        ).drain()
        await client.shutdown()
        return result
    }

    /// Runs until the task is cancelled (SIGTERM).
    public func run() async {
        tenken_map_large_buffers()
        let (triggers, trigger) = AsyncStream.makeStream(of: Trigger.self, bufferingPolicy: .bufferingNewest(1))
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let watcher = ChangeWatcher(root: configuration.root, directories: configuration.watchedDirectories)
        // Triggers that arrive while a check is waiting or running fold into one more check.
        trigger.yield(.start)
        watcher.start { [self] in
            changes.add(1, ordering: .relaxed)
            trigger.yield(.change)
        }
        do {
            try deviceEvents.start { [log] event in
                guard event.action == .add else { return }
                log(
                    .notice,
                    ja: "USB 機器が接続されました: \(event.vendorID ?? "?"):\(event.productID ?? "?") (\(event.busPath))",
                    en: "USB device plugged in: \(event.vendorID ?? "?"):\(event.productID ?? "?") (\(event.busPath))")
                trigger.yield(.device)
            }
        } catch {
            log(
                .warning, ja: "USB 機器の監視を開始できません (\(error))。定期点検は続けます",
                en: "cannot watch USB devices (\(error)); scheduled checks continue")
        }
        defer {
            notifier.stopping()
            deviceEvents.stop()
            watcher.stop()
        }
        notifier.ready(status: "watching " + watcher.watched.joined(separator: ", "))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.checkWhenTriggered(triggers, wake: wake) }
            group.addTask { await self.sendWhenWoken(wakes, wake: wake) }
            group.addTask {
                while (try? await Task.sleep(for: self.configuration.interval)) != nil { trigger.yield(.schedule) }
            }
            if let interval = notifier.watchdogInterval {
                group.addTask {
                    while (try? await Task.sleep(for: interval)) != nil {
                        let started = self.checkStarted.load(ordering: .relaxed)
                        if started == 0 || Timestamp.seconds() - started < Self.longestCheck {
                            self.notifier.watchdog()
                        }
                    }
                }
            }
            await group.next()  // only on cancellation
            group.cancelAll()
        }
    }

    private func checkWhenTriggered(_ triggers: AsyncStream<Trigger>, wake: AsyncStream<Void>.Continuation) async {
        var covered = 0
        for await trigger in triggers {
            switch trigger {
            case .start, .schedule:
                break
            case .change:
                // Let the upgrade or edit finish; changes meanwhile are folded into this check.
                guard (try? await Task.sleep(for: configuration.settle)) != nil else { return }
                if changes.load(ordering: .relaxed) == covered { continue }
            case .device:
                // sysfs and udev need a moment to describe the device (interfaces, block devices).
                guard (try? await Task.sleep(for: min(configuration.settle, .seconds(2)))) != nil else { return }
            }
            covered = changes.load(ordering: .relaxed)
            if checkAndSpool() { wake.yield() }
            releaseIdleMemory()
        }
    }

    private func sendWhenWoken(_ wakes: AsyncStream<Void>, wake: AsyncStream<Void>.Continuation) async {
        var backoff = configuration.backoff
        var waiting = false
        var iterator = wakes.makeAsyncIterator()
        while !Task.isCancelled {
            switch await deliver() {
            case .drained(let sent):
                backoff.reset()
                if sent > 0 || waiting {
                    log(.info, ja: "収集サーバーへ \(sent) 件送信しました", en: "sent \(sent) report(s) to the collector")
                }
                waiting = false
                releaseIdleMemory()
                guard await iterator.next() != nil else { return }
            case .retryLater(let sent, let reason, let after):
                // Not before the collector said (a limit's Retry-After), even when woken.
                let delay = max(backoff.next(), after ?? .zero)
                let earliest = ContinuousClock.now + (after ?? .zero)
                if !waiting || sent > 0 {
                    log(
                        .warning, ja: "収集サーバーに送れません (\(reason))。報告は spool に保持し再送します",
                        en: "cannot reach the collector (\(reason)); reports stay spooled and will be retried")
                }
                waiting = true
                // A new report wakes the sender early; otherwise the backoff ends the wait.
                let timer = Task {
                    try await Task.sleep(for: delay)
                    wake.yield()
                }
                releaseIdleMemory()
                var woken = await iterator.next() != nil
                while woken && ContinuousClock.now < earliest { woken = await iterator.next() != nil }
                timer.cancel()
                guard woken else { return }
            }
        }
    }
}
