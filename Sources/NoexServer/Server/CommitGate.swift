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

    /// One held output: a send, or a close when `close` is set. A struct read field by field
    /// in place, not an enum matched by copying its payload (bench/README.md, issue 13, fourth
    /// round).
    private struct Held {
        let id: ConnectionID
        let bytes: [UInt8]
        let kind: SendKind
        /// The request id of a reply to a write: answered with the error if the commit fails.
        let failID: JSON?
        let close: (code: UInt16, reason: String)?
    }

    /// Bytes held for the connection in slot `index` of generation `generation` (a slot's
    /// older generation counts nothing for a newer one).
    private struct HeldBytes {
        var generation: UInt32
        var bytes: Int
    }

    // Loop-confined state, never accessed re-entrantly: no dynamic exclusivity checks (~80
    // instructions each, several per held output).
    /// Outputs of the batch being collected.
    @exclusivity(unchecked) private var held: [Held] = []
    /// A batch is being made durable (its outputs wait in the completion).
    private var inFlight = false
    /// Set by the core just before it answers a request that wrote: the answer's request id.
    @exclusivity(unchecked) var writeReplyID: JSON?
    /// Bytes held per connection, by slot index: they count toward its write limits like
    /// queued bytes. An array, not a dictionary: every held output adds and removes its bytes,
    /// and every answer reads them (hashing a ConnectionID each time cost ~1.2k instructions
    /// per insert).
    @exclusivity(unchecked) private var heldBytes: [HeldBytes] = []
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
        held.append(Held(id: id, bytes: bytes, kind: kind, failID: failID, close: nil))
        addHeld(id, bytes.count)
        return .queued
    }

    func close(_ id: ConnectionID, code: UInt16, reason: String) {
        guard holding else { return transport.close(id, code: code, reason: reason) }
        held.append(Held(id: id, bytes: [], kind: .response, failID: nil, close: (code, reason)))
    }

    func bufferedBytes(_ id: ConnectionID) -> Int? {
        transport.bufferedBytes(id).map { $0 + heldBytes(id) }
    }

    private func heldBytes(_ id: ConnectionID) -> Int {
        let i = Int(id.index)
        guard i < heldBytes.count, heldBytes[i].generation == id.generation else { return 0 }
        return heldBytes[i].bytes
    }

    /// Adds (or with a negative count takes back) bytes held for `id`.
    private func addHeld(_ id: ConnectionID, _ count: Int) {
        let i = Int(id.index)
        if i >= heldBytes.count {
            guard count > 0 else { return }
            heldBytes.append(contentsOf: repeatElement(HeldBytes(generation: 0, bytes: 0), count: i + 1 - heldBytes.count))
        }
        if heldBytes[i].generation != id.generation {
            guard count > 0 else { return }  // bytes of an older connection in this slot
            heldBytes[i] = HeldBytes(generation: id.generation, bytes: 0)
        }
        heldBytes[i].bytes = Swift.max(0, heldBytes[i].bytes + count)
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

    /// The held outputs, leaving room for as many in the next batch (a batch is about as large
    /// as the one before; growing the array from empty re-copied it several times per batch).
    private func take() -> [Held] {
        let out = held
        held = []
        held.reserveCapacity(out.count)
        return out
    }

    private func release(_ outputs: [Held], error: PersistenceError?) {
        let failure = error.map { ServerError(.persistenceError, $0.message) }
        var lostDeltas: [(ConnectionID, UInt64)] = []
        defer { for (id, key) in lostDeltas { onLostDeltaPushes?(id, [key]) } }
        let transport = self.transport  // one load of the unowned reference
        outputs.withUnsafeBufferPointer { outputs in
            for i in outputs.indices {
                let id = outputs[i].id
                if let close = outputs[i].close {
                    transport.close(id, code: close.code, reason: close.reason)
                    continue
                }
                addHeld(id, -outputs[i].bytes.count)
                guard let failure else {
                    transport.send(id, text: outputs[i].bytes, kind: outputs[i].kind)
                    continue
                }
                let kind = outputs[i].kind
                if let failID = outputs[i].failID {
                    let e = ServerMessage.error(id: failID, failure, exposeDetails: exposeDetails).serializedBytes
                    transport.send(id, text: e, kind: .response)
                } else if kind == .response {
                    transport.send(id, text: outputs[i].bytes, kind: kind)
                } else if case .coalescingPush(let key) = kind, DeltaPushKey.isDelta(key) {
                    lostDeltas.append((id, key))
                }  // pushes of a failed batch are dropped
            }
        }
    }
}
