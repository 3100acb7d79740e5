import Testing

@testable import NoexLoop

private let rfcRequest = Array(
    ("GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
        + "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8)

private func parse(_ chunks: [[UInt8]], maxHeaderBytes: Int = 8192) -> HTTPUpgradeParser.Result {
    var parser = HTTPUpgradeParser(maxHeaderBytes: maxHeaderBytes)
    for chunk in chunks {
        let result = chunk.withUnsafeBytes { parser.feed($0) }
        if result != .needMore { return result }
    }
    return .needMore
}

private func head(_ text: String) -> HTTPRequestHead {
    guard case .complete(let head, _) = parse([Array(text.utf8)]) else {
        Issue.record("did not parse: \(text)")
        return HTTPRequestHead(method: "", target: "", version: "", headers: [])
    }
    return head
}

@Suite struct SHA1AndBase64Tests {
    @Test func sha1KnownVectors() {
        #expect(Base64.encode(SHA1.digest([])) == Array("2jmj7l5rSw0yVb/vlWAYkK/YBwk=".utf8))
        let abc = SHA1.digest(Array("abc".utf8))
        #expect(abc == [0xA9, 0x99, 0x3E, 0x36, 0x47, 0x06, 0x81, 0x6A, 0xBA, 0x3E, 0x25, 0x71, 0x78, 0x50, 0xC2, 0x6C, 0x9C, 0xD0, 0xD8, 0x9D])
        // Two-block message (56 bytes forces a second padding block).
        let two = SHA1.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        #expect(Base64.encode(two) == Array("hJg+RBw70m66rkqh+VEp5eVGcPE=".utf8))
    }

    @Test func base64RFC4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == Array(encoded.utf8))
            #expect(Base64.decode(Array(encoded.utf8)[...]) == Array(plain.utf8))
        }
        #expect(Base64.decode(Array("Zg=".utf8)[...]) == nil)
        #expect(Base64.decode(Array("Z=g=".utf8)[...]) == nil)
        #expect(Base64.decode(Array("Zm9*".utf8)[...]) == nil)
    }

    @Test func acceptValueMatchesRFC6455Example() {
        // RFC 6455 §1.3.
        #expect(HTTPUpgradeValidator.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(HTTPUpgradeValidator.switchingProtocolsResponse(for: AcceptedUpgrade(key: "dGhlIHNhbXBsZSBub25jZQ=="))
            == Array(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").utf8))
        #expect(HTTPUpgradeValidator.switchingProtocolsResponse(for: AcceptedUpgrade(key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocol: "chat"))
            == Array(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n").utf8))
    }
}

@Suite struct UTF8ValidatorTests {
    @Test(arguments: [
        ([UInt8](), true), (Array("κόσμε".utf8), true), ([0xF0, 0x9F, 0x98, 0x80], true),
        ([0xF4, 0x8F, 0xBF, 0xBF], true), ([0xEF, 0xBF, 0xBF], true),
        ([0xC0, 0xAF], false), ([0xE0, 0x80, 0xAF], false), ([0xED, 0xA0, 0x80], false),
        ([0xF4, 0x90, 0x80, 0x80], false), ([0xF5, 0x80, 0x80, 0x80], false), ([0x80], false),
        ([0xCE, 0xBA, 0xE1], false), ([0xFE], false),
    ])
    func validatesAtEverySplit(bytes: [UInt8], valid: Bool) {
        for split in everySplit(bytes) {
            var v = UTF8Validator()
            var ok = true
            for chunk in split where ok { ok = v.feed(chunk) }
            #expect((ok && v.isComplete) == valid, "split \(split)")
        }
    }
}

@Suite struct HTTPUpgradeParserTests {
    @Test func parsesTheRFCRequestAtEverySplitAndReportsLeftover() {
        let frame: [UInt8] = [0x81, 0x80, 1, 2, 3, 4]
        let input = rfcRequest + frame
        for split in everySplit(input) {
            var parser = HTTPUpgradeParser()
            var result = HTTPUpgradeParser.Result.needMore
            var leftover: [UInt8] = []
            for chunk in split {
                if case .complete = result { leftover += chunk; continue }
                result = chunk.withUnsafeBytes { parser.feed($0) }
                if case .complete(_, let consumed) = result { leftover += chunk[consumed...] }
            }
            guard case .complete(let head, _) = result else {
                Issue.record("no head for split \(split.map(\.count))")
                return
            }
            #expect(leftover == frame)
            #expect(head.method == "GET")
            #expect(head.path == "/chat")
            #expect(head.value("sec-websocket-key") == "dGhlIHNhbXBsZSBub25jZQ==")
            #expect(head.value("connection") == "keep-alive, Upgrade")
        }
    }

    @Test func rejectsMalformedHeads() {
        for text in ["GET / HTTP/1.1\r\nbad header\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/1.1\nHost: x\r\n\r\n",
            "GET / HTTX/1.1\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", " GET / HTTP/1.1\r\n\r\n"]
        {
            #expect(parse([Array(text.utf8)]) == .invalid(.badRequest("malformed request")), "\(text)")
        }
    }

    @Test func capsTheHeadSize() {
        let big = Array(("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200) + "\r\n\r\n").utf8)
        #expect(parse([big], maxHeaderBytes: 100) == .invalid(.headersTooLarge))
        #expect(parse(big.map { [$0] }, maxHeaderBytes: 100) == .invalid(.headersTooLarge))
        #expect(parse([big], maxHeaderBytes: big.count) != .invalid(.headersTooLarge))
    }
}

@Suite struct HTTPUpgradeValidatorTests {
    private let valid = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

    private func check(_ text: String, config: HTTPUpgradeConfig = HTTPUpgradeConfig(path: "/ws")) -> Result<AcceptedUpgrade, HTTPRejection> {
        HTTPUpgradeValidator.validate(head(text + "\r\n"), config: config)
    }

    @Test func acceptsAValidUpgrade() {
        let key = "dGhlIHNhbXBsZSBub25jZQ=="
        #expect(check(valid) == .success(AcceptedUpgrade(key: key)))
        #expect(check(valid.replacingPrefix("GET /ws ", "GET /ws?token=1 ")) == .success(AcceptedUpgrade(key: key)))
    }

    @Test func echoesTheFirstOfferedSubprotocol() {
        let key = "dGhlIHNhbXBsZSBub25jZQ=="
        #expect(check(valid + "Sec-WebSocket-Protocol: chat, superchat\r\n") == .success(AcceptedUpgrade(key: key, subprotocol: "chat")))
        #expect(check(valid + "Sec-WebSocket-Protocol: v2\r\nSec-WebSocket-Protocol: v1\r\n")
            == .success(AcceptedUpgrade(key: key, subprotocol: "v2")))
        #expect(check(valid + "Sec-WebSocket-Protocol: a,,b\r\n").failureStatus == 400)
        #expect(check(valid + "Sec-WebSocket-Protocol: a b\r\n").failureStatus == 400)
    }

    @Test func rejectsInTheOriginalsOrder() {
        #expect(check(valid.replacingPrefix("GET /ws ", "GET /ws/ ")).failureStatus == 404)
        #expect(check(valid.replacingPrefix("GET /ws ", "POST /other ")).failureStatus == 404)
        #expect(check(valid.replacingPrefix("GET ", "POST ")).failureStatus == 405)
        #expect(check(valid.replacingOccurrences("Upgrade: WebSocket\r\n", "")).failureStatus == 426)
        #expect(check(valid.replacingOccurrences("Connection: Upgrade", "Connection: keep-alive")).failureStatus == 426)
        #expect(check(valid.replacingOccurrences("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=")).failureStatus == 400)
        #expect(check(valid.replacingOccurrences("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")).failureStatus == 400)
        let version = check(valid.replacingOccurrences("Version: 13", "Version: 8"))
        #expect(version == .failure(.unsupportedVersion))
        #expect(String(decoding: HTTPRejection.unsupportedVersion.responseBytes, as: UTF8.self)
            == "HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nSec-WebSocket-Version: 13\r\n"
            + "Content-Type: text/plain\r\nContent-Length: 33\r\n\r\nunsupported Sec-WebSocket-Version")
    }

    @Test func checksOriginOnlyWhenConfiguredAndPresent() {
        let config = HTTPUpgradeConfig(path: "/ws", allowedOrigins: ["https://good"])
        #expect(check(valid + "Origin: https://evil\r\n", config: config) == .failure(.forbidden))
        #expect(check(valid + "Origin: https://good\r\n", config: config).isSuccess)
        #expect(check(valid, config: config).isSuccess)
        #expect(HTTPRejection.forbidden.responseBytes == Array("HTTP/1.1 403 Forbidden\r\n\r\n".utf8))
    }
}

extension Result where Failure == HTTPRejection {
    var failureStatus: Int? {
        if case .failure(let r) = self { return r.status }
        return nil
    }
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}

extension String {
    func replacingPrefix(_ prefix: String, _ with: String) -> String {
        hasPrefix(prefix) ? with + dropFirst(prefix.count) : self
    }
    func replacingOccurrences(_ target: String, _ with: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound] + with
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
