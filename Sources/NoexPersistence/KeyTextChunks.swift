#if canImport(Glibc)
import Glibc
#endif

/// The key texts of one `RecordRowMap`, appended into chunks of 1 MiB, so adding a key never
/// copies the bytes already there: one array of all of them was copied whole whenever it
/// doubled (~60 MB at 1.5 million keys, inside one insert).
///
/// A key's address is 32 bits: its chunk's number times 2^20 plus its offset in the chunk. A
/// key that does not fit in the rest of the last chunk starts a new one (the rest stays
/// unused); a key longer than a chunk gets a chunk of its size. The first chunk starts at
/// 4 KiB and doubles up to 1 MiB, so a small bucket stays small.
final class KeyTextChunks {
    private static let shift = 20
    static let chunkSize = 1 << shift
    /// Addresses have 12 bits for the chunk: 4,096 chunks, 4 GiB of keys.
    static let maxChunks = 1 << (32 - shift)
    // Used on the loop thread only, never re-entrantly: no dynamic exclusivity checks.
    @exclusivity(unchecked) private var chunks: [UnsafeMutableRawBufferPointer] = []
    /// Bytes used in the last chunk.
    @exclusivity(unchecked) private var used = 0

    init() {}

    var chunkCount: Int { chunks.count }

    deinit {
        for c in chunks { c.deallocate() }
    }

    static var tooLarge: PersistenceError {
        PersistenceError("the keys of one bucket take more than 4 GiB: the sqlite engine cannot map them")
    }

    /// Copies `key` in; returns its address.
    func append(_ key: UnsafeRawBufferPointer) throws(PersistenceError) -> UInt32 {
        if chunks.isEmpty || used + key.count > chunks[chunks.count - 1].count {
            if chunks.count == 1 && used + key.count <= Self.chunkSize {
                growFirstChunk(to: used + key.count)
            } else {
                guard chunks.count < Self.maxChunks else { throw Self.tooLarge }
                let size = chunks.isEmpty ? Swift.max(4096, key.count) : Swift.max(Self.chunkSize, key.count)
                chunks.append(.allocate(byteCount: size, alignment: 1))
                used = 0
            }
        }
        let address = UInt32(chunks.count - 1) << UInt32(Self.shift) | UInt32(used)
        if let from = key.baseAddress { (chunks[chunks.count - 1].baseAddress! + used).copyMemory(from: from, byteCount: key.count) }
        used += key.count
        return address
    }

    private func growFirstChunk(to needed: Int) {
        var size = chunks[0].count
        while size < needed { size *= 2 }
        size = Swift.min(size, Self.chunkSize)
        let fresh = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
        fresh.baseAddress!.copyMemory(from: chunks[0].baseAddress!, byteCount: used)
        chunks[0].deallocate()
        chunks[0] = fresh
    }

    /// Takes back the last `count` bytes appended.
    func removeLast(_ count: Int) {
        precondition(count <= used, "KeyTextChunks.removeLast: more than the last chunk holds")
        used -= count
    }

    /// Whether the `key.count` bytes at `address` are `key`.
    @inline(__always)
    func equals(_ address: UInt32, _ key: UnsafeRawBufferPointer) -> Bool {
        guard let k = key.baseAddress else { return true }
        let chunk = chunks[Int(address >> UInt32(Self.shift))].baseAddress!
        return memcmp(chunk + Int(address & UInt32(Self.chunkSize - 1)), k, key.count) == 0
    }

    /// The `count` bytes at `address`.
    func bytes(_ address: UInt32, count: Int) -> UnsafeRawBufferPointer {
        let chunk = chunks[Int(address >> UInt32(Self.shift))].baseAddress!
        return UnsafeRawBufferPointer(start: chunk + Int(address & UInt32(Self.chunkSize - 1)), count: count)
    }
}
