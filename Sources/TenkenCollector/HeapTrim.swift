import CProcessMemory
import Dispatch
import Synchronization

/// Gives the heap's free pages back to the system soon after connections close, once a second
/// at most. What a burst of connections allocated on the event loops' arenas stays with the
/// process otherwise (glibc trims only the top of each arena): after 50 clients that pipelined
/// requests had gone, the collector still held 1 GB.
enum HeapTrim {
    private static let pending = Atomic<Bool>(false)

    static func soon() {
        guard pending.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + 1) {
            pending.store(false, ordering: .relaxed)
            _ = tenken_trim_heap()
        }
    }
}
