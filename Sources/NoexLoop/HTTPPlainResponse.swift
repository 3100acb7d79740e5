// Plain (non-upgrade) HTTP requests on the listening port, such as a metrics scrape or a
// health probe. The transport only recognises them and writes the answer; what is served at
// which path is the delegate's business (`WebSocketServerDelegate.onPlainRequest`), so this
// module stays protocol-agnostic. The connection closes after the answer (no keep-alive).

/// A complete HTTP/1.1 answer to a plain request. The connection closes after it is written.
public struct HTTPPlainResponse: Equatable, Sendable {
    public var status: Int
    public var reasonPhrase: String
    /// `Content-Type` header value, e.g. `application/json`.
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, reasonPhrase: String, contentType: String, body: [UInt8]) {
        self.status = status
        self.reasonPhrase = reasonPhrase
        self.contentType = contentType
        self.body = body
    }

    /// The full response bytes. A `HEAD` answer has the same headers (Content-Length included,
    /// RFC 9110 §9.3.2) and no body.
    public func responseBytes(includeBody: Bool = true) -> [UInt8] {
        let head = "HTTP/1.1 \(status) \(reasonPhrase)\r\nConnection: close\r\nContent-Type: \(contentType)\r\n"
            + "Content-Length: \(body.count)\r\nCache-Control: no-store\r\n\r\n"
        var out = Array(head.utf8)
        if includeBody { out.append(contentsOf: body) }
        return out
    }
}

extension HTTPRequestHead {
    /// Whether this request may be offered to `onPlainRequest`: a `GET` or `HEAD` that does not
    /// ask for a WebSocket upgrade, on a path other than the WebSocket path. Anything else goes
    /// through the upgrade checks as before (so it keeps its 404/405/426 answers).
    public func isPlainRequest(webSocketPath: String) -> Bool {
        guard method == "GET" || method == "HEAD" else { return false }
        guard !HTTPUpgradeValidator.tokens(values("upgrade")).contains("websocket") else { return false }
        return path != webSocketPath
    }
}
