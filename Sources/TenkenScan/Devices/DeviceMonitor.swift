import CSystemd
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A USB device appearing or going away, as udev announces it.
public struct DeviceEvent: Sendable, Hashable {
    /// What udev says happened to the device (its ACTION); `other` for any action not listed.
    public enum Action: String, Sendable { case add, remove, change, bind, unbind, other }

    public let action: Action
    /// sysfs name of the device, e.g. "1-2".
    public let busPath: String
    public let vendorID: String?
    public let productID: String?
    public let serial: String?
}

/// Where the agent hears about USB devices. The real one listens to udev through sd-device;
/// the recorded one replays `udevadm monitor --udev --property` output, for tests and for
/// hosts without udev (containers, this build machine).
public protocol DeviceEventSource: Sendable {
    /// Calls `handle` for every USB device event until `stop()`; returns at once.
    func start(_ handle: @escaping @Sendable (DeviceEvent) -> Void) throws(DeviceMonitorError)
    func stop()
}

/// Why device events cannot be heard: the sd-device or sd-event step that failed and its errno.
public struct DeviceMonitorError: Error, Sendable, CustomStringConvertible {
    public let step: String
    public let code: Int32
    public var description: String { "\(step): \(String(cString: strerror(code)))" }
}

/// udev's USB device events through libsystemd's sd-device monitor, on a thread of its own.
public final class SystemdDeviceMonitor: DeviceEventSource, @unchecked Sendable {
    // The event loop and monitor belong to the monitor thread once started; `running` is the
    // only state shared with the caller.
    private let running = Atomic<Bool>(false)
    private var thread: pthread_t?

    public init() {}

    deinit { stop() }

    public func start(_ handle: @escaping @Sendable (DeviceEvent) -> Void) throws(DeviceMonitorError) {
        var event: OpaquePointer?
        var monitor: OpaquePointer?
        func check(_ code: Int32, _ step: String) throws(DeviceMonitorError) {
            if code < 0 {
                if monitor != nil { sd_device_monitor_unref(monitor) }
                if event != nil { sd_event_unref(event) }
                throw DeviceMonitorError(step: step, code: -code)
            }
        }
        try check(sd_event_new(&event), "sd_event_new")
        try check(sd_device_monitor_new(&monitor), "sd_device_monitor_new")
        try check(sd_device_monitor_filter_add_match_subsystem_devtype(monitor, "usb", "usb_device"), "filter usb")
        try check(sd_device_monitor_attach_event(monitor, event), "attach event loop")
        let box = Unmanaged.passRetained(HandlerBox(handle))
        try check(
            sd_device_monitor_start(
                monitor,
                { _, device, userdata in
                    guard let device, let userdata else { return 0 }
                    Unmanaged<HandlerBox>.fromOpaque(userdata).takeUnretainedValue().handle(
                        SystemdDeviceMonitor.event(device))
                    return 0
                }, box.toOpaque()), "sd_device_monitor_start")
        running.store(true, ordering: .releasing)
        let loop = Loop(event: event!, monitor: monitor!, box: box, running: self)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        var created = pthread_t()
        let context = Unmanaged.passRetained(loop).toOpaque()
        let result = pthread_create(
            &created, &attributes,
            { context in
                let loop = Unmanaged<Loop>.fromOpaque(context!).takeRetainedValue()
                loop.run()
                return nil
            }, context)
        guard result == 0 else {
            running.store(false, ordering: .releasing)
            Unmanaged<Loop>.fromOpaque(context).release()
            throw DeviceMonitorError(step: "pthread_create", code: result)
        }
        thread = created
    }

    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing), let thread else { return }
        pthread_join(thread, nil)
        self.thread = nil
    }

    var isRunning: Bool { running.load(ordering: .acquiring) }

    private static func event(_ device: OpaquePointer) -> DeviceEvent {
        func text(_ get: (UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32) -> String? {
            var value: UnsafePointer<CChar>?
            return get(&value) >= 0 ? value.map { String(cString: $0) } : nil
        }
        var raw = sd_device_action_t(rawValue: 0)
        let action: DeviceEvent.Action
        if sd_device_get_action(device, &raw) >= 0 {
            switch raw {
            case SD_DEVICE_ADD: action = .add
            case SD_DEVICE_REMOVE: action = .remove
            case SD_DEVICE_CHANGE: action = .change
            case SD_DEVICE_BIND: action = .bind
            case SD_DEVICE_UNBIND: action = .unbind
            default: action = .other
            }
        } else {
            action = .other
        }
        return DeviceEvent(
            action: action, busPath: text { sd_device_get_sysname(device, $0) } ?? "",
            vendorID: text { sd_device_get_sysattr_value(device, "idVendor", $0) },
            productID: text { sd_device_get_sysattr_value(device, "idProduct", $0) },
            serial: text { sd_device_get_property_value(device, "ID_SERIAL_SHORT", $0) })
    }

    private final class HandlerBox {
        let handle: @Sendable (DeviceEvent) -> Void
        init(_ handle: @escaping @Sendable (DeviceEvent) -> Void) { self.handle = handle }
    }

    /// Runs sd_event in 200 ms slices so `stop()` is noticed, then frees everything on its thread.
    private final class Loop {
        let event: OpaquePointer
        let monitor: OpaquePointer
        let box: Unmanaged<HandlerBox>
        unowned let owner: SystemdDeviceMonitor

        init(
            event: OpaquePointer, monitor: OpaquePointer, box: Unmanaged<HandlerBox>,
            running owner: SystemdDeviceMonitor
        ) {
            self.event = event
            self.monitor = monitor
            self.box = box
            self.owner = owner
        }

        func run() {
            while owner.isRunning {
                if sd_event_run(event, 200_000) < 0 { break }
            }
            sd_device_monitor_stop(monitor)
            sd_device_monitor_unref(monitor)
            sd_event_unref(event)
            box.release()
        }
    }
}

/// Replays events recorded with `udevadm monitor --udev --property --subsystem-match=usb`:
/// a "UDEV [time] action devpath (usb)" line, then KEY=value lines, then a blank line.
public struct RecordedDeviceEvents: DeviceEventSource {
    public let events: [DeviceEvent]

    public init(recording text: String) {
        var events: [DeviceEvent] = []
        for block in text.split(separator: "\n\n") {
            var properties: [String: String] = [:]
            for line in block.split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                properties[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            guard properties["SUBSYSTEM"] == "usb", properties["DEVTYPE"] == "usb_device",
                let path = properties["DEVPATH"]
            else { continue }
            let ids = properties["PRODUCT"]?.split(separator: "/").map {
                String(repeating: "0", count: max(0, 4 - $0.count)) + $0
            }
            events.append(
                DeviceEvent(
                    action: DeviceEvent.Action(rawValue: properties["ACTION"] ?? "") ?? .other,
                    busPath: String(path.split(separator: "/").last ?? ""),
                    vendorID: properties["ID_VENDOR_ID"] ?? ids?.first,
                    productID: properties["ID_MODEL_ID"] ?? ids?.dropFirst().first,
                    serial: properties["ID_SERIAL_SHORT"]))
        }
        self.events = events
    }

    public func start(_ handle: @escaping @Sendable (DeviceEvent) -> Void) throws(DeviceMonitorError) {
        for event in events { handle(event) }
    }

    public func stop() {}
}
