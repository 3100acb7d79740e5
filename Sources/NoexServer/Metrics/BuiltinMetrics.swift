import NoexLoop

/// The metrics every server serves (docs/metrics.md lists them). Each reads counters the loop
/// already keeps, at scrape time; none adds work to the request path beyond `ProtocolMetrics`.
extension NoexServer {
    func registerBuiltinMetrics() {
        let m = metrics
        let core = core
        let transport = transport
        let store = config.store
        let rules = config.rules
        let startedAtMs = startedAtMs

        m.gauge("noex_uptime_seconds", help: "Seconds since the server started.") { [unowned core] in
            Double(core.clock.wallMs() - startedAtMs) / 1000
        }
        m.gauge("noex_connections", help: "Open WebSocket protocol connections.") { [unowned core] in
            Double(core.connectionCount)
        }
        m.counter("noex_connections_accepted_total",
                  help: "WebSocket protocol connections accepted (welcomed) since start.") { [unowned core] in
            Double(core.nextConnectionNumber - 1)
        }
        m.counter("noex_sockets_accepted_total",
                  help: "TCP connections accepted since start (WebSocket and plain HTTP).") { [unowned transport] in
            Double(transport.counters.socketsAccepted)
        }
        m.counter("noex_accept_errors_total",
                  help: "Failed accepts of TCP connections (EMFILE, ENFILE, ...) since start.") { [unowned transport] in
            Double(transport.acceptErrors)
        }
        m.family("noex_requests_total", type: .counter,
                 help: "Requests by operation (op=\"other\": unknown types; op=\"invalid\": failed envelope checks).") {
            [unowned core] out in
            for (op, n) in core.metrics.requestCounts { out.sample(labels: [("op", op)], Double(n)) }
        }
        m.family("noex_request_errors_total", type: .counter, help: "Error answers by operation and error code.") {
            [unowned core] out in
            for (op, code, n) in core.metrics.errorCounts {
                out.sample(labels: [("op", op), ("code", code.rawValue)], Double(n))
            }
        }
        m.counter("noex_rate_limited_total", help: "Requests refused with RATE_LIMITED.") { [unowned core] in
            Double(core.metrics.errorTotal(.rateLimited))
        }
        m.counter("noex_pushes_sent_total", help: "Subscription and event pushes queued for a client.") { [unowned core] in
            Double(core.metrics.pushesSent)
        }
        m.counter("noex_pushes_coalesced_total",
                  help: "Subscription pushes that replaced an older pending push (the older one was never written).") {
            [unowned core] in Double(core.metrics.pushesCoalesced)
        }
        m.counter("noex_pushes_dropped_total",
                  help: "Pushes dropped because the client was over its hard write limit (subscriptions get their current result once it drains).") { [unowned core] in
            Double(core.metrics.pushesDropped)
        }
        m.counter("noex_received_bytes_total", help: "Bytes read from client sockets.") { [unowned transport] in
            Double(transport.counters.bytesReceived)
        }
        m.counter("noex_sent_bytes_total", help: "Bytes handed to client sockets for writing.") { [unowned transport] in
            Double(transport.counters.bytesSent)
        }
        m.gauge("noex_queued_bytes", help: "Outbound bytes queued or in flight, summed over all connections.") {
            [unowned transport] in Double(transport.totalBufferedBytes)
        }
        m.gauge("noex_connections_reading_paused",
                help: "Connections not being read because their write queue is above its high-water mark.") {
            [unowned transport] in Double(transport.readingPausedCount)
        }
        m.gauge("noex_loop_lag_seconds", help: "How late the loop ran its last sweep timer tick (1 ms resolution).") {
            [unowned transport] in Double(transport.counters.loopLag.lastMs) / 1000
        }
        m.gauge("noex_loop_lag_max_seconds", help: "The largest loop lag seen since start.") { [unowned transport] in
            Double(transport.counters.loopLag.maxMs) / 1000
        }
        m.family("noex_store_records", type: .gauge, help: "Records per store bucket.") { out in
            for name in store.bucketNames {
                out.sample(labels: [("bucket", name)], Double((try? store.count(bucket: name)) ?? 0))
            }
        }
        if let rules {
            m.counter("noex_rules_events_processed_total", help: "Events the rule engine processed.") {
                Double(rules.stats().eventsProcessed)
            }
        }
    }
}
