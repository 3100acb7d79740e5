// HTTP/1.1 request-head parser for the WebSocket opening handshake (RFC 6455 §4.2.1,
// RFC 9112 §2–§5): pure, resumable, and capped in size. It only parses; `HTTPUpgradeValidator`
// decides whether the request is an acceptable upgrade.

/// One parsed request head. Header names are lower-cased; repeated headers are kept in order.
public struct HTTPRequestHead: Equatable, Sendable {
    public var method: String
    /// The request target as sent (origin-form `/path?query` or absolute-form).
    public var target: String
    /// `HTTP/1.1` etc., as sent.
    public var version: String
    public var headers: [(name: String, value: String)]

    /// All values of a header (name in lower case), in order.
    public func values(_ name: String) -> [String] {
        headers.compactMap { $0.name == name ? $0.value : nil }
    }

    /// The single value of a header, or nil when it is absent.
    public func value(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// The path of the target without the query string (absolute-form targets lose their
    /// scheme and authority), as the original compares it (`new URL(req.url, base).pathname`).
    public var path: String {
        var t = Substring(target)
        if t.hasPrefix("http://") || t.hasPrefix("https://") {
            t = t[t.index(t.firstIndex(of: ":")!, offsetBy: 3)...]
            t = t.firstIndex(of: "/").map { t[$0...] } ?? "/"
        }
        if let q = t.firstIndex(where: { $0 == "?" || $0 == "#" }) { t = t[..<q] }
        return String(t)
    }

    public static func == (a: HTTPRequestHead, b: HTTPRequestHead) -> Bool {
        a.method == b.method && a.target == b.target && a.version == b.version
            && a.headers.elementsEqual(b.headers, by: { $0.name == $1.name && $0.value == $1.value })
    }
}

/// Accumulates bytes until the blank line that ends a request head, then parses it.
public struct HTTPUpgradeParser {
    /// Outcome of feeding bytes.
    public enum Result: Equatable, Sendable {
        /// The head is not complete yet; feed more bytes.
        case needMore
        /// The head is complete. `consumed` bytes of the last input belong to it; anything after
        /// them is the client's first WebSocket data and must go to the frame decoder.
        case complete(HTTPRequestHead, consumed: Int)
        /// The bytes cannot be a valid request head (or it is larger than `maxHeaderBytes`):
        /// answer with this status and close.
        case invalid(HTTPRejection)
    }

    /// Largest accepted request head, terminating blank line included.
    public let maxHeaderBytes: Int
    private var buffer: [UInt8] = []
    private var finished = false

    public init(maxHeaderBytes: Int = 8192) {
        precondition(maxHeaderBytes > 4, "maxHeaderBytes too small")
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Feeds the next bytes. After `.complete` or `.invalid` the parser must not be fed again.
    public mutating func feed(_ input: UnsafeRawBufferPointer) -> Result {
        precondition(!finished, "HTTPUpgradeParser fed after it finished")
        let scanFrom = max(0, buffer.count - 3)
        let room = maxHeaderBytes - buffer.count
        let take = min(input.count, room)
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[0..<take]))
        // Look for CRLF CRLF starting where a terminator could begin.
        var i = scanFrom
        while i + 4 <= buffer.count {
            if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
                let headEnd = i + 4
                let consumed = take - (buffer.count - headEnd)
                finished = true
                let head = buffer[0..<i]
                buffer = []
                switch Self.parse(head) {
                case .some(let request): return .complete(request, consumed: consumed)
                case .none: return .invalid(.badRequest("malformed request"))
                }
            }
            i += 1
        }
        if take < input.count || buffer.count >= maxHeaderBytes {
            finished = true
            buffer = []
            return .invalid(.headersTooLarge)
        }
        return .needMore
    }

    /// Parses the head without its final CRLF CRLF. Returns nil for anything malformed.
    static func parse(_ head: ArraySlice<UInt8>) -> HTTPRequestHead? {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var j = head.startIndex
        while j < head.endIndex {
            if head[j] == 13 {
                guard j + 1 < head.endIndex, head[j + 1] == 10 else { return nil }
                lines.append(head[start..<j])
                j += 2
                start = j
            } else {
                j += 1
            }
        }
        lines.append(head[start..<head.endIndex])

        // Request line: method SP request-target SP HTTP-version (RFC 9112 §3).
        let parts = lines[0].split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        guard parts[0].allSatisfy(isTokenChar), parts[1].allSatisfy({ $0 > 32 && $0 < 127 }) else { return nil }
        guard parts[2].count == 8, parts[2].starts(with: Array("HTTP/".utf8)),
            isDigit(parts[2][parts[2].startIndex + 5]), parts[2][parts[2].startIndex + 6] == UInt8(ascii: "."),
            isDigit(parts[2][parts[2].startIndex + 7])
        else { return nil }

        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            // RFC 9112 §5: field-name ":" OWS field-value OWS; no obsolete line folding.
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenChar) else { return nil }
            var value = line[(colon + 1)...]
            while let f = value.first, f == 32 || f == 9 { value = value.dropFirst() }
            while let l = value.last, l == 32 || l == 9 { value = value.dropLast() }
            guard value.allSatisfy({ $0 == 9 || $0 >= 32 && $0 != 127 }) else { return nil }
            headers.append((lowercased(name), String(decoding: value, as: UTF8.self)))
        }
        return HTTPRequestHead(
            method: String(decoding: parts[0], as: UTF8.self),
            target: String(decoding: parts[1], as: UTF8.self),
            version: String(decoding: parts[2], as: UTF8.self),
            headers: headers)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(c)
        }
    }

    private static func lowercased(_ s: ArraySlice<UInt8>) -> String {
        String(decoding: s.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
