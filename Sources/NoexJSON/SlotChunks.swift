/// Elements in chunks of 4,096, each present or not (a hole): an append never copies the
/// elements before it. One array that doubled copied all of them in one insert (80 MB for a
/// bucket's records at a million: bench/README.md, "A table that grows without stalling").
/// Under `OrderedSlots` (a bucket's records, a large `InsertionOrderedSet`) and the store's
/// `SteppedDictionary`.
public struct SlotChunks<Slot>: RandomAccessCollection {
    @inlinable static var shift: Int { 12 }
    @inlinable static var chunkSize: Int { 1 << shift }
    /// Every chunk but the last is full; the last is not empty.
    @usableFromInline var chunks: [[Slot?]] = []
    @usableFromInline var storedCount = 0
    @inlinable public var count: Int { storedCount }
    /// Chunks before this one were released (`release(below:)`).
    @usableFromInline var released = 0

    @inlinable public init() {}

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { storedCount }

    @inlinable
    public subscript(i: Int) -> Slot? {
        @inline(__always) _read { yield chunks[i >> Self.shift][i & (Self.chunkSize - 1)] }
        @inline(__always) _modify { yield &chunks[i >> Self.shift][i & (Self.chunkSize - 1)] }
    }

    @inlinable
    public mutating func append(_ slot: consuming Slot?) {
        if storedCount & (Self.chunkSize - 1) == 0 {
            // The first chunk grows as an array does (a small table stays small); later ones
            // are made at their full size.
            var chunk: [Slot?] = []
            if !chunks.isEmpty { chunk.reserveCapacity(Self.chunkSize) }
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(slot)
        storedCount += 1
    }

    @inlinable
    public mutating func removeLast() {
        chunks[chunks.count - 1].removeLast()
        if chunks[chunks.count - 1].isEmpty { chunks.removeLast() }
        storedCount -= 1
    }

    @inlinable
    public mutating func reserveCapacity(_ n: Int) {
        chunks.reserveCapacity((n + Self.chunkSize - 1) >> Self.shift)
    }

    /// Frees the chunks that lie wholly below element `n`, all holes by then (an `OrderedSlots`
    /// compaction moved them). Their elements must not be read again: they trap.
    @inlinable
    public mutating func release(below n: Int) {
        let end = Swift.min(n >> Self.shift, chunks.count - 1)
        while released < end {
            chunks[released] = []
            released += 1
        }
    }
}
