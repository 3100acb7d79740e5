import NoexCluster
import NoexJSON
import Testing
@testable import NoexServer

/// The lag arithmetic of flow control (docs/cluster.md#bounded-staleness-flow-control), without Redis.
struct ClusterFlowControlTests {
    static let head = StreamID(ms: 10_000, seq: 3)

    static func peer(_ f: String, applied: StreamID, seenMs: Int64, atMs: Int64 = 9_900) -> ClusterPeer {
        ClusterPeer(field: f, applied: applied, seenMs: seenMs, atMs: atMs)
    }

    @Test func aPeerThatAppliedTheHeadLagsNothingWhateverItsClock() {
        var flow = ClusterFlowControl()
        flow.peers = [Self.peer("b", applied: Self.head, seenMs: 0)]
        #expect(flow.slowest(own: ("a", 0), head: Self.head, nowMs: 10_050, timeoutMs: 5_000) == nil)
    }

    @Test func aPeerBehindTheHeadLagsSinceItsSeenTimeAndTheSlowestIsNamed() throws {
        var flow = ClusterFlowControl()
        flow.peers = [Self.peer("b", applied: StreamID(ms: 9_000, seq: 0), seenMs: 9_000),
                      Self.peer("c", applied: StreamID(ms: 7_000, seq: 0), seenMs: 7_500)]
        let s = try #require(flow.slowest(own: ("a", 100), head: Self.head, nowMs: 10_000, timeoutMs: 5_000))
        #expect(s.field == "c" && s.lagMs == 2_500)
        #expect(flow.peersHead == StreamID(ms: 9_000, seq: 0))
        // This node, further behind than any peer, is the slowest.
        let own = try #require(flow.slowest(own: ("a", 4_000), head: Self.head, nowMs: 10_000, timeoutMs: 5_000))
        #expect(own.field == "a" && own.lagMs == 4_000)
    }

    @Test func aSilentPeerStopsCountingAfterTheTimeoutAndAHaltedOrJoiningOneNeverCounts() throws {
        var flow = ClusterFlowControl()
        flow.peers = [Self.peer("gone", applied: .zero, seenMs: 1_000, atMs: 4_000)]
        #expect(flow.slowest(own: ("a", 0), head: Self.head, nowMs: 9_000, timeoutMs: 5_000)?.field == "gone")
        #expect(flow.slowest(own: ("a", 0), head: Self.head, nowMs: 9_001, timeoutMs: 5_000) == nil)
        let halted = try #require(ClusterPeer(field: "h", value: #"{"position":{"id":"1-0","timeMs":1},"durable":false,"atMs":9900,"applied":"1-0","seenMs":1,"halted":true}"#))
        flow.peers = [halted]
        #expect(halted.halted && flow.slowest(own: ("a", 0), head: Self.head, nowMs: 10_000, timeoutMs: 5_000) == nil)
        // Nor does one catching up at start: it serves no client yet.
        let joining = try #require(ClusterPeer(field: "j", value: #"{"position":{"id":"1-0","timeMs":1},"durable":false,"atMs":9900,"applied":"1-0","seenMs":1,"joining":true}"#))
        flow.peers = [joining]
        #expect(joining.joining && flow.slowest(own: ("a", 0), head: Self.head, nowMs: 10_000, timeoutMs: 5_000) == nil)
    }

    @Test func entriesParseWithAndWithoutTheFlowFields() throws {
        let e = ClusterNodeTable.entry(position: ClusterPosition(lastID: StreamID(ms: 5, seq: 1), timeMs: 5), durable: true, atMs: 77,
                                       applied: StreamID(ms: 8, seq: 2), seenMs: 70)
        #expect(e.jsonString == #"{"position":{"id":"5-1","timeMs":5},"durable":true,"atMs":77,"applied":"8-2","seenMs":70}"#)
        let p = try #require(ClusterPeer(field: "x", value: e.jsonString))
        #expect(p == Self.peer("x", applied: StreamID(ms: 8, seq: 2), seenMs: 70, atMs: 77))
        // An entry without them (a node of an older version) counts with its trimming position.
        let old = try #require(ClusterPeer(field: "o", value: #"{"position":{"id":"5-1","timeMs":5},"durable":true,"atMs":77}"#))
        #expect(old == Self.peer("o", applied: StreamID(ms: 5, seq: 1), seenMs: 5, atMs: 77))
        #expect(ClusterPeer(field: "bad", value: "not json") == nil)
        let flat: [RedisReply] = [.bulk(Array("x".utf8)), .bulk(Array(e.jsonString.utf8)), .bulk(Array("bad".utf8)), .bulk(Array("{}".utf8))]
        #expect(ClusterFlowControl.peers(fieldsAndValues: flat).map(\.field) == ["x"])
    }
}
