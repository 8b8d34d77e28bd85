import CSystemd

/// Tells systemd how the service is doing (Type=notify): ready, status line, watchdog pings,
/// stopping. sd_notify(3) does nothing when NOTIFY_SOCKET is unset, e.g. when run by hand.
public struct ServiceNotifier: Sendable {
    public init() {}

    public func ready(status: String) { send("READY=1\nSTATUS=" + status.replacingNewlines()) }
    public func status(_ text: String) { send("STATUS=" + text.replacingNewlines()) }
    public func stopping() { send("STOPPING=1") }
    public func watchdog() { send("WATCHDOG=1") }

    /// Half the watchdog period systemd set (WatchdogSec=), or nil when there is none.
    public var watchdogInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds / 2))
    }

    private func send(_ state: String) {
        _ = sd_notify(0, state)
    }
}
