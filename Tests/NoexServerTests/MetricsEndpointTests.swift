import Foundation
import NoexJSON
import NoexRules
import Testing
@testable import NoexServer

#if canImport(Glibc)
    import Glibc
#endif

/// `GET /metrics` and `GET /health` on the listening port, over real sockets: a real server on
/// 127.0.0.1 port 0, a real WebSocket client driving requests, curl scraping.
@Suite struct MetricsEndpointTests {
    static func server(_ configure: @escaping @Sendable (inout ServerConfig) -> Void = { _ in },
                       onStart: @escaping @Sendable (NoexServer) -> Void = { _ in }) -> ServerThread {
        ServerThread(makeConfig: {
            let rules = RuleEngine(config: RuleEngineConfig(name: "rule-engine"), clock: WallRulesClock())
            var config = ServerConfig(store: wireStoreFixture(), rules: rules)
            configure(&config)
            return config
        }, onStart: onStart)
    }

    func scrape(_ port: Int, _ path: String = "/metrics", sourceLocation: SourceLocation = #_sourceLocation) throws -> Exposition {
        let r = try #require(curl(port: port, path), sourceLocation: sourceLocation)
        #expect(r.status == 200, sourceLocation: sourceLocation)
        #expect(r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8", sourceLocation: sourceLocation)
        #expect(r.headers["content-length"] == String(r.body.utf8.count), sourceLocation: sourceLocation)
        return try Exposition(parsing: r.body)
    }

    @Test func countersMoveByExactAmounts() throws {
        let server = Self.server()
        defer { server.stop() }
        let before = try scrape(server.port)
        let expectedTypes: [String: String] = [
            "noex_uptime_seconds": "gauge", "noex_connections": "gauge", "noex_connections_accepted_total": "counter",
            "noex_sockets_accepted_total": "counter", "noex_requests_total": "counter",
            "noex_request_errors_total": "counter", "noex_rate_limited_total": "counter",
            "noex_pushes_sent_total": "counter", "noex_pushes_coalesced_total": "counter",
            "noex_pushes_dropped_total": "counter", "noex_received_bytes_total": "counter",
            "noex_sent_bytes_total": "counter", "noex_queued_bytes": "gauge", "noex_loop_lag_seconds": "gauge",
            "noex_loop_lag_max_seconds": "gauge", "noex_store_records": "gauge",
            "noex_rules_events_processed_total": "counter", "noex_accept_errors_total": "counter",
            "noex_connections_reading_paused": "gauge",
        ]
        #expect(before.families.mapValues(\.type) == expectedTypes)
        #expect(before["noex_connections"] == 0)
        #expect(before["noex_store_records{bucket=\"items\"}"] == 0)
        #expect(before.samples["noex_store_records{bucket=\"users\"}"] == 0)

        let c = try WireStoreClient(server)
        let sub = c.data(["type": "store.subscribe", "query": "all-items"])["subscriptionId"]
        #expect(sub == "sub-1")
        for sku in ["a", "b"] {
            #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": "n"]])["type"] == "result")
            #expect(c.nextPush()?["subscriptionId"] == sub)
        }
        #expect(c.ask(["type": "store.get", "bucket": "items", "key": "a"])["type"] == "result")
        #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "a", "name": "n"]])["code"] == "ALREADY_EXISTS")
        #expect(c.ask(["type": "store.get", "bucket": "nope", "key": "a"])["code"] == "BUCKET_NOT_DEFINED")
        #expect(c.ask(["type": "made.up", "x": 1])["code"] == "UNKNOWN_OPERATION")
        #expect(WireStoreClient.parse(c.sendRaw("{not json"))["code"] == "PARSE_ERROR")
        #expect(c.ask(["type": "rules.emit", "topic": "order.created", "data": [:]])["type"] == "result")

        let after = try scrape(server.port)
        func delta(_ series: String) -> Double { after[series] - before[series] }
        #expect(delta("noex_requests_total{op=\"store.subscribe\"}") == 1)
        #expect(delta("noex_requests_total{op=\"store.insert\"}") == 3)
        #expect(delta("noex_requests_total{op=\"store.get\"}") == 2)
        #expect(delta("noex_requests_total{op=\"rules.emit\"}") == 1)
        #expect(delta("noex_requests_total{op=\"other\"}") == 1)
        #expect(delta("noex_requests_total{op=\"invalid\"}") == 1)
        #expect(after.samples.keys.filter { $0.hasPrefix("noex_requests_total") }.count == 6)
        #expect(delta("noex_request_errors_total{op=\"store.insert\",code=\"ALREADY_EXISTS\"}") == 1)
        #expect(delta("noex_request_errors_total{op=\"store.get\",code=\"BUCKET_NOT_DEFINED\"}") == 1)
        #expect(delta("noex_request_errors_total{op=\"other\",code=\"UNKNOWN_OPERATION\"}") == 1)
        #expect(delta("noex_request_errors_total{op=\"invalid\",code=\"PARSE_ERROR\"}") == 1)
        #expect(after.samples.keys.filter { $0.hasPrefix("noex_request_errors_total") }.count == 4)
        #expect(delta("noex_rate_limited_total") == 0)
        #expect(delta("noex_pushes_sent_total") == 2)
        #expect(delta("noex_pushes_coalesced_total") == 0)
        #expect(delta("noex_pushes_dropped_total") == 0)
        #expect(delta("noex_rules_events_processed_total") == 1)
        #expect(delta("noex_connections_accepted_total") == 1)
        // The WebSocket connection and this scrape's own connection.
        #expect(delta("noex_sockets_accepted_total") == 2)
        #expect(delta("noex_received_bytes_total") > 0)
        #expect(delta("noex_sent_bytes_total") > 0)
        #expect(after["noex_connections"] == 1)
        #expect(after["noex_store_records{bucket=\"items\"}"] == 2)
        #expect(after["noex_queued_bytes"] == 0)
        #expect(delta("noex_accept_errors_total") == 0)
        #expect(after["noex_connections_reading_paused"] == 0)
        #expect(after["noex_loop_lag_max_seconds"] >= after["noex_loop_lag_seconds"])
        #expect(after["noex_uptime_seconds"] >= before["noex_uptime_seconds"])
    }

