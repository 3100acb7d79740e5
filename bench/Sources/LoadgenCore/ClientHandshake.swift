import NoexLoop

/// The client side of the RFC 6455 §4 opening handshake: the upgrade request to send and
/// the check of the server's 101 answer (including `Sec-WebSocket-Accept`).
public struct ClientHandshake {
    public let key: String
    public let expectedAccept: String

    /// `nonce` must be 16 bytes (RFC 6455 §4.1: a random 16-byte value, base64-encoded).
    public init(nonce: [UInt8]) {
        precondition(nonce.count == 16, "the handshake nonce is 16 bytes")
        key = String(decoding: Base64.encode(nonce), as: UTF8.self)
        expectedAccept = Self.accept(for: key)
    }

    public init(random: inout FastRandom) {
        var nonce: [UInt8] = []
        for _ in 0..<2 { withUnsafeBytes(of: random.next()) { nonce.append(contentsOf: $0) } }
        self.init(nonce: nonce)
    }

    /// The value a conforming server must return for `key`.
    public static func accept(for key: String) -> String { HTTPUpgradeValidator.acceptValue(forKey: key) }

    public func request(host: String, port: Int, path: String) -> [UInt8] {
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return Array((
            "GET \(path) HTTP/1.1\r\n"
            + "Host: \(hostHeader)\r\n"
            + "Upgrade: websocket\r\n"
            + "Connection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\n"
            + "Sec-WebSocket-Version: 13\r\n\r\n").utf8)
    }

    public enum Outcome: Equatable, Sendable {
        /// The response head has not fully arrived yet.
        case incomplete
        /// Upgraded; the response head is this many bytes, frames may follow it.
        case accepted(headerLength: Int)
        case rejected(String)
    }

    /// Inspects the bytes received so far. Header names are case-insensitive; the
    /// `Upgrade` and `Connection` values are matched case-insensitively as tokens.
    public func check(response bytes: [UInt8], maxHeadLength: Int = 16 * 1024) -> Outcome {
        guard let end = Self.headEnd(bytes) else {
            return bytes.count > maxHeadLength ? .rejected("response head too long") : .incomplete
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let status = lines.popFirst() else { return .rejected("empty response") }
        let statusParts = status.split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", statusParts[1] == "101" else {
            return .rejected("status line: \(status)")
        }
        var upgrade = false, connection = false, accept: Substring?
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return .rejected("malformed header: \(line)") }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            switch name {
            case "upgrade": upgrade = value.lowercased() == "websocket"
            case "connection":
                connection = value.split(separator: ",").contains { $0.trimmingSpaces().lowercased() == "upgrade" }
            case "sec-websocket-accept": accept = value
            default: break
            }
        }
        guard upgrade else { return .rejected("missing Upgrade: websocket") }
        guard connection else { return .rejected("missing Connection: Upgrade") }
        guard accept.map(String.init) == expectedAccept else {
            return .rejected("Sec-WebSocket-Accept \(accept.map(String.init) ?? "missing"), expected \(expectedAccept)")
        }
        return .accepted(headerLength: end + 4)
    }

    /// The index of the blank line's CR in "\r\n\r\n", if the head is complete.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
