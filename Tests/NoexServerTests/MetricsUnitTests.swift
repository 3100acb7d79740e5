import NoexJSON
import NoexLoop
import NoexRules
import Testing
@testable import NoexServer

/// The exposition writer, the operation table and the monitoring config, without sockets.
@Suite struct MetricsUnitTests {
    @Test func writerEscapesAndFormats() throws {
        var w = PrometheusTextWriter()
        w.family("a_total", type: .counter, help: "back\\slash\nnewline \"quotes\" stay")
        w.sample("a_total", labels: [("op", "x\"y\\z\nw"), ("code", "E")], 3)
        w.family("b", type: .gauge, help: "h")
        w.sample("b", 0.25)
        w.sample("b", labels: [("k", "inf")], .infinity)
        w.sample("b", labels: [("k", "neg")], -.infinity)
        w.sample("b", labels: [("k", "nan")], .nan)
        w.sample("b", labels: [("k", "small")], 1e-7)
        w.sample("b", labels: [("k", "big")], 1e20)
        #expect(w.text == """
            # HELP a_total back\\\\slash\\nnewline "quotes" stay
            # TYPE a_total counter
            a_total{op="x\\"y\\\\z\\nw",code="E"} 3
            # HELP b h
            # TYPE b gauge
            b 0.25
            b{k="inf"} +Inf
            b{k="neg"} -Inf
            b{k="nan"} NaN
            b{k="small"} 1e-07
            b{k="big"} 1e+20

            """)
        let parsed = try Exposition(parsing: w.text)
        #expect(parsed["a_total{op=\"x\\\"y\\\\z\\nw\",code=\"E\"}"] == 3)
        #expect(parsed.families["a_total"]?.help == "back\\slash\nnewline \"quotes\" stay")
    }

    @Test func strictParserRejectsMalformedText() {
        for bad in [
            "a 1\n",  // no family
            "# HELP a x\n# TYPE a counter\na 1\n",  // counter without _total
            "# HELP a x\n# TYPE a gauge\na{l=\"\\t\"} 1\n",  // bad escape
            "# HELP a x\n# TYPE a gauge\na{l=\"v\"} 1\na{l=\"v\"} 2\n",  // repeated series
            "# HELP a x\n# TYPE a gauge\nb 1\n",  // sample outside its family
            "# HELP a x\n# TYPE a gauge\na one\n",  // bad value
            "# HELP a x\n# TYPE a gauge\na 1",  // no final newline
        ] {
            #expect(throws: Exposition.Malformed.self, "\(bad)") { try Exposition(parsing: bad) }
        }
    }

    @Test func everyOperationHasItsOwnSlot() {
        let table = OperationTable()
        for (i, name) in OperationTable.names.enumerated() where i < OperationTable.other {
            #expect(table.index(of: name) == i, "\(name)")
        }
        for unknown in ["", "store.gett", "store.ge", "other", "invalid", "identity.login", "STORE.GET", "store.get\u{0}"] {
            #expect(table.index(of: unknown) == OperationTable.other, "\(unknown)")
        }
        #expect(Set(OperationTable.names).count == OperationTable.names.count)
    }

    /// The table lists what the router knows: each listed operation is routed (never answered
    /// with an unknown-operation error), so a renamed operation cannot silently land in `other`.
    @Test func everyListedOperationIsRouted() {
        let h = Harness(configure: { $0.rules = nil })
        let c = h.connect()
        for (i, name) in OperationTable.names.enumerated() where i < OperationTable.other {
            let answer = c.ask(["id": .int(Int64(i + 1)), "type": .string(name)])
            let message = answer["message"]?.stringValue ?? ""
            #expect(!(answer["code"] == "UNKNOWN_OPERATION" && message.hasPrefix("Unknown")), "\(name): \(answer.jsonString)")
        }
    }

    @Test func monitoringPathsAreChecked() {
        let d = MonitoringConfig()
        #expect(d.metricsPath == "/metrics" && d.healthPath == "/health")
        #expect(d.problem(webSocketPath: "/") == nil)
        #expect(d.problem(webSocketPath: "/metrics") == "the metrics path \"/metrics\" is the WebSocket path; choose another metrics path or turn it off")
        #expect(MonitoringConfig(metricsPath: "/x", healthPath: "/x").problem(webSocketPath: "/")
            == "the metrics and health paths are both \"/x\"; give them different paths")
        #expect(MonitoringConfig(metricsPath: "metrics").problem(webSocketPath: "/")
            == "invalid metrics path \"metrics\": it must start with \"/\"")
        #expect(MonitoringConfig(healthPath: "/h?x").problem(webSocketPath: "/")
            == "invalid health path \"/h?x\": it must be printable ASCII without spaces, \"?\" or \"#\"")
        #expect(MonitoringConfig(metricsPath: nil, healthPath: nil).problem(webSocketPath: "/") == nil)
    }

    @Test func fileKeysAndFlags() throws {
        let off = try FileConfig.decode(["metrics": false, "health": ["path": "/healthz"]])
        var plan = try LaunchPlan.resolve(CommandLineOptions(), file: off)
        #expect(plan.server.monitoring == MonitoringConfig(metricsPath: nil, healthPath: "/healthz"))

        plan = try LaunchPlan.resolve(CommandLineOptions(), file: try FileConfig.decode(["metrics": ["enabled": true]]))
        #expect(plan.server.monitoring == MonitoringConfig())

        var cli = CommandLineOptions()
        cli.metricsPath = "/m"
        cli.noHealth = true
        plan = try LaunchPlan.resolve(cli, file: off)  // a flag's path wins over the file's off switch
        #expect(plan.server.monitoring == MonitoringConfig(metricsPath: "/m", healthPath: nil))

        cli = CommandLineOptions()
        cli.metricsPath = "/m"
        cli.noMetrics = true
        #expect(try LaunchPlan.resolve(cli, file: nil).server.monitoring.metricsPath == nil)
        #expect(try LaunchPlan.resolve(cli, file: nil).banner(boundPort: 1).contains("\n  Monitoring:   /health\n"))
        cli.noHealth = true
        #expect(try LaunchPlan.resolve(cli, file: nil).banner(boundPort: 1).contains("\n  Monitoring:   off\n"))
        #expect(try LaunchPlan.resolve(CommandLineOptions(), file: nil).banner(boundPort: 1)
            .contains("\n  Monitoring:   /metrics, /health\n"))

        #expect(throws: CommandLineError("the health path \"/ws\" is the WebSocket path; choose another health path or turn it off")) {
            try LaunchPlan.resolve(CommandLineOptions(), file: try FileConfig.decode(["path": "/ws", "health": ["path": "/ws"]]))
        }
        for (json, key) in [
            (["metrics": ["path": "metrics"]] as JSON, "metrics.path"),
            (["health": ["enabled": "yes"]], "health.enabled"),
            (["metrics": ["paht": "/m"]], "metrics.paht"),
            (["health": 1], "health"),
        ] {
            #expect { try FileConfig.decode(json) } throws: { ($0 as? ConfigError)?.key == key }
        }
    }
}

/// Push outcomes as the transport reports them, and dropped event pushes through the core.
@Suite struct PushCounterTests {
    @Test func eachSendResultCountsOnce() {
        let m = ProtocolMetrics()
        for r: SendResult in [.queued, .coalesced, .dropped, .notOpen, .queued] { m.countPush(r) }
        #expect(m.pushesSent == 3 && m.pushesCoalesced == 1 && m.pushesDropped == 1)
    }

    @Test func droppedEventPushesReachTheMetrics() {
        let h = Harness(configure: { $0.rules = RuleEngine(clock: ManualRulesClock()) })
        let slow = h.connect(), writer = h.connect()
        #expect(slow.ask(["id": 1, "type": "rules.subscribe", "pattern": "t.*"])["type"] == "result")
        h.transport.droppingPushes.insert(slow.id)
        #expect(writer.ask(["id": 2, "type": "rules.emit", "topic": "t.x"])["type"] == "result")
        #expect(h.core.metrics.pushesDropped == 1 && h.core.metrics.pushesSent == 0)
        #expect(h.core.metrics.requestCounts.map { "\($0.op)=\($0.count)" } == ["rules.emit=1", "rules.subscribe=1"])
    }
}
