import NoexJSON
import NoexLoop
import NoexPersistence

/// Flush before sleep (docs/persistence.md): no reply or push that may reflect a write leaves
/// the process before that write is committed.
///
/// Sits between the protocol core and the transport. From the first mutation of a loop
/// iteration on, every output (for any connection: a read by another client may show the
/// uncommitted write) is held in order. Before the loop polls again, the transport's
/// `beforeFlush` hook commits the batch and then hands the held outputs on. While a batch's
/// fsync runs on the threadpool (`always`), outputs produced meanwhile belong to the next batch;
/// batches are released in order.
///
/// If a commit fails, the replies of that batch's writes become `PERSISTENCE_ERROR`, its pushes
/// are dropped (the undo that restores memory publishes fresh ones), other replies go out.
final class CommitGate: ProtocolTransport {
    unowned let transport: any ProtocolTransport
    let durable: DurableStore
    let exposeDetails: Bool

    private enum Held {
        case send(ConnectionID, [UInt8], SendKind, failID: JSON?)
        case close(ConnectionID, UInt16, String)
    }

    /// Outputs of the batch being collected.
    private var held: [Held] = []
    /// A batch is being made durable (its outputs wait in the completion).
    private var inFlight = false
    /// Set by the core just before it answers a request that wrote: the answer's request id.
    var writeReplyID: JSON?
    /// Bytes held per connection: they count toward its write limits like queued bytes.
    private var heldBytes: [ConnectionID: Int] = [:]
    /// Told the keys of delta-subscription pushes a failed batch dropped (their streams resync).
    var onLostDeltaPushes: ((ConnectionID, [UInt64]) -> Void)?
    /// Told when a commit failed (cluster mode halts its applier: docs/cluster.md#failure-modes).
    var onCommitFailed: ((PersistenceError) -> Void)?

    func holdReading(_ id: ConnectionID, _ hold: Bool) { transport.holdReading(id, hold) }

    init(transport: any ProtocolTransport, durable: DurableStore, exposeDetails: Bool) {
        self.transport = transport
        self.durable = durable
        self.exposeDetails = exposeDetails
    }

    private var holding: Bool { durable.hasPending || inFlight || !held.isEmpty }

    // MARK: ProtocolTransport

    @discardableResult
    func send(_ id: ConnectionID, text bytes: [UInt8], kind: SendKind) -> SendResult {
        let failID = writeReplyID
        writeReplyID = nil
        guard holding else { return transport.send(id, text: bytes, kind: kind) }
        held.append(.send(id, bytes, kind, failID: failID))
        heldBytes[id, default: 0] += bytes.count
        return .queued
    }

    func close(_ id: ConnectionID, code: UInt16, reason: String) {
        guard holding else { return transport.close(id, code: code, reason: reason) }
        held.append(.close(id, code, reason))
    }

    func bufferedBytes(_ id: ConnectionID) -> Int? {
        transport.bufferedBytes(id).map { $0 + (heldBytes[id] ?? 0) }
    }

    func pongReceived(_ id: ConnectionID) { transport.pongReceived(id) }

    // MARK: Commit

    /// The loop's pre-poll hook: commit what this iteration wrote, then release its outputs.
    func beforeFlush() {
        guard !inFlight else { return }
        guard durable.hasPending else {
            release(take(), error: nil)
            return
        }
        inFlight = true
        let batch = take()
        durable.commitPending { [unowned self] error in
            self.inFlight = false
            if let error { self.onCommitFailed?(error) }
            self.release(batch, error: error)
            // Outputs held meanwhile without a new write (reads of this batch's data, pushes of
            // a failed batch's undo) may go too.
            if !self.durable.hasPending { self.release(self.take(), error: nil) }
        }
    }

    private func take() -> [Held] {
        let out = held
        held = []
        return out
    }

    private func release(_ outputs: [Held], error: PersistenceError?) {
        let failure = error.map { ServerError(.persistenceError, $0.message) }
        var lostDeltas: [(ConnectionID, UInt64)] = []
        defer { for (id, key) in lostDeltas { onLostDeltaPushes?(id, [key]) } }
        for h in outputs {
            switch h {
            case .close(let id, let code, let reason):
                transport.close(id, code: code, reason: reason)
            case .send(let id, let bytes, let kind, let failID):
                let left = (heldBytes[id] ?? 0) - bytes.count
                heldBytes[id] = left > 0 ? left : nil
                guard let failure else {
                    transport.send(id, text: bytes, kind: kind)
                    continue
                }
                if let failID {
                    let e = ServerMessage.error(id: failID, failure, exposeDetails: exposeDetails).serializedBytes
                    transport.send(id, text: e, kind: .response)
                } else if kind == .response {
                    transport.send(id, text: bytes, kind: kind)
                } else if case .coalescingPush(let key) = kind, DeltaPushKey.isDelta(key) {
                    lostDeltas.append((id, key))
                }  // pushes of a failed batch are dropped
            }
        }
    }
}
