// Per-connection outbound queue: byte accounting, water marks, a hard limit and the policy for
// droppable and coalescable pushes. Pure: the loop takes batches out of it and reports when
// they were written.

/// How the application classifies an outbound message.
public enum SendKind: Equatable, Sendable {
    /// A reply to a client request: never dropped or coalesced.
    case response
    /// An event push (e.g. a rules event): dropped (and counted) when it would take the
    /// buffered bytes past the hard limit.
    case push
    /// A push that carries a complete state (e.g. a query-subscription result): while it is
    /// still pending, a newer push with the same key replaces it, so a slow client gets only the
    /// newest result per key.
    case coalescingPush(key: UInt64)
}

/// Byte thresholds of a `WriteQueue`.
public struct WriteQueueLimits: Equatable, Sendable {
    /// Writability returns when buffered bytes fall to or below this.
    public var lowWaterBytes: Int
    /// Above this the connection becomes unwritable (an edge event for the application).
    public var highWaterBytes: Int
    /// Event pushes that would exceed this are dropped; a connection that stays above it longer
    /// than the server's `slowClientTimeoutMs` is disconnected.
    public var hardLimitBytes: Int

    public init(lowWaterBytes: Int = 400 << 10, highWaterBytes: Int = 800 << 10, hardLimitBytes: Int = 1 << 20) {
        precondition(0 <= lowWaterBytes && lowWaterBytes <= highWaterBytes && highWaterBytes <= hardLimitBytes,
            "WriteQueueLimits need 0 <= low <= high <= hard")
        self.lowWaterBytes = lowWaterBytes
        self.highWaterBytes = highWaterBytes
        self.hardLimitBytes = hardLimitBytes
    }
}

/// The queue proper. At most one batch is in flight at a time.
public struct WriteQueue {
    /// What `enqueue` did with a message.
    public enum EnqueueResult: Equatable, Sendable {
        /// Appended to the pending bytes.
        case queued
        /// Replaced an older pending push with the same coalescing key.
        case coalesced
        /// Not queued: an event push past the hard limit.
        case dropped
    }

    /// One pending message; only coalescing pushes remember their key.
    private struct Pending {
        var bytes: [UInt8]
        var coalesceKey: UInt64?
    }

    public let limits: WriteQueueLimits
    private var pending: [Pending] = []
    private(set) public var pendingBytes = 0
    private(set) public var inFlightBytes = 0
    /// False between a `becameUnwritable` edge and the matching `becameWritable` edge.
    private(set) public var isWritable = true
    /// Event pushes dropped so far on this connection.
    private(set) public var droppedPushes = 0

    public init(limits: WriteQueueLimits = .init()) {
        self.limits = limits
    }

    /// Pending plus in-flight bytes: the `bufferedAmount` the application sees.
    public var bufferedBytes: Int { pendingBytes + inFlightBytes }
    /// Whether anything waits to be written.
    public var hasPending: Bool { pendingBytes > 0 }
    /// Whether a batch is being written.
    public var hasInFlight: Bool { inFlightBytes > 0 }
    /// Nothing pending and nothing in flight.
    public var isDrained: Bool { pendingBytes == 0 && inFlightBytes == 0 }
    /// Above the hard limit (the server times how long this lasts).
    public var isOverHardLimit: Bool { bufferedBytes > limits.hardLimitBytes }

    /// Queues one encoded frame. `becameUnwritable` is true exactly when this call took the
    /// buffered bytes above the high-water mark.
    public mutating func enqueue(_ bytes: [UInt8], kind: SendKind) -> (result: EnqueueResult, becameUnwritable: Bool) {
        switch kind {
        case .response:
            append(bytes, key: nil)
            return (.queued, checkUnwritable())
        case .push:
            if bufferedBytes + bytes.count > limits.hardLimitBytes {
                droppedPushes += 1
                return (.dropped, false)
            }
            append(bytes, key: nil)
            return (.queued, checkUnwritable())
        case .coalescingPush(let key):
            if let i = pending.lastIndex(where: { $0.coalesceKey == key }) {
                pendingBytes += bytes.count - pending[i].bytes.count
                pending[i].bytes = bytes
                return (.coalesced, checkUnwritable())
            }
            append(bytes, key: key)
            return (.queued, checkUnwritable())
        }
    }

    /// Moves all pending bytes into one contiguous batch that becomes the in-flight write.
    /// Returns nil when nothing is pending or a batch is already in flight.
    public mutating func takeBatch() -> [UInt8]? {
        guard pendingBytes > 0, inFlightBytes == 0 else { return nil }
        var batch: [UInt8]
        if pending.count == 1 {
            batch = pending[0].bytes
        } else {
            batch = []
            batch.reserveCapacity(pendingBytes)
            for p in pending { batch.append(contentsOf: p.bytes) }
        }
        pending.removeAll(keepingCapacity: true)
        inFlightBytes = pendingBytes
        pendingBytes = 0
        return batch
    }

    /// The in-flight batch was written (or failed). Returns true exactly when this crossing
    /// made the queue writable again (the `becameWritable` edge, uWS's `drain`).
    public mutating func batchWritten() -> Bool {
        inFlightBytes = 0
        if !isWritable && bufferedBytes <= limits.lowWaterBytes {
            isWritable = true
            return true
        }
        return false
    }

    /// Drops everything pending (the connection is gone); in-flight bytes stay accounted until
    /// their write completes.
    public mutating func discardPending() {
        pending.removeAll()
        pendingBytes = 0
    }

    private mutating func append(_ bytes: [UInt8], key: UInt64?) {
        pending.append(Pending(bytes: bytes, coalesceKey: key))
        pendingBytes += bytes.count
    }

    private mutating func checkUnwritable() -> Bool {
        if isWritable && bufferedBytes > limits.highWaterBytes {
            isWritable = false
            return true
        }
        return false
    }
}
