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
    /// still pending, a newer push with the same key replaces it in place, so a slow client gets
    /// only the newest result per key. One that would take the buffered bytes past the hard
    /// limit is dropped and its key listed in `staleKeys`, so the application can send the
    /// current state again once the queue has drained: nothing but intermediate states is lost.
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

/// The queue proper. Pending frames are kept back to back in one buffer, so a batch is taken
/// without copying and a frame is written into the queue without an intermediate array. At most
/// one batch is in flight at a time: taken out of `pending` (from then on it is never replaced or
/// dropped) and written from `sentOffset` on, over as many writes as the kernel needs.
public struct WriteQueue {
    /// What `enqueue` did with a message.
    public enum EnqueueResult: Equatable, Sendable {
        /// Appended to the pending bytes.
        case queued
        /// Replaced an older pending push with the same coalescing key.
        case coalesced
        /// Not queued: a push past the hard limit (see `SendKind`).
        case dropped
    }

    /// Where a still-pending coalescing push sits in `pending`.
    private struct CoalescingSpan {
        var key: UInt64
        var offset: Int
        var count: Int
    }

    /// The pending frames, back to back: the next batch.
    private var pending: [UInt8] = []
    /// The coalescing pushes in `pending`, in queue order.
    private var coalescing: [CoalescingSpan] = []
    /// The batch being written, and how much of it the kernel has taken.
    private var inFlight: [UInt8] = []
    private var sentOffset = 0
    /// Pushes dropped so far on this connection: event pushes past the hard limit, and
    /// coalescing pushes that did not fit (their keys go to `staleKeys`).
    private(set) public var droppedPushes = 0
    /// Keys of coalescing pushes dropped since the last `takeStaleKeys`, oldest first.
    private(set) public var staleKeys: [UInt64] = []
    /// The largest `bufferedBytes` this queue has held: the figure the hard limit bounds
    /// (at most `hardLimitBytes` plus one message).
    private(set) public var peakBufferedBytes = 0
    /// False between a `becameUnwritable` edge and the matching `becameWritable` edge. (Last:
    /// the queue sits in every connection's slab entry, and a Bool between Ints costs padding.)
    private(set) public var isWritable = true

    /// The limits are the server's, the same for every connection: they are passed to the calls
    /// that need them instead of being copied into every connection's slab entry.
    public init() {}

    /// Bytes waiting for the next batch.
    public var pendingBytes: Int { pending.count }
    /// Pending plus in-flight bytes: the `bufferedAmount` the application sees.
    public var bufferedBytes: Int { pending.count + inFlightBytes }
    /// Whether anything waits to be written.
    public var hasPending: Bool { !pending.isEmpty }
    /// Bytes of the in-flight batch not written yet.
    public var inFlightBytes: Int { inFlight.count - sentOffset }
    /// Whether a batch is being written.
    public var hasInFlight: Bool { !inFlight.isEmpty }
    /// Nothing pending and nothing in flight.
    public var isDrained: Bool { pending.isEmpty && inFlight.isEmpty }
    /// Above the hard limit (the server times how long this lasts).
    public func isOverHardLimit(_ limits: WriteQueueLimits) -> Bool { bufferedBytes > limits.hardLimitBytes }

    /// Queues one encoded frame. `becameUnwritable` is true exactly when this call took the
    /// buffered bytes above the high-water mark.
    public mutating func enqueue(_ bytes: [UInt8], kind: SendKind, limits: WriteQueueLimits)
        -> (result: EnqueueResult, becameUnwritable: Bool)
    {
        enqueue(count: bytes.count, kind: kind, limits: limits) { $0.append(contentsOf: bytes) }
    }

    /// Queues one frame of `count` bytes that `write` appends to the buffer it is given (it
    /// must append exactly `count` bytes): the frame is encoded straight into the queue.
    @inline(__always)
    public mutating func enqueue(count: Int, kind: SendKind, limits: WriteQueueLimits, write: (inout [UInt8]) -> Void)
        -> (result: EnqueueResult, becameUnwritable: Bool)
    {
        switch kind {
        case .response:
            append(count, write)
            return (.queued, checkUnwritable(limits))
        case .push:
            guard fitsUnderHardLimit(count, besides: 0, limits) else {
                droppedPushes += 1
                return (.dropped, false)
            }
            append(count, write)
            return (.queued, checkUnwritable(limits))
        case .coalescingPush(let key):
            if let i = coalescing.lastIndex(where: { $0.key == key }) {
                let old = coalescing[i]
                guard fitsUnderHardLimit(count, besides: old.count, limits) else {
                    // The newer state does not fit either: drop both, and let the application
                    // send the state again once the queue has drained.
                    replaceSpan(i, with: [])
                    coalescing.remove(at: i)
                    markStale(key)
                    return (.dropped, false)
                }
                var bytes: [UInt8] = []
                bytes.reserveCapacity(count)
                write(&bytes)
                replaceSpan(i, with: bytes)
                return (.coalesced, checkUnwritable(limits))
            }
            guard fitsUnderHardLimit(count, besides: 0, limits) else {
                markStale(key)
                return (.dropped, false)
            }
            let offset = pending.count
            append(count, write)
            coalescing.append(CoalescingSpan(key: key, offset: offset, count: pending.count - offset))
            staleKeys.removeAll { $0 == key }
            return (.queued, checkUnwritable(limits))
        }
    }

