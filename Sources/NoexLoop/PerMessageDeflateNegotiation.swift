// RFC 7692 §5–7: reading the client's `Sec-WebSocket-Extensions` offers and picking the first
// permessage-deflate offer the server can honour. Pure: no zlib, no sockets.

/// One element of an extension list: `name; param; param=value`.
public struct ExtensionOffer: Equatable, Sendable {
    public var name: String
    public var params: [Param]

    public struct Param: Equatable, Sendable {
        public var name: String
        /// nil for a parameter without `=value`; quoted values are unquoted.
        public var value: String?
    }
}

public enum PerMessageDeflateNegotiation {
    /// Parses all `Sec-WebSocket-Extensions` values (RFC 6455 §9.1 grammar) in order. A
    /// syntactically broken element becomes nil: it is skipped as an offer nobody can accept,
    /// while the client's other offers still count.
    public static func parse(_ values: [String]) -> [ExtensionOffer?] {
        var out: [ExtensionOffer?] = []
        for value in values {
            for element in split(Array(value.utf8), on: UInt8(ascii: ",")) {
                let trimmed = trim(element)
                if trimmed.isEmpty { continue }  // HTTP list rule: empty elements are allowed
                out.append(offer(trimmed))
            }
        }
        return out
    }

    /// The parameters for the first acceptable permessage-deflate offer, or nil (no
    /// compression on this connection). §7: an offer with an unknown, duplicate or invalid
    /// parameter is declined, and so is one the server cannot honour (a 256-byte window).
    public static func negotiate(_ values: [String], config: PerMessageDeflateConfig) -> PerMessageDeflateParams? {
        for case let offer? in parse(values) where offer.name.lowercased() == "permessage-deflate" {
            if let params = accept(offer, config: config) { return params }
        }
        return nil
    }

    static func accept(_ offer: ExtensionOffer, config: PerMessageDeflateConfig) -> PerMessageDeflateParams? {
        var seen: Set<String> = []
        var serverNoContextTakeover = false
        var serverWindow: Int?
        for param in offer.params {
            let name = param.name.lowercased()
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard param.value == nil else { return nil }
                serverNoContextTakeover = true
            case "client_no_context_takeover":
                // The client announces it; the server need not answer it.
                guard param.value == nil else { return nil }
            case "server_max_window_bits":
                guard let v = param.value, let bits = windowBits(v) else { return nil }
                serverWindow = bits
            case "client_max_window_bits":
                // Without a value: the client may be told a limit. We inflate with the full
                // window whatever the client uses, so we never need one.
                if let v = param.value, windowBits(v) == nil { return nil }
            default:
                return nil
            }
        }
        // zlib's deflate has no 256-byte window (it would use 512 and break the client's inflate).
        if serverWindow == 8 { return nil }
        var params = PerMessageDeflateParams(
            serverNoContextTakeover: serverNoContextTakeover || config.serverNoContextTakeover,
            clientNoContextTakeover: config.clientNoContextTakeover,
            serverMaxWindowBits: min(config.serverMaxWindowBits, serverWindow ?? 15))
        // §7.1.2.1: a server accepting server_max_window_bits must answer it.
        if serverWindow != nil { params.announcesServerWindow = true }
        return params
    }

    /// §7.1.2: 1*DIGIT in 8...15, no leading zero.
    static func windowBits(_ text: String) -> Int? {
        let u = Array(text.utf8)
        guard (1...2).contains(u.count), u[0] != UInt8(ascii: "0"),
              u.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let n = Int(text), (8...15).contains(n) else { return nil }
        return n
    }

    // MARK: - Grammar

    private static func offer(_ bytes: ArraySlice<UInt8>) -> ExtensionOffer? {
        let parts = split(bytes, on: UInt8(ascii: ";")).map(trim)
        guard let first = parts.first, isToken(first) else { return nil }
        var params: [ExtensionOffer.Param] = []
        for part in parts.dropFirst() {
            guard let eq = part.firstIndex(of: UInt8(ascii: "=")) else {
                guard isToken(part) else { return nil }
                params.append(.init(name: string(part), value: nil))
                continue
            }
            let name = trim(part[part.startIndex..<eq])
            let raw = trim(part[(eq + 1)...])
            guard isToken(name), let value = paramValue(raw) else { return nil }
            params.append(.init(name: string(name), value: value))
        }
        return ExtensionOffer(name: string(first), params: params)
    }

    /// A token, or a quoted-string whose unescaped content is returned.
    private static func paramValue(_ raw: ArraySlice<UInt8>) -> String? {
        if isToken(raw) { return string(raw) }
        guard raw.count >= 2, raw.first == UInt8(ascii: "\""), raw.last == UInt8(ascii: "\"") else { return nil }
        var out: [UInt8] = []
        var escaped = false
        for b in raw.dropFirst().dropLast() {
            if escaped {
                out.append(b)
                escaped = false
            } else if b == UInt8(ascii: "\\") {
                escaped = true
            } else if b == UInt8(ascii: "\"") {
                return nil
            } else {
                out.append(b)
            }
        }
        guard !escaped else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    /// Splits on `separator` outside quoted strings.
    private static func split(_ bytes: ArraySlice<UInt8>, on separator: UInt8) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var quoted = false
        var escaped = false
        for i in bytes.indices {
            let b = bytes[i]
            if quoted {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { quoted = false }
            } else if b == UInt8(ascii: "\"") {
                quoted = true
            } else if b == separator {
                parts.append(bytes[start..<i])
                start = i + 1
            }
        }
        parts.append(bytes[start..<bytes.endIndex])
        return parts
    }

    private static func split(_ bytes: [UInt8], on separator: UInt8) -> [ArraySlice<UInt8>] {
        split(bytes[...], on: separator)
    }

    private static func trim(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == 0x20 || f == 0x09 { s = s.dropFirst() }
        while let l = s.last, l == 0x20 || l == 0x09 { s = s.dropLast() }
        return s
    }

    private static func isToken(_ s: ArraySlice<UInt8>) -> Bool {
        !s.isEmpty && s.allSatisfy(HTTPUpgradeParser.isTokenChar)
    }

    private static func string(_ s: ArraySlice<UInt8>) -> String { String(decoding: s, as: UTF8.self) }
}
