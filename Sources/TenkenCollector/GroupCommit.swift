import Synchronization

/// Writes that arrive while one is in progress are gathered and done together in the next
/// transaction (group commit): a fleet reporting at once costs one commit per batch instead of
/// one per report. Each caller still gets its own result, only after the batch committed.
final class GroupCommit<Item: Sendable, Outcome: Sendable>: Sendable {
    typealias Waiter = (item: Item, continuation: CheckedContinuation<Outcome, any Error>)

    /// Writes a batch in one transaction; one result per item, in order (an item's own error
    /// must not fail the others).
    private let write: @Sendable ([Item]) async throws -> [Result<Outcome, any Error>]
    private let state = Mutex<(waiting: [Waiter], writing: Bool)>(([], false))

    init(write: @escaping @Sendable ([Item]) async throws -> [Result<Outcome, any Error>]) {
        self.write = write
    }

    func submit(_ item: Item) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let starts = state.withLock { state in
                state.waiting.append((item, continuation))
                defer { state.writing = true }
                return !state.writing
            }
            if starts { Task { await self.drain() } }
        }
    }

    /// Writes batches until no one waits.
    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Waiter] in
                if state.waiting.isEmpty { state.writing = false }
                defer { state.waiting = [] }
                return state.waiting
            }
            if batch.isEmpty { return }
            do {
                let results = try await write(batch.map(\.item))
                for (waiter, result) in zip(batch, results) { waiter.continuation.resume(with: result) }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}
