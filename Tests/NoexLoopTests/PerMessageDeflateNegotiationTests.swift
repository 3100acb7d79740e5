import Testing

@testable import NoexLoop

private func negotiate(_ values: [String], _ config: PerMessageDeflateConfig = .init(serverNoContextTakeover: false)) -> String? {
    PerMessageDeflateNegotiation.negotiate(values, config: config)?.responseValue
}

@Suite struct PerMessageDeflateNegotiationTests {
    @Test func acceptsTheFirstUsableOffer() {
        #expect(negotiate(["permessage-deflate"]) == "permessage-deflate")
        #expect(negotiate(["permessage-deflate; client_max_window_bits"]) == "permessage-deflate")
        #expect(negotiate(["permessage-deflate; client_max_window_bits=10; client_no_context_takeover"]) == "permessage-deflate")
        #expect(negotiate(["permessage-deflate;server_no_context_takeover"]) == "permessage-deflate; server_no_context_takeover")
        #expect(negotiate(["permessage-deflate; server_max_window_bits=10"]) == "permessage-deflate; server_max_window_bits=10")
        // A quoted value is the same value (§7.1.2.1).
        #expect(negotiate(["permessage-deflate; server_max_window_bits=\"12\""]) == "permessage-deflate; server_max_window_bits=12")
        // Other extensions are skipped; several header lines form one list.
        #expect(negotiate(["x-webkit-deflate-frame", "foo; a=\"x,y\", permessage-deflate"]) == "permessage-deflate")
        // The client's window request never exceeds the server's limit, and vice versa.
        let small = PerMessageDeflateConfig(serverNoContextTakeover: false, serverMaxWindowBits: 10)
        #expect(negotiate(["permessage-deflate"], small) == "permessage-deflate; server_max_window_bits=10")
        #expect(negotiate(["permessage-deflate; server_max_window_bits=12"], small) == "permessage-deflate; server_max_window_bits=10")
        #expect(negotiate(["permessage-deflate; server_max_window_bits=9"], small) == "permessage-deflate; server_max_window_bits=9")
    }

    @Test func theServerSettingsGoIntoTheAnswer() {
        let config = PerMessageDeflateConfig(serverNoContextTakeover: true, clientNoContextTakeover: true)
        #expect(negotiate(["permessage-deflate"], config) == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
        let params = PerMessageDeflateNegotiation.negotiate(["permessage-deflate"], config: config)
        #expect(params == PerMessageDeflateParams(serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15))
    }

    @Test func declinesInvalidOffersAndFallsBackToTheNext() {
        let bad = [
            "permessage-deflate; unknown_param",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover=true",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; server_max_window_bits=abc",
            "permessage-deflate; client_max_window_bits=0",
            "permessage-deflate; client_max_window_bits=\"16\"",
            // Valid, but zlib cannot compress with a 256-byte window.
            "permessage-deflate; server_max_window_bits=8",
            // Syntax: empty parameter name, unterminated quote, bad token.
            "permessage-deflate; =1",
            "permessage-deflate; server max window bits",
        ]
        for offer in bad {
            #expect(negotiate([offer]) == nil, "\(offer)")
            // The next offer in the list is still considered.
            #expect(negotiate([offer + ", permessage-deflate; client_max_window_bits"]) == "permessage-deflate", "\(offer)")
        }
        // An unterminated quote runs to the end of the header line: nothing after it counts.
        #expect(negotiate(["permessage-deflate; server_max_window_bits=\"10, permessage-deflate"]) == nil)
        #expect(negotiate(["permessage-deflate; server_max_window_bits=\"10", "permessage-deflate"]) == "permessage-deflate")
        #expect(negotiate([]) == nil)
        #expect(negotiate(["", " , "]) == nil)
        #expect(negotiate(["deflate-frame"]) == nil)
    }

    @Test func theUpgradeAnswersTheExtensionOnlyWhenCompressionIsConfigured() throws {
        let request = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        var parser = HTTPUpgradeParser(maxHeaderBytes: 8192)
        let result = Array(request.utf8).withUnsafeBytes { parser.feed($0) }
        guard case .complete(let head, _) = result else {
            Issue.record("request not parsed: \(result)")
            return
        }
        let off = try HTTPUpgradeValidator.validate(head, config: .init()).get()
        #expect(off.deflate == nil)
        #expect(!String(decoding: HTTPUpgradeValidator.switchingProtocolsResponse(for: off), as: UTF8.self).contains("Extensions"))
        let on = try HTTPUpgradeValidator.validate(head, config: .init(), compression: .init()).get()
        let answer = String(decoding: HTTPUpgradeValidator.switchingProtocolsResponse(for: on), as: UTF8.self)
        #expect(answer.hasSuffix("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n"))
    }
}
