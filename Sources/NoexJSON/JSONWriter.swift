/// The serializer's output buffer: raw memory grown by doubling, written through a pointer
/// (no per-byte uniqueness or bounds checks), handed over to a `[UInt8]` with one copy.
struct JSONWriter: ~Copyable {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int
    /// False while `base` is the caller's scratch memory (`init(scratch:)`): not ours to free.
    private var owned: Bool

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
        owned = true
    }

    /// Starts in the caller's memory (e.g. a stack buffer, which must outlive the writer) and
    /// moves to the heap only if the text outgrows it: a text that fits costs no allocation
    /// until `makeArray` (issue 13, fourth round: `attachText` on every insert).
    init(scratch: UnsafeMutableBufferPointer<UInt8>) {
        base = scratch.baseAddress!
        capacity = scratch.count
        owned = false
    }

    deinit { if owned { base.deallocate() } }

    /// Makes room for `n` more bytes and returns where they go; the caller then calls
    /// `advance(by:)` with the number actually written.
    @inline(__always)
    mutating func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if count + n > capacity { grow(to: count + n) }
        return base + count
    }

    @inline(__always)
    mutating func advance(by n: Int) { count += n }

    @inline(never)
    private mutating func grow(to needed: Int) {
        var newCapacity = Swift.max(capacity * 2, 64)
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        if owned { base.deallocate() }
        owned = true
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        reserve(1).pointee = byte
        count += 1
    }

    @inline(__always)
    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    @inline(__always)
    mutating func write(_ s: StaticString) {
        write(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// The written bytes as a new array.
    func makeArray() -> [UInt8] {
        let n = count
        if n == 0 { return [] }
        let source = base
        return [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            buffer.baseAddress!.update(from: source, count: n)
            initialized = n
        }
    }
}
