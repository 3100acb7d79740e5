// Decides whether a parsed request head is an acceptable WebSocket upgrade, in the original's
// order (path, origin, then the `ws` library's checks: method, upgrade, key, version), and
// builds the 101 answer (RFC 6455 §4.2.2).

/// An HTTP error answer to a failed handshake. The connection closes after it is sent.
public struct HTTPRejection: Equatable, Sendable, Error {
    public let status: Int
    public let reasonPhrase: String
    /// Short plain-text body saying what was wrong (empty for the original's raw 403).
    public let body: String
    /// Extra header lines, e.g. `Sec-WebSocket-Version: 13` with a 426.
    public let extraHeaders: [String]

    public init(status: Int, reasonPhrase: String, body: String, extraHeaders: [String] = []) {
        self.status = status
        self.reasonPhrase = reasonPhrase
        self.body = body
        self.extraHeaders = extraHeaders
    }

    static func badRequest(_ body: String) -> HTTPRejection {
        .init(status: 400, reasonPhrase: "Bad Request", body: body)
    }
    static let headersTooLarge = HTTPRejection(
        status: 431, reasonPhrase: "Request Header Fields Too Large", body: "request header too large")
    static let notFound = HTTPRejection(status: 404, reasonPhrase: "Not Found", body: "not found")
    static let methodNotAllowed = HTTPRejection(
        status: 405, reasonPhrase: "Method Not Allowed", body: "invalid HTTP method", extraHeaders: ["Allow: GET"])
    static let upgradeRequired = HTTPRejection(
        status: 426, reasonPhrase: "Upgrade Required", body: "WebSocket upgrade required",
        extraHeaders: ["Upgrade: websocket", "Connection: Upgrade"])
    static let unsupportedVersion = HTTPRejection(
        status: 426, reasonPhrase: "Upgrade Required", body: "unsupported Sec-WebSocket-Version",
        extraHeaders: ["Sec-WebSocket-Version: 13"])
    /// The original writes exactly these bytes for a disallowed Origin.
    static let forbidden = HTTPRejection(status: 403, reasonPhrase: "Forbidden", body: "")

    /// The full response bytes.
    public var responseBytes: [UInt8] {
        if status == 403 && body.isEmpty { return Array("HTTP/1.1 403 Forbidden\r\n\r\n".utf8) }
        var s = "HTTP/1.1 \(status) \(reasonPhrase)\r\nConnection: close\r\n"
        for h in extraHeaders where !h.hasPrefix("Connection:") { s += h + "\r\n" }
        s += "Content-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        return Array(s.utf8)
    }
}

/// What the handshake must satisfy.
public struct HTTPUpgradeConfig: Sendable, Equatable {
    /// The exact path to accept (query string ignored; `/ws` ≠ `/ws/`).
    public var path: String
    /// When non-nil, a request *with* an Origin header not in this list gets a raw 403;
    /// requests without Origin are always allowed (server-to-server clients).
    public var allowedOrigins: [String]?
    /// Largest accepted request head in bytes.
    public var maxHeaderBytes: Int

    public init(path: String = "/", allowedOrigins: [String]? = nil, maxHeaderBytes: Int = 8192) {
        self.path = path
        self.allowedOrigins = allowedOrigins
        self.maxHeaderBytes = maxHeaderBytes
    }
}

/// An acceptable upgrade request: what the 101 answer needs.
public struct AcceptedUpgrade: Equatable, Sendable {
    /// The `Sec-WebSocket-Key` value (trimmed).
    public var key: String
    /// The subprotocol echoed back: the first one the client offered, as the original's `ws`
    /// library does without a `handleProtocols` hook (browsers fail a handshake that offered
    /// subprotocols and got none back).
    public var subprotocol: String?
    /// permessage-deflate as negotiated (nil: none).
    public var deflate: PerMessageDeflateParams?

    public init(key: String, subprotocol: String? = nil, deflate: PerMessageDeflateParams? = nil) {
        self.key = key
        self.subprotocol = subprotocol
        self.deflate = deflate
    }
}

/// Pure checks of a request head against `HTTPUpgradeConfig`.
public enum HTTPUpgradeValidator {
    /// RFC 6455 §1.3: the GUID appended to the key before hashing.
    static let acceptGUID = Array("258EAFA5-E914-47DA-95CA-C5AB0DC85B11".utf8)

    /// Either what the 101 answer needs, or why the upgrade is refused.
    /// With `compression` set, a permessage-deflate offer in `Sec-WebSocket-Extensions` is
    /// negotiated (RFC 7692); offers the server cannot accept are ignored, never an error.
    public static func validate(_ head: HTTPRequestHead, config: HTTPUpgradeConfig,
                                compression: PerMessageDeflateConfig? = nil) -> Result<AcceptedUpgrade, HTTPRejection> {
        guard head.path == config.path else { return .failure(.notFound) }
        if let allowed = config.allowedOrigins, let origin = head.value("origin"), !allowed.contains(origin) {
            return .failure(.forbidden)
        }
        guard head.method == "GET" else { return .failure(.methodNotAllowed) }
        // HTTP/1.0 cannot upgrade (RFC 6455 §4.1: "HTTP/1.1 or higher").
        guard head.version >= "HTTP/1.1" else { return .failure(.badRequest("HTTP/1.1 required")) }
        guard tokens(head.values("upgrade")).contains("websocket"),
            tokens(head.values("connection")).contains("upgrade")
        else { return .failure(.upgradeRequired) }
        let keys = head.values("sec-websocket-key")
        guard keys.count == 1, let decoded = Base64.decode(Array(keys[0].utf8)[...]), decoded.count == 16 else {
            return .failure(.badRequest("missing or invalid Sec-WebSocket-Key"))
        }
        guard head.values("sec-websocket-version") == ["13"] else { return .failure(.unsupportedVersion) }
        let offered = head.values("sec-websocket-protocol")
        var subprotocol: String?
        if !offered.isEmpty {
            // RFC 6455 §4.1: a comma-separated list of tokens.
            let protocols = offered.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
                .map { String($0.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()) }
            guard protocols.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(HTTPUpgradeParser.isTokenChar) }) else {
                return .failure(.badRequest("invalid Sec-WebSocket-Protocol"))
            }
            subprotocol = protocols[0]
        }
        let deflate = compression.flatMap {
            PerMessageDeflateNegotiation.negotiate(head.values("sec-websocket-extensions"), config: $0)
        }
        return .success(AcceptedUpgrade(key: keys[0], subprotocol: subprotocol, deflate: deflate))
    }

    /// RFC 6455 §4.2.2: base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String {
        String(decoding: Base64.encode(SHA1.digest(Array(key.utf8) + acceptGUID)), as: UTF8.self)
    }

    /// The 101 response, with the negotiated permessage-deflate parameters if any.
    public static func switchingProtocolsResponse(for upgrade: AcceptedUpgrade) -> [UInt8] {
        var s = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(acceptValue(forKey: upgrade.key))\r\n"
        if let p = upgrade.subprotocol { s += "Sec-WebSocket-Protocol: \(p)\r\n" }
        if let d = upgrade.deflate { s += "Sec-WebSocket-Extensions: \(d.responseValue)\r\n" }
        return Array((s + "\r\n").utf8)
    }

    /// Lower-cased, trimmed comma-separated tokens of all the values.
    static func tokens(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map {
            String($0.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
                .lowercased()
        }
    }
}
