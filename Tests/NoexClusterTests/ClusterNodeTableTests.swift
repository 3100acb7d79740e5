import NoexCluster
import NoexJSON
import Testing

/// How the snapshot holder reads `noex:{NAME}:nodes` (docs/cluster.md#trimming-and-bootstrap):
/// never above a live node's position, timed-out nodes removed, an unreadable entry stops trimming.
@Suite struct ClusterNodeTableTests {
    static func value(_ id: String, at: Int64, durable: Bool = true) -> String {
        let p = ClusterPosition(lastID: StreamID(id)!, timeMs: 0)
        return String(decoding: ClusterNodeTable.entry(position: p, durable: durable, atMs: at).serializedBytes, as: UTF8.self)
    }

    @Test func theLimitIsTheLowestLivePositionAndTheSnapshot() {
        let live = [("a", Self.value("50-0", at: 1_000)), ("b", Self.value("30-2", at: 900, durable: false))]
        #expect(ClusterNodeTable.verdict(fieldsAndValues: live, snapshot: StreamID("40-0")!, nowMs: 1_000, timeoutMs: 500)
                == .init(limit: StreamID("30-2")!, expired: []))
        // Every node ahead of the snapshot: the snapshot is the limit.
        #expect(ClusterNodeTable.verdict(fieldsAndValues: live, snapshot: StreamID("20-0")!, nowMs: 1_000, timeoutMs: 500).limit
                == StreamID("20-0")!)
        #expect(ClusterNodeTable.verdict(fieldsAndValues: [], snapshot: StreamID("20-0")!, nowMs: 0, timeoutMs: 1).limit == StreamID("20-0")!)
    }

    @Test func aTimedOutNodeNoLongerHoldsTheTrimBack() {
        let nodes = [("old", Self.value("1-0", at: 100)), ("new", Self.value("60-0", at: 1_000))]
        // 900 ms old with a 900 ms timeout: still live (older than, not as old as).
        #expect(ClusterNodeTable.verdict(fieldsAndValues: nodes, snapshot: StreamID("70-0")!, nowMs: 1_000, timeoutMs: 900)
                == .init(limit: StreamID("1-0")!, expired: []))
        #expect(ClusterNodeTable.verdict(fieldsAndValues: nodes, snapshot: StreamID("70-0")!, nowMs: 1_001, timeoutMs: 900)
                == .init(limit: StreamID("60-0")!, expired: ["old"]))
    }

    @Test func anEntryThatCannotBeReadStopsTrimming() {
        for bad in ["not json", #"{"position":{"id":"x","timeMs":0},"atMs":1}"#, #"{"position":{"id":"1-0","timeMs":0}}"#] {
            #expect(ClusterNodeTable.verdict(fieldsAndValues: [("a", Self.value("5-0", at: 1)), ("z", bad)],
                                             snapshot: StreamID("9-0")!, nowMs: 1, timeoutMs: 10)
                    == .init(limit: nil, expired: []))
        }
    }
}
