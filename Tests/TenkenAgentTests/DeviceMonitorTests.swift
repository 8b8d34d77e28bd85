import Foundation
import Synchronization
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("device monitor")
struct DeviceMonitorTests {
    /// As `udevadm monitor --udev --property --subsystem-match=usb` prints a stick being
    /// plugged in: the device, then its interface (which is not a device event), then removal.
    static let recording = """
        UDEV  [93218.612043] add      /devices/pci0000:00/0000:00:14.0/usb1/1-2 (usb)
        ACTION=add
        DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2
        SUBSYSTEM=usb
        DEVNAME=/dev/bus/usb/001/005
        DEVTYPE=usb_device
        PRODUCT=781/5581/100
        TYPE=0/0/0
        BUSNUM=001
        DEVNUM=005
        SEQNUM=4411
        USEC_INITIALIZED=93218604215
        ID_VENDOR=SanDisk
        ID_VENDOR_ID=0781
        ID_MODEL=Ultra
        ID_MODEL_ID=5581
        ID_SERIAL=SanDisk_Ultra_4C530001230804117513
        ID_SERIAL_SHORT=4C530001230804117513
        ID_BUS=usb

        UDEV  [93218.633410] add      /devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0 (usb)
        ACTION=add
        DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0
        SUBSYSTEM=usb
        DEVTYPE=usb_interface
        PRODUCT=781/5581/100
        INTERFACE=8/6/80

        UDEV  [93301.100921] remove   /devices/pci0000:00/0000:00:14.0/usb1/1-2 (usb)
        ACTION=remove
        DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2
        SUBSYSTEM=usb
        DEVNAME=/dev/bus/usb/001/005
        DEVTYPE=usb_device
        PRODUCT=781/5581/100

        """

    @Test("recorded udev events replay as device events; interfaces are skipped")
    func recorded() throws {
        let source = RecordedDeviceEvents(recording: Self.recording)
        let seen = Mutex<[DeviceEvent]>([])
        try source.start { event in seen.withLock { $0.append(event) } }
        let events = seen.withLock { $0 }
        #expect(
            events == [
                DeviceEvent(
                    action: .add, busPath: "1-2", vendorID: "0781", productID: "5581", serial: "4C530001230804117513"),
                DeviceEvent(action: .remove, busPath: "1-2", vendorID: "0781", productID: "5581", serial: nil),
            ])
    }

    @Test("the sd-device monitor starts, runs its loop and stops without leaking or hanging")
    func systemdMonitor() throws {
        let monitor = SystemdDeviceMonitor()
        do {
            try monitor.start { _ in }
        } catch {
            // A sandbox without the uevent netlink socket must fail with a clear step and errno.
            #expect(error.step == "sd_device_monitor_new" || error.step == "sd_device_monitor_start", "\(error)")
            return
        }
        #expect(monitor.isRunning)
        usleep(300_000)
        monitor.stop()
        #expect(!monitor.isRunning)
        monitor.stop()  // twice is harmless
    }
}
