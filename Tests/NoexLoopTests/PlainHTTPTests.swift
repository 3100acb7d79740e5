import Testing

@testable import NoexLoop

/// Plain (non-upgrade) HTTP requests: which ones the delegate is offered, the answer bytes,
/// the state machine after answering, and the loop-lag meter.
@Suite struct PlainHTTPTests {
    private func head(_ text: String) -> HTTPRequestHead {
        var p = HTTPUpgradeParser()
        let bytes = Array(text.utf8)
        guard case .complete(let h, _) = bytes.withUnsafeBytes({ p.feed($0) }) else { fatalError("incomplete head") }
        return h
    }

    @Test(arguments: [
        ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", true),
        ("HEAD /health HTTP/1.1\r\n\r\n", true),
        ("GET /metrics?a=1 HTTP/1.0\r\n\r\n", true),
        ("POST /metrics HTTP/1.1\r\n\r\n", false),
        ("GET / HTTP/1.1\r\n\r\n", false),  // the WebSocket path keeps its 426
        ("GET /?x HTTP/1.1\r\n\r\n", false),
        ("GET /metrics HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n", false),
        ("GET /metrics HTTP/1.1\r\nUpgrade: h2c, websocket\r\n\r\n", false),
        ("GET /metrics HTTP/1.1\r\nUpgrade: h2c\r\n\r\n", true),
    ])
    func whichRequestsArePlain(request: String, plain: Bool) {
        #expect(head(request).isPlainRequest(webSocketPath: "/") == plain)
    }

    @Test func responseBytesWithAndWithoutBody() {
        let r = HTTPPlainResponse(status: 503, reasonPhrase: "Service Unavailable", contentType: "application/json",
                                  body: Array(#"{"status":"stopping"}"#.utf8))
        let head = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json\r\n"
            + "Content-Length: 21\r\nCache-Control: no-store\r\n\r\n"
        #expect(String(decoding: r.responseBytes(), as: UTF8.self) == head + #"{"status":"stopping"}"#)
        #expect(String(decoding: r.responseBytes(includeBody: false), as: UTF8.self) == head)
    }

    @Test func answeredRequestClosesLikeARejection() {
        let timing = ConnectionTiming(closingTimeoutMs: 500, heartbeat: nil)
        var m = ConnectionStateMachine(nowMs: 0, handshakeTimeoutMs: 1000)
        let answered = m.plainRequestAnswered(nowMs: 5, timing: timing)
        #expect(answered)
        #expect(!m.readsFrames)
        #expect(!m.wasOpened)
        #expect(m.writesDrained(nowMs: 6) == .shutdownWrite)
        #expect(m.peerEnded(writesPending: false, nowMs: 7, timing: timing) == .closeSocket)
        let again = m.plainRequestAnswered(nowMs: 8, timing: timing)
        #expect(!again)  // only from the handshake
    }

    @Test func loopLagIsLatenessAgainstThePreviousFire() {
        var lag = LoopLagMeter(periodMs: 250)
        lag.armed(nowMs: 1000)
        lag.fired(nowMs: 1250)
        #expect(lag.lastMs == 0 && lag.maxMs == 0)
        lag.fired(nowMs: 1540)  // due 1500
        #expect(lag.lastMs == 40 && lag.maxMs == 40)
        lag.fired(nowMs: 1790)  // due 1790: rescheduled from the late fire, as libuv does
        #expect(lag.lastMs == 0 && lag.maxMs == 40)
        lag.fired(nowMs: 2000)  // early (the poll may wake before the deadline): no lag
        #expect(lag.lastMs == 0)
    }
}
