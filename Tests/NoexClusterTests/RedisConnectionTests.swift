import CUV
import Foundation
import NoexCluster
import Testing

/// `RedisConnection` against a real `redis-server`: replies of every kind, reconnect after
/// Redis is killed and restarted, and the bounded queue that fails fast while it is down.
@Suite(.serialized, .enabled(if: RedisServer.binary != nil, Comment(rawValue: RedisServer.missing)))
struct RedisConnectionTests {
    @Test func repliesOfEveryKind() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let loop = TestLoop()
        let c = RedisConnection(loop: loop.loop, endpoint: redis.endpoint)
        var events: [RedisConnectionEvent] = []
        c.onEvent = { events.append($0) }
        c.start()
        #expect(loop.run { c.state == .connected })
        #expect(events == [.connected])
        #expect(try loop.ask(c, ["PING"])?.get() == .status("PONG"))
        #expect(try loop.ask(c, ["SET", "k", "v\u{0}1"])?.get() == .status("OK"))
        #expect(try loop.ask(c, ["GET", "k"])?.get() == .bulk(Array("v\u{0}1".utf8)))
        #expect(try loop.ask(c, ["GET", "missing"])?.get() == .null)
        #expect(try loop.ask(c, ["RPUSH", "l", "a", "b"])?.get() == .integer(2))
        #expect(try loop.ask(c, ["LRANGE", "l", "0", "-1"])?.get() == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
        guard case .error(let e)? = try loop.ask(c, ["INCR", "k"])?.get() else {
            Issue.record("INCR of a non-number must be an error reply")
            return
        }
        #expect(e.hasPrefix("ERR"))
        // Replies come back in command order, many in flight at once.
        var order: [Int64] = []
        for _ in 0..<200 { c.send(["INCR", "n"]) { if case .success(.integer(let n)) = $0 { order.append(n) } } }
        #expect(loop.run { order.count == 200 })
        #expect(order == Array(1...200))
        c.close()
        var after: RedisFailure?
        c.send(["PING"]) { if case .failure(let f) = $0 { after = f } }
        #expect(after?.code == .closed)
        loop.close()
    }

    @Test func reconnectsAfterRedisIsKilledAndRestarted() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let loop = TestLoop()
        var options = RedisConnectionOptions()
        options.reconnectMaxMs = 100
        options.maxQueueWaitMs = 60_000
        let c = RedisConnection(loop: loop.loop, endpoint: redis.endpoint, options: options)
        var events: [RedisConnectionEvent] = []
        c.onEvent = { events.append($0) }
        c.start()
        #expect(loop.run { c.state == .connected })
        // A command in flight when Redis dies fails with connectionLost.
        var blocked: Result<RedisReply, RedisFailure>?
        c.send(["BLPOP", "never", "0"]) { blocked = $0 }
        loop.spin(ms: 50)
        redis.kill()
        #expect(loop.run { blocked != nil })
        guard case .failure(let lost)? = blocked else { Issue.record("BLPOP must fail"); return }
        #expect(lost.code == .connectionLost)
        #expect(events.contains { if case .disconnected = $0 { true } else { false } })
        // While Redis is down: commands wait, connect attempts fail and are retried.
        var queued: [Result<RedisReply, RedisFailure>] = []
        for i in 0..<3 { c.send(["SET", "q\(i)", "\(i)"]) { queued.append($0) } }
        #expect(loop.run { events.contains { if case .connectFailed = $0 { true } else { false } } })
        #expect(queued.isEmpty)
        #expect(c.queuedCount == 3)
        try redis.start()
        #expect(loop.run { queued.count == 3 })
        #expect(queued.allSatisfy { (try? $0.get()) == .status("OK") })
        #expect(c.connects == 2)
        #expect(try loop.ask(c, ["GET", "q2"])?.get() == .bulk(Array("2".utf8)))
        c.close()
        loop.close()
    }

    /// A restarted Redis accepts connections while it loads its dataset and answers every command
    /// `LOADING` until it is done: the connection waits (commands stay queued) instead of handing
    /// them that error — or a log reader stopping on it.
    @Test func waitsWhileRedisLoadsItsDataset() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        for chunk in 0..<20 {
            let pairs = (0..<100).flatMap { ["k\(chunk * 100 + $0)", "v\(chunk * 100 + $0)"] }
            #expect(redis.command(["MSET"] + pairs) == "+OK")
        }
        #expect(redis.command(["SAVE"]) == "+OK")
        redis.kill()
        // 2,000 keys at 1 ms each, events served every KiB of the file: LOADING for about 2 s.
        try redis.start(extra: ["--dbfilename", "dump.rdb", "--key-load-delay", "1000", "--loading-process-events-interval-bytes", "1024"])
        #expect(redis.command(["PING"])?.hasPrefix("-LOADING") == true, "the restarted Redis must still be loading")
        let loop = TestLoop()
        var events: [RedisConnectionEvent] = []
        var options = RedisConnectionOptions()
        options.reconnectMaxMs = 200
        options.maxQueueWaitMs = 60_000
        let c = RedisConnection(loop: loop.loop, endpoint: redis.endpoint, options: options)
        c.onEvent = { events.append($0) }
        c.start()
        var reply: Result<RedisReply, RedisFailure>?
        c.send(["GET", "k1999"]) { reply = $0 }
        #expect(loop.run { reply != nil })
        #expect(reply.flatMap { try? $0.get() } == .bulk(Array("v1999".utf8)))
        #expect(events.contains { if case .connectFailed(let why) = $0 { why.contains("LOADING") } else { false } })
        #expect(c.connects == 1)
        c.close()
        loop.close()
    }

    @Test func failsFastWhileRedisIsDown() throws {
        let loop = TestLoop()
        var options = RedisConnectionOptions()
        options.maxQueued = 2
        options.maxQueueWaitMs = 200
        options.reconnectInitialMs = 20
        options.reconnectMaxMs = 50
        // Nobody listens on this port.
        let c = RedisConnection(loop: loop.loop, endpoint: RedisEndpoint(host: "127.0.0.1", port: RedisServer.freePort()), options: options)
        var events: [RedisConnectionEvent] = []
        c.onEvent = { events.append($0) }
        c.start()
        var results: [Int: RedisFailure] = [:]
        for i in 0..<3 { c.send(["PING"]) { if case .failure(let f) = $0 { results[i] = f } } }
        // Past the bound: refused at once, with a message naming the problem.
        #expect(results[2]?.code == .queueFull)
        #expect(results[2]?.message.contains("unreachable") == true)
        #expect(results[0] == nil && results[1] == nil)
        // The held ones fail once they waited maxQueueWaitMs.
        #expect(loop.run { results.count == 3 })
        #expect(results[0]?.code == .queueTimeout && results[1]?.code == .queueTimeout)
        #expect(events.allSatisfy { if case .connectFailed = $0 { true } else { false } })
        #expect(events.count >= 2)  // it kept retrying
        c.close()
        loop.close()
    }

    @Test func endpointParsing() {
        #expect(RedisEndpoint(url: "redis://10.0.0.1:7000") == RedisEndpoint(host: "10.0.0.1", port: 7000))
        #expect(RedisEndpoint(url: "redis://cache") == RedisEndpoint(host: "cache", port: 6379))
        #expect(RedisEndpoint(url: "localhost:6380/") == RedisEndpoint(host: "localhost", port: 6380))
        #expect(RedisEndpoint(url: "redis://h:0") == nil)
        #expect(RedisEndpoint(url: "redis://h:x") == nil)
        #expect(RedisEndpoint(url: "redis://user@h:1") == nil)
        #expect(RedisEndpoint(url: "redis://") == nil)
    }
}
