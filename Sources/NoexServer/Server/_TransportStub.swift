// TEMPORARY (uncommitted): stand-ins for NoexLoop types until the transport branch lands.
public struct ConnectionID: Hashable, Sendable {
    public let index: UInt32
    public let generation: UInt32
    public init(index: UInt32, generation: UInt32) { self.index = index; self.generation = generation }
}
public enum SendKind: Equatable, Sendable { case response, push, coalescingPush(key: UInt64) }
public enum SendResult: Equatable, Sendable { case queued, coalesced, dropped, notOpen }
