import NoexJSON
import Testing

@testable import NoexLoop

/// The hard limit as the write queue enforces it: byte counts through coalescing, pushes that do
/// not fit, the keys to re-send, and the bound checked against a model over random operations.
@Suite struct WriteQueueBoundTests {
    private let limits = WriteQueueLimits(lowWaterBytes: 4, highWaterBytes: 8, hardLimitBytes: 16)

    @Test func coalescingReplacesInPlaceAndAdjustsTheByteCount() {
        var q = WriteQueue()
        _ = q.enqueue([1], kind: .coalescingPush(key: 7), limits: limits)
        _ = q.enqueue([2, 2], kind: .coalescingPush(key: 8), limits: limits)
        _ = q.enqueue([9], kind: .response, limits: limits)
        #expect(q.enqueue([3, 3, 3], kind: .coalescingPush(key: 7), limits: limits).result == .coalesced)
        #expect(q.bufferedBytes == 6)
        #expect(q.enqueue([4], kind: .coalescingPush(key: 8), limits: limits).result == .coalesced)
        #expect(q.bufferedBytes == 5 && q.peakBufferedBytes == 6)
        #expect(q.takeBatch() == [3, 3, 3, 4, 9])
        #expect(q.droppedPushes == 0 && q.staleKeys.isEmpty)
    }

    @Test func coalescingPushesThatDoNotFitAreDroppedAndTheirKeysKept() {
        var q = WriteQueue()
        _ = q.enqueue([UInt8](repeating: 0, count: 10), kind: .response, limits: limits)
        #expect(q.enqueue([1, 1, 1, 1, 1, 1], kind: .coalescingPush(key: 1), limits: limits).result == .queued)  // exactly 16
        #expect(q.enqueue([2], kind: .coalescingPush(key: 2), limits: limits).result == .dropped)  // a new key: 17
        // A newer state of key 1 that is larger than the old one does not fit either: the old
        // one goes too (it is outdated), and the key is re-sent later.
        #expect(q.enqueue([UInt8](repeating: 5, count: 7), kind: .coalescingPush(key: 1), limits: limits).result == .dropped)
        #expect(q.bufferedBytes == 10 && q.peakBufferedBytes == 16)
        #expect(q.droppedPushes == 2)
        #expect(q.staleKeys == [2, 1])
        #expect(q.enqueue([UInt8](repeating: 6, count: 7), kind: .coalescingPush(key: 1), limits: limits).result == .dropped)  // listed once
        #expect(q.enqueue([2], kind: .coalescingPush(key: 2), limits: limits).result == .queued)  // fits now: no longer stale
        #expect(q.takeStaleKeys() == [1])
        #expect(q.takeStaleKeys() == [])
        #expect(q.takeBatch() == [UInt8](repeating: 0, count: 10) + [2])
    }

    @Test func aKeyQueuedAgainIsNoLongerStale() {
        var q = WriteQueue()
        _ = q.enqueue([UInt8](repeating: 0, count: 16), kind: .response, limits: limits)
        #expect(q.enqueue([1], kind: .coalescingPush(key: 3), limits: limits).result == .dropped)
        _ = q.takeBatch()
        _ = q.batchWritten(limits: limits)
        #expect(q.enqueue([1], kind: .coalescingPush(key: 3), limits: limits).result == .queued)
        #expect(q.staleKeys.isEmpty)
    }

    @Test func aPushLargerThanTheLimitGoesOutOnlyAlone() {
        var q = WriteQueue()
        #expect(q.enqueue([UInt8](repeating: 1, count: 20), kind: .push, limits: limits).result == .queued)
        #expect(q.enqueue([2], kind: .push, limits: limits).result == .dropped)
        #expect(q.enqueue([3], kind: .coalescingPush(key: 4), limits: limits).result == .dropped)
        #expect(q.peakBufferedBytes == 20)
        _ = q.takeBatch()
        _ = q.batchWritten(limits: limits)
        #expect(q.enqueue([UInt8](repeating: 1, count: 20), kind: .coalescingPush(key: 4), limits: limits).result == .queued)
    }

    /// Random operations against a plain model of the queue (fixed seed): the batch bytes match
    /// the model's frames, coalescing keeps one frame per key in place, and pushes never take
    /// the buffered bytes past the hard limit unless they are alone.
    @Test func randomOperationsMatchTheModelAndRespectTheBound() {
        var rng = SeededRandom(seed: 0x5eed)
        var q = WriteQueue()
        var model: [(key: UInt64?, bytes: [UInt8])] = []
        var inFlight = 0
        var stale: [UInt64] = []
        for step in 0..<20_000 {
            let size = Int(rng.next() % 9) + 1
            let bytes = [UInt8](repeating: UInt8(step & 0xFF), count: size)
            let buffered = model.reduce(0) { $0 + $1.bytes.count } + inFlight
            switch rng.next() % 6 {
            case 0:
                _ = q.enqueue(bytes, kind: .response, limits: limits)
                model.append((nil, bytes))
            case 1:
                let fits = buffered == 0 || buffered + size <= limits.hardLimitBytes
                #expect(q.enqueue(bytes, kind: .push, limits: limits).result == (fits ? .queued : .dropped))
                if fits { model.append((nil, bytes)) }
            case 2, 3:
                let key = rng.next() % 4
                let old = model.firstIndex { $0.key == key }
                let others = buffered - (old.map { model[$0].bytes.count } ?? 0)
                let fits = others == 0 || others + size <= limits.hardLimitBytes
                let result = q.enqueue(bytes, kind: .coalescingPush(key: key), limits: limits).result
                switch (old, fits) {
                case (let i?, true):
                    #expect(result == .coalesced)
                    model[i].bytes = bytes
                case (let i?, false):
                    #expect(result == .dropped)
                    model.remove(at: i)
                case (nil, true):
                    #expect(result == .queued)
                    model.append((key, bytes))
                    stale.removeAll { $0 == key }
                case (nil, false):
                    #expect(result == .dropped)
                }
                if !fits, !stale.contains(key) { stale.append(key) }
                if fits {
                    #expect(q.bufferedBytes <= limits.hardLimitBytes || q.bufferedBytes == size)
                }
            case 4:
                if inFlight == 0, let batch = q.takeBatch() {
                    #expect(batch == model.flatMap(\.bytes))
                    inFlight = batch.count
                    model = []
                }
            default:
                if inFlight > 0 {
                    _ = q.batchWritten(limits: limits)
                    inFlight = 0
                }
                if q.isDrained { #expect(q.takeStaleKeys() == stale); stale = [] }
            }
            #expect(q.bufferedBytes == model.reduce(0) { $0 + $1.bytes.count } + inFlight)
        }
    }
}
