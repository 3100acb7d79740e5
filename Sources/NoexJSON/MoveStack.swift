/// A LIFO buffer of values that are moved in and moved out, never copied.
///
/// The parser pushes the members of every open array or object here and, when the container
/// closes, moves exactly that many into a right-sized array or dictionary: no growth
/// reallocations for containers, and no retain/release traffic for the moved elements.
/// Elements still held when the stack is dropped (a parse that failed halfway) are destroyed.
struct MoveStack<Element>: ~Copyable {
    /// The caller's scratch memory at first, heap memory once that is outgrown.
    private var base: UnsafeMutablePointer<Element>?
    private(set) var count = 0
    private var capacity = 0
    private let initialCapacity: Int
    /// False while `base` is the caller's scratch memory, which is not ours to free.
    private var ownsBase = true

    /// Starts in `scratch` (e.g. stack memory of the caller, which must outlive this stack)
    /// and moves to the heap only when it outgrows it: a small document allocates nothing here.
    init(scratch: UnsafeMutableBufferPointer<Element>) {
        base = scratch.baseAddress
        capacity = scratch.count
        initialCapacity = max(scratch.count, 4)
        ownsBase = false
    }

    deinit {
        if let base {
            base.deinitialize(count: count)
            if ownsBase { base.deallocate() }
        }
    }

    @inline(__always)
    mutating func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (base.unsafelyUnwrapped + count).initialize(to: element)
        count += 1
    }

    @inline(never)
    private mutating func grow() {
        let newCapacity = capacity == 0 ? initialCapacity : capacity * 2
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if let base {
            newBase.moveInitialize(from: base, count: count)
            if ownsBase { base.deallocate() }
        }
        base = newBase
        ownsBase = true
        capacity = newCapacity
    }

    /// Moves the elements from `start` to the top into a new array and pops them.
    mutating func popArray(from start: Int) -> [Element] {
        let n = count - start
        if n == 0 { return [] }
        let source = base.unsafelyUnwrapped + start
        count = start
        var result: [Element] = []
        result.reserveCapacity(n)
        for i in 0..<n { result.append((source + i).move()) }
        return result
    }

    /// Pops the elements from `start` to the top and returns their address: the caller owns
    /// them and must move every one out (`move()`) before the next push.
    mutating func take(from start: Int) -> UnsafeMutablePointer<Element> {
        count = start
        return base.unsafelyUnwrapped + start
    }
}
