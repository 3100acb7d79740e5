import CUV
import Foundation
import NoexCluster
import NoexJSON
import Testing

/// The stream log against a real `redis-server`: order seen by several readers, appends not
/// held up by a blocked read, trimming with gap detection, and resuming after a reconnect.
@Suite(.serialized, .enabled(if: RedisServer.binary != nil, Comment(rawValue: RedisServer.missing)))
struct ClusterLogTests {
    /// A reader and what it delivered.
    final class Follower {
        let reader: ClusterLogReader
        var seen: [(StreamID, JSON?)] = []
        var gap: (StreamID, StreamID)?

        init(_ loop: TestLoop, _ redis: RedisServer, cluster: String = "t", from: StreamID = .zero, blockMs: Int = 1000) {
            let c = RedisConnection(loop: loop.loop, endpoint: redis.endpoint)
            reader = ClusterLogReader(cluster: cluster, connection: c, from: from, batch: 7, blockMs: blockMs)
            reader.onEntry = { [unowned self] in self.seen.append(($0, $1)) }
            reader.onGap = { [unowned self] in self.gap = ($0, $1) }
            reader.start()
        }

        var ids: [StreamID] { seen.map(\.0) }
        func close() { reader.stop(); reader.connection.close() }
    }

    private func entry(_ n: Int) -> JSON { ["n": .int(Int64(n))] }

    @Test func twoWritersTwoReadersOneOrder() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let loop = TestLoop()
        let w1 = ClusterLog(cluster: "t", connection: RedisConnection(loop: loop.loop, endpoint: redis.endpoint))
        let w2 = ClusterLog(cluster: "t", connection: RedisConnection(loop: loop.loop, endpoint: redis.endpoint))
        w1.connection.start(); w2.connection.start()
        let r1 = Follower(loop, redis), r2 = Follower(loop, redis)
        var appended: [StreamID] = []
        // Interleaved appends from two writers, sent without waiting (queued until connected).
        for i in 0..<100 {
            (i % 2 == 0 ? w1 : w2).append(entry: entry(i)) { if case .success(let id) = $0 { appended.append(id) } }
        }
        #expect(loop.run { appended.count == 100 && r1.seen.count == 100 && r2.seen.count == 100 })
        // Both readers saw every entry once, in the same (id) order.
        #expect(r1.ids == appended.sorted())
        #expect(r2.ids == r1.ids)
        #expect(r1.seen.map { $0.1.map { String(decoding: $0.serializedBytes, as: UTF8.self) } ?? "-" }
                == r2.seen.map { $0.1.map { String(decoding: $0.serializedBytes, as: UTF8.self) } ?? "-" })
        #expect(Set(r1.seen.compactMap { $0.1?["n"]?.intValue }) == Set(0..<100))
        // A reader started later from an id gets exactly what follows it.
        let late = Follower(loop, redis, from: r1.ids[49])
        #expect(loop.run { late.seen.count == 50 })
        #expect(late.ids == Array(r1.ids[50...]))
        for f in [r1, r2, late] { f.close() }
        w1.connection.close(); w2.connection.close()
        loop.close()
    }

    @Test func aBlockedReadDoesNotHoldUpAppends() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let loop = TestLoop()
        // The reader blocks for a minute per XREAD; appends on the log's own connection must
        // still complete, and the blocked read must deliver them.
        let r = Follower(loop, redis, blockMs: 60_000)
        #expect(loop.run { r.reader.state == .reading })
        loop.spin(ms: 50)
        let w = ClusterLog(cluster: "t", connection: RedisConnection(loop: loop.loop, endpoint: redis.endpoint))
        w.connection.start()
        var id: StreamID?
        w.append(entry: entry(1)) { id = try? $0.get() }
        #expect(loop.run(limitMs: 20_000) { id != nil && r.seen.count == 1 })
        #expect(r.ids == [id])
        r.close(); w.connection.close()
        loop.close()
    }

    @Test func trimmingAndReadersThatFellBehind() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let loop = TestLoop()
        let w = ClusterLog(cluster: "t", connection: RedisConnection(loop: loop.loop, endpoint: redis.endpoint))
        w.connection.start()
        var ids: [StreamID] = []
        for i in 0..<10 { w.append(entry: entry(i)) { if let id = try? $0.get() { ids.append(id) } } }
        #expect(loop.run { ids.count == 10 })
        var removed: Int64?
        w.trim(below: ids[5]) { removed = try? $0.get() }
        #expect(loop.run { removed != nil })
        #expect(removed == 5)
        // A reader whose last applied id is the last trimmed entry misses nothing.
        let upToDate = Follower(loop, redis, from: ids[4])
        #expect(loop.run { upToDate.seen.count == 5 })
        #expect(upToDate.ids == Array(ids[5...]))
        #expect(upToDate.gap == nil)
        // One further behind, and a fresh one, would miss entries: they stop and say so.
        let behind = Follower(loop, redis, from: ids[3])
        let fresh = Follower(loop, redis)
        #expect(loop.run { behind.gap != nil && fresh.gap != nil })
        #expect(behind.gap! == (ids[3], ids[4]))
        #expect(fresh.gap! == (.zero, ids[4]))
        #expect(behind.seen.isEmpty && fresh.seen.isEmpty)
        #expect(behind.reader.state == .gap)
        // After loading a snapshot at ids[6] it continues from there.
        behind.reader.resume(from: ids[6])
        #expect(loop.run { behind.seen.count == 3 })
        #expect(behind.ids == Array(ids[7...]))
        for f in [upToDate, behind, fresh] { f.close() }
        w.connection.close()
        loop.close()
    }

    @Test func aReaderResumesAfterItsLastIdWhenItsConnectionIsKilled() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let loop = TestLoop()
        let w = ClusterLog(cluster: "t", connection: RedisConnection(loop: loop.loop, endpoint: redis.endpoint))
        w.connection.start()
        let r = Follower(loop, redis)
        var ids: [StreamID] = []
        for i in 0..<20 { w.append(entry: entry(i)) { if let id = try? $0.get() { ids.append(id) } } }
        #expect(loop.run { r.seen.count == 20 })
        // Kill every client connection but the writer's own (the reader's among them).
        var killed: RedisReply?
        w.connection.send(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]) { killed = try? $0.get() }
        #expect(loop.run { killed != nil })
        #expect(killed == .integer(1))
        for i in 20..<40 { w.append(entry: entry(i)) { if let id = try? $0.get() { ids.append(id) } } }
        #expect(loop.run { r.seen.count == 40 })
        #expect(r.ids == ids)  // nothing twice, nothing missing
        #expect(r.reader.connection.connects == 2)
        r.close(); w.connection.close()
        loop.close()
    }

    @Test func streamIDs() {
        #expect(StreamID("1700000000000-3") == StreamID(ms: 1_700_000_000_000, seq: 3))
        #expect(StreamID("5") == StreamID(ms: 5, seq: 0))
        #expect(StreamID("1-2-3") == nil && StreamID("x-1") == nil && StreamID("") == nil)
        #expect(StreamID(ms: 2, seq: 0) > StreamID(ms: 1, seq: 99))
        #expect(StreamID(ms: 1, seq: 10) > StreamID(ms: 1, seq: 9))  // numeric, not text order
    }
}