    /// Two inserts read together: the second one's subscription push replaces the first's while
    /// it is still queued. Whether the reads were really joined is up to TCP, so the test checks
    /// the counters against what the client saw.
    @Test func coalescedPushesMatchWhatTheClientSaw() throws {
        let server = Self.server()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        #expect(c.data(["type": "store.subscribe", "query": "all-items"])["subscriptionId"] == "sub-1")
        c.ws.sendTextsTogether([
            #"{"id":10,"type":"store.insert","bucket":"items","data":{"sku":"a","name":"n"}}"#,
            #"{"id":11,"type":"store.insert","bucket":"items","data":{"sku":"b","name":"n"}}"#,
        ])
        // A third request as a barrier: every push of the inserts is written before its answer.
        c.ws.sendText(#"{"id":12,"type":"store.count","bucket":"items"}"#)
        var answers: [JSON] = [], pushes: [JSON] = []
        while answers.count < 3, let text = c.ws.nextText() {
            let j = WireStoreClient.parse(text)
            if j["type"] == "push" { pushes.append(j) } else { answers.append(j) }
        }
        #expect(answers.map { $0["id"] } == [10, 11, 12])
        #expect(answers.last?["data"] == 2)
        #expect(pushes.count == 1 || pushes.count == 2)
        let m = try scrape(server.port)
        let seen = Double(pushes.count)
        // Every push carries the newest result; the last one has both records.
        #expect(pushes.last?["data"]?.arrayValue?.count == 2)
        #expect(m["noex_pushes_sent_total"] == 2)
        #expect(m["noex_pushes_coalesced_total"] == 2 - seen)
    }

    @Test func rateLimitedRequestsAreCounted() throws {
        let server = Self.server { $0.rateLimit = RateLimitConfig(maxRequests: 2, windowMs: 60_000) }
        defer { server.stop() }
        let c = try WireStoreClient(server)
        for _ in 0..<2 { #expect(c.ask(["type": "store.count", "bucket": "items"])["type"] == "result") }
        #expect(c.ask(["type": "store.count", "bucket": "items"])["code"] == "RATE_LIMITED")
        let m = try scrape(server.port)  // plain HTTP is not rate limited
        #expect(m["noex_rate_limited_total"] == 1)
        #expect(m["noex_requests_total{op=\"store.count\"}"] == 3)
        #expect(m["noex_request_errors_total{op=\"store.count\",code=\"RATE_LIMITED\"}"] == 1)
    }

    @Test func componentsAddTheirOwnMetrics() throws {
        let server = Self.server(onStart: { s in
            s.metrics.counter("test_commits_total", help: "Commits \\ with \"quotes\"\nand a newline.") { 7 }
            s.metrics.family("test_latency_seconds", type: .histogram, help: "Latency.") { out in
                out.sample(suffix: "_bucket", labels: [("le", "0.1")], 2)
                out.sample(suffix: "_bucket", labels: [("le", "+Inf")], 3)
                out.sample(suffix: "_sum", 0.25)
                out.sample(suffix: "_count", 3)
            }
            s.metrics.family("test_labels", type: .gauge, help: "Escaped label values.") { out in
                out.sample(labels: [("name", "a\"b\\c\nd")], 1.5)
            }
        })
        defer { server.stop() }
        let m = try scrape(server.port)
        #expect(m.families["test_commits_total"] == .init(type: "counter", help: "Commits \\ with \"quotes\"\nand a newline."))
        #expect(m["test_commits_total"] == 7)
        #expect(m["test_latency_seconds_bucket{le=\"+Inf\"}"] == 3)
        #expect(m["test_latency_seconds_sum"] == 0.25)
        #expect(m["test_labels{name=\"a\\\"b\\\\c\\nd\"}"] == 1.5)
    }

    @Test func healthIsOkThenStoppingDuringTheGracePeriod() throws {
        let trigger = StopTrigger()
        let server = Self.server(onStart: { s in
            _ = s.transport.addTimer(delayMs: 5, repeatMs: 5) { if trigger.isSet { s.stop(gracePeriodMs: 30_000) } }
        })
        let idle = try #require(curl(port: server.port, "/health"))
        #expect(idle.status == 200)
        #expect(idle.headers["content-type"] == "application/json")
        let body = try JSON.parse(Array(idle.body.utf8))
        #expect(body.objectValue?.keys.map { $0 } == ["status", "uptimeMs", "connections"])
        #expect(body["status"] == "ok")
        #expect(body["connections"] == 0)
        #expect((body["uptimeMs"]?.intValue ?? -1) >= 0)

        var c: WireStoreClient? = try WireStoreClient(server)
        #expect(try JSON.parse(Array(#require(curl(port: server.port, "/health")).body.utf8))["connections"] == 1)
        trigger.set()
        #expect(c?.ws.nextText() == #"{"type":"system","event":"shutdown","gracePeriodMs":30000}"#)

        // Grace period: the listener stays open for probes; health says stopping.
        let stopping = try #require(curl(port: server.port, "/health"))
        #expect(stopping.status == 503)
        #expect(stopping.body == #"{"status":"stopping"}"#)
        #expect(try scrape(server.port)["noex_connections"] == 1)
        // A late WebSocket client is closed as the original closes handshakes while stopping.
        let late = try #require(WebSocketTestClient(port: server.port))
        #expect(late.upgraded)
        #expect(late.next() == .close(code: 1001, reason: "server_shutting_down"))

        c = nil  // the last client leaves: the grace ends and the server stops
        #expect(server.waitUntilStopped(seconds: 10))
        #expect(curl(port: server.port, "/health") == nil)  // listener closed
    }

    @Test func headAnswersHeadersOnlyAndCloses() throws {
        let server = Self.server()
        defer { server.stop() }
        for path in ["/metrics", "/health"] {
            let get = rawHTTP(port: server.port, "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = rawHTTP(port: server.port, "HEAD \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\nConnection: close\r\n"))
            #expect(head.hasSuffix("\r\n\r\n"))  // headers only, then EOF
            #expect(head.contains("Content-Length: "))
            #expect(get.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(get.count > head.count)
        }
        // A pipelined second request on the same connection is not answered (no keep-alive).
        let two = rawHTTP(port: server.port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(two.components(separatedBy: "HTTP/1.1 200").count == 2)
    }

    @Test func otherRequestsKeepTheUpgradeAnswers() throws {
        let server = Self.server()
        defer { server.stop() }
        #expect(curl(port: server.port, "/metrics", ["-X", "POST"])?.status == 404)
        #expect(curl(port: server.port, "/nope")?.status == 404)
        #expect(curl(port: server.port, "/metrics/")?.status == 404)
        #expect(curl(port: server.port, "/")?.status == 426)  // the WebSocket path without upgrade
        #expect(curl(port: server.port, "/metrics?x=1")?.status == 200)  // query ignored, like the upgrade path
        // An upgrade attempt on the metrics path is a failed upgrade, as before.
        #expect(WebSocketTestClient(port: server.port, path: "/metrics")?.statusLine == "HTTP/1.1 404 Not Found")
        // The same header limit as upgrades.
        let huge = rawHTTP(port: server.port, "GET /metrics HTTP/1.1\r\nX-Pad: \(String(repeating: "a", count: 9000))\r\n\r\n")
        #expect(huge.hasPrefix("HTTP/1.1 431 "))
        #expect(try WireStoreClient(server).ask(["type": "store.count", "bucket": "items"])["data"] == 0)
    }

    @Test func pathsAreConfigurableAndCanBeTurnedOff() throws {
        let moved = Self.server {
            $0.path = "/ws"
            $0.monitoring = MonitoringConfig(metricsPath: "/ops/metrics", healthPath: "/ops/health")
        }
        defer { moved.stop() }
        #expect(curl(port: moved.port, "/ops/metrics")?.status == 200)
        #expect(curl(port: moved.port, "/ops/health")?.status == 200)
        #expect(curl(port: moved.port, "/metrics")?.status == 404)
        #expect(curl(port: moved.port, "/health")?.status == 404)
        #expect(curl(port: moved.port, "/ws")?.status == 426)

        let off = Self.server { $0.monitoring = MonitoringConfig(metricsPath: nil, healthPath: nil) }
        defer { off.stop() }
        #expect(curl(port: off.port, "/metrics")?.status == 404)
        #expect(curl(port: off.port, "/health")?.status == 404)
        #expect(try WireStoreClient(off).ask(["type": "store.count", "bucket": "items"])["data"] == 0)
    }

    @Test func aMonitoringPathEqualToTheWebSocketPathIsRefused() {
        let server = Self.server {
            $0.path = "/ws"
            $0.monitoring.healthPath = "/ws"
        }
        #expect(server.startError == "the health path \"/ws\" is the WebSocket path; choose another health path or turn it off")
    }
}

/// Set from the test thread, read by a loop timer on the server thread.
final class StopTrigger: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// Sends `request` on a fresh connection and returns everything the server writes until it
/// closes (bounded by a 3 s receive timeout).
func rawHTTP(port: Int, _ request: String) -> String {
    guard let fd = connectLoopback(port: port) else { return "" }
    defer { close(fd) }
    var tv = timeval(tv_sec: 3, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let bytes = Array(request.utf8)
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
        if n <= 0 { break }
        out += chunk[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}
