import Dispatch
import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// The server drives the store's TTL purge on a loop timer, and counts pushes lost to backpressure.
@Suite(.serialized) struct ServerTimerAndCounterTests {
    private func json(_ s: String?) -> JSON { s.flatMap { try? JSON.parse($0) } ?? .null }

    private func ttlServer(checkIntervalMs: Int) -> ServerThread {
        ServerThread {
            let store = Store(name: "ttl-store", ttlCheckIntervalMs: checkIntervalMs, nowMs: ServerClock.systemWallMs)
            try! store.defineBucket("sessions", config: ["key": "id", "schema": ["id": ["type": "string"]], "ttl": 200])
            try! store.defineQuery("all-sessions", config: ["bucket": "sessions"])
            return ServerConfig(store: store)
        }
    }

    private func ask(_ c: WebSocketTestClient, _ request: JSON) -> JSON {
        c.sendText(request.jsonString)
        let id = request["id"]
        return json(c.nextText { s in
            let j = try? JSON.parse(s)
            return j?["id"] == id && j?["type"] != "push"
        })
    }

    @Test func expiredRecordsArePurgedAndSubscribersPushed() throws {
        let server = ttlServer(checkIntervalMs: 50)
        defer { server.stop() }
        let c = try #require(WebSocketTestClient(port: server.port))
        #expect(json(c.nextText())["type"] == "welcome")
        #expect(ask(c, ["id": 1, "type": "store.subscribe", "query": "all-sessions"])["data"]?["data"] == [])
        let inserted = ask(c, ["id": 2, "type": "store.insert", "bucket": "sessions", "data": ["id": "s1"]])
        #expect(inserted["data"]?["_expiresAt"]?.intValue != nil)
        #expect(json(c.nextText())["data"]?.arrayValue?.count == 1)  // the insert's push
        // Expires 200 ms after the insert; purged by the next 50 ms tick (read timeout 3 s).
        let started = DispatchTime.now()
        let expiry = json(c.nextText { $0.contains("\"push\"") })
        #expect(expiry == ["type": "push", "channel": "subscription", "subscriptionId": "sub-1", "data": []])
        let waitedMs = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
        #expect(waitedMs < 2000)
        #expect(ask(c, ["id": 3, "type": "store.get", "bucket": "sessions", "key": "s1"]) == ["id": 3, "type": "result", "data": .null])
    }

    @Test func intervalZeroNeverPurges() throws {
        let server = ttlServer(checkIntervalMs: 0)
        defer { server.stop() }
        let c = try #require(WebSocketTestClient(port: server.port))
        #expect(json(c.nextText())["type"] == "welcome")
        _ = ask(c, ["id": 1, "type": "store.insert", "bucket": "sessions", "data": ["id": "s1"]])
        usleep(400_000)
        // Expired but not purged: still visible, as in the original.
        #expect(ask(c, ["id": 2, "type": "store.get", "bucket": "sessions", "key": "s1"])["data"]?["id"] == "s1")
        #expect(ask(c, ["id": 3, "type": "store.stats"])["data"]?["ttl"] == ["enabled": false, "checkIntervalMs": 0])
    }

    @Test func droppedPushesAreCounted() {
        let h = Harness()
        let slow = h.connect()
        let fast = h.connect()
        _ = slow.take()
        _ = fast.take()
        #expect(slow.data(["id": 1, "type": "store.subscribe", "query": "user-count"])["subscriptionId"] == "sub-1")
        #expect(fast.data(["id": 1, "type": "store.subscribe", "query": "user-count"])["subscriptionId"] == "sub-2")
        h.transport.droppingPushes = [slow.id]
        for i in 0..<3 { _ = fast.call(["id": .int(Int64(10 + i)), "type": "store.insert", "bucket": "users", "data": ["name": "u"]]) }
        #expect(fast.pushes().count == 3)
        #expect(slow.pushes().isEmpty)
        let stats = h.core.statsJSON(includeListener: true)
        #expect(stats["pushes"] == ["sent": 6, "dropped": 3])
        #expect(h.core.statsJSON(includeListener: false)["pushes"] == nil)  // server.stats keeps the original's shape
        let infos = h.core.connectionInfos(withCounters: true)
        #expect(infos.map { $0["droppedPushes"] } == [3, 0])
        #expect(h.core.connectionInfos().allSatisfy { $0["droppedPushes"] == nil })
        slow.disconnect()
        #expect(h.core.statsJSON(includeListener: true)["pushes"]?["dropped"] == 3)  // survives the connection
    }
}