    /// Whether a push of `count` bytes may be queued in place of `replaced` pending bytes: it
    /// must stay within the hard limit, unless nothing else would remain buffered (a push
    /// larger than the limit on its own still goes out alone: the one-message overshoot).
    private func fitsUnderHardLimit(_ count: Int, besides replaced: Int, _ limits: WriteQueueLimits) -> Bool {
        let others = bufferedBytes - replaced
        return others == 0 || others + count <= limits.hardLimitBytes
    }

    /// Puts `bytes` in place of coalescing span `i` and shifts the spans after it.
    private mutating func replaceSpan(_ i: Int, with bytes: [UInt8]) {
        let old = coalescing[i]
        pending.replaceSubrange(old.offset..<(old.offset + old.count), with: bytes)
        coalescing[i].count = bytes.count
        let delta = bytes.count - old.count
        if delta != 0 {
            for j in (i + 1)..<coalescing.count { coalescing[j].offset += delta }
        }
        peakBufferedBytes = Swift.max(peakBufferedBytes, bufferedBytes)
    }

    /// A coalescing push for `key` was dropped: counted, and remembered until
    /// `takeStaleKeys` (a key is listed once however often its pushes were dropped).
    private mutating func markStale(_ key: UInt64) {
        droppedPushes += 1
        if !staleKeys.contains(key) { staleKeys.append(key) }
    }

    /// The keys whose newest coalescing push was dropped since the last call, oldest first;
    /// the application re-sends their current state (best when `isDrained`, when a push
    /// always fits).
    public mutating func takeStaleKeys() -> [UInt64] {
        defer { staleKeys = [] }
        return staleKeys
    }

    /// Makes all pending bytes the in-flight batch (without copying them) and returns it. Returns
    /// nil when nothing is pending or a batch is already in flight.
    @discardableResult
    public mutating func takeBatch() -> [UInt8]? {
        guard !pending.isEmpty, inFlight.isEmpty else { return nil }
        inFlight = pending
        pending = []
        coalescing.removeAll(keepingCapacity: true)
        sentOffset = 0
        return inFlight
    }

    /// Calls `body` with the in-flight bytes not written yet (empty when none are in flight).
    public func withUnsentBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        inFlight.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[sentOffset...])) }
    }

    /// The kernel took `count` more bytes of the in-flight batch. Returns true when the batch
    /// is now complete (then call `batchWritten`).
    public mutating func sent(_ count: Int) -> Bool {
        precondition(count >= 0 && count <= inFlightBytes, "sent more than was in flight")
        sentOffset += count
        return sentOffset == inFlight.count
    }

    /// The buffer of the in-flight batch, emptied but with its capacity, once the batch was
    /// written completely (call before `batchWritten`): another batch can reuse it instead of
    /// allocating its own.
    public mutating func takeWrittenBuffer() -> [UInt8] {
        precondition(sentOffset == inFlight.count, "the batch is still being written")
        var buffer = inFlight
        inFlight = []
        sentOffset = 0
        buffer.removeAll(keepingCapacity: true)
        return buffer
    }

    /// Whether the next frame would need a fresh buffer (nothing pending, no capacity).
    public var wantsBuffer: Bool { pending.capacity == 0 }

    /// Takes an empty buffer (see `takeWrittenBuffer`) for the next pending frames.
    public mutating func adoptBuffer(_ buffer: [UInt8]) {
        precondition(buffer.isEmpty, "only an empty buffer can be adopted")
        if pending.capacity == 0 { pending = buffer }
    }

    /// The in-flight batch is finished: all written, or abandoned because the socket failed.
    /// Returns true exactly when this crossing made the queue writable again (the
    /// `becameWritable` edge, uWS's `drain`).
    public mutating func batchWritten(limits: WriteQueueLimits) -> Bool {
        inFlight = []
        sentOffset = 0
        if !isWritable && bufferedBytes <= limits.lowWaterBytes {
            isWritable = true
            return true
        }
        return false
    }

    /// Drops everything pending and in flight (the connection is gone).
    public mutating func discardPending() {
        pending = []
        inFlight = []
        sentOffset = 0
        coalescing.removeAll()
        staleKeys = []
    }

    /// Room a fresh batch starts with: a few typical frames, so appends rarely regrow it, and
    /// small enough that the allocation (plus Swift's 32-byte array header) stays within glibc's
    /// per-thread cache (blocks up to 1032 bytes), which serves it without taking the general
    /// allocator's slow path.
    static let freshBatchCapacity = 1000

    @inline(__always)
    private mutating func append(_ count: Int, _ write: (inout [UInt8]) -> Void) {
        if pending.capacity == 0 { pending.reserveCapacity(Swift.max(count, Self.freshBatchCapacity)) }
        write(&pending)
        peakBufferedBytes = Swift.max(peakBufferedBytes, bufferedBytes)
    }

    private mutating func checkUnwritable(_ limits: WriteQueueLimits) -> Bool {
        if isWritable && bufferedBytes > limits.highWaterBytes {
            isWritable = false
            return true
        }
        return false
    }
}
