import Testing
@testable import LoadgenCore

@Suite struct HandshakeTests {
    @Test func acceptValueIsTheRFC6455Example() {
        #expect(ClientHandshake.accept(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let handshake = ClientHandshake(nonce: Array("the sample nonce".utf8))
        #expect(handshake.key == "dGhlIHNhbXBsZSBub25jZQ==")
    }

    @Test func requestCarriesTheUpgradeHeaders() {
        let handshake = ClientHandshake(nonce: Array("the sample nonce".utf8))
        let text = String(decoding: handshake.request(host: "127.0.0.1", port: 8080, path: "/ws"), as: UTF8.self)
        #expect(text.hasPrefix("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"))
        #expect(text.contains("Upgrade: websocket\r\n"))
        #expect(text.contains("Connection: Upgrade\r\n"))
        #expect(text.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"))
        #expect(text.contains("Sec-WebSocket-Version: 13\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"))
        let v6 = String(decoding: handshake.request(host: "::1", port: 80, path: "/"), as: UTF8.self)
        #expect(v6.contains("Host: [::1]:80\r\n"))
    }

    private func response(_ lines: [String]) -> [UInt8] { Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) }

    @Test func acceptsAValidResponseAndReportsItsLength() {
        let handshake = ClientHandshake(nonce: Array("the sample nonce".utf8))
        var bytes = response([
            "HTTP/1.1 101 Switching Protocols", "upgrade: WebSocket", "connection: keep-alive, Upgrade",
            "sec-websocket-accept:   s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        ])
        let length = bytes.count
        bytes += [0x81, 0x00]  // a frame right behind the head
        #expect(handshake.check(response: bytes) == .accepted(headerLength: length))
    }

    @Test func waitsForTheWholeHead() {
        let handshake = ClientHandshake(nonce: Array("the sample nonce".utf8))
        let full = response(["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="])
        for cut in [0, 1, 10, full.count - 1] {
            #expect(handshake.check(response: Array(full.prefix(cut))) == .incomplete)
        }
    }

    @Test func rejectsWrongStatusMissingHeadersAndBadAccept() {
        let handshake = ClientHandshake(nonce: Array("the sample nonce".utf8))
        let rejected: [[String]] = [
            ["HTTP/1.1 404 Not Found", "Content-Length: 0"],
            ["HTTP/1.1 101 Switching Protocols", "Connection: Upgrade", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
            ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
            ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: AAAA"],
            ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade"],
        ]
        for lines in rejected {
            guard case .rejected = handshake.check(response: response(lines)) else {
                Issue.record("accepted \(lines)")
                continue
            }
        }
        let endless = Array(repeating: UInt8(ascii: "x"), count: 20_000)
        #expect(handshake.check(response: endless) != .incomplete)
    }

    @Test func nonceFromRandomIsSixteenBytesAndVaries() {
        var random = FastRandom(seed: 42)
        let a = ClientHandshake(random: &random), b = ClientHandshake(random: &random)
        #expect(a.key.count == 24 && a.key.hasSuffix("=="))
        #expect(a.key != b.key)
    }
}
