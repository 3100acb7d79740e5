/// The `format` checks of docs/protocol/queries.md#bucket-definitions, written out by hand so they match the original's
/// JavaScript regular expressions and WHATWG URL parsing without a regex engine.
enum FormatValidators {
    static func isValid(_ value: String, format: String) -> Bool {
        switch format {
        case "email": return isEmail(value)
        case "url": return isURL(value)
        case "iso-date": return isISODate(value)
        default: return true  // unknown formats are not checked (the original ignores them)
        }
    }

    /// `^[^\s@]+@[^\s@]+\.[^\s@]+$`
    static func isEmail(_ s: String) -> Bool {
        let u = Array(s.unicodeScalars)
        if u.contains(where: { $0.isJSWhitespace }) { return false }
        guard let at = u.firstIndex(of: "@"), u.lastIndex(of: "@") == at, at > 0 else { return false }
        let domain = u[(at + 1)...]
        // some "." with at least one character before and after it inside the domain
        guard domain.count >= 3 else { return false }
        let inner = domain.dropFirst().dropLast()
        return inner.contains(".")
    }

    static let specialSchemes: Set<String> = ["http", "https", "ws", "wss", "ftp", "file"]

    /// What the WHATWG `URL` constructor accepts, approximated: a scheme
    /// (`[A-Za-z][A-Za-z0-9+.-]*:`); special schemes other than `file` need a non-empty host
    /// without forbidden host characters; other schemes accept any rest (`a:b`, `mailto:x`).
    static func isURL(_ raw: String) -> Bool {
        // The URL parser strips leading/trailing C0 controls and spaces.
        let s = String(String.UnicodeScalarView(raw.unicodeScalars.drop { $0.value <= 0x20 }.reversed().drop { $0.value <= 0x20 }.reversed()))
        guard let colon = s.firstIndex(of: ":") else { return false }
        let scheme = s[..<colon]
        guard let first = scheme.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        for c in scheme.unicodeScalars {
            guard c.isASCII, c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "+" || c == "-" || c == "." else {
                return false
            }
        }
        let lower = scheme.lowercased()
        let rest = s[s.index(after: colon)...]
        guard specialSchemes.contains(lower) else { return true }
        if lower == "file" { return true }
        var afterSlashes = Substring(rest).drop { $0 == "/" || $0 == "\\" }
        if let end = afterSlashes.firstIndex(where: { $0 == "/" || $0 == "\\" || $0 == "?" || $0 == "#" }) {
            afterSlashes = afterSlashes[..<end]
        }
        var host = afterSlashes
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        // strip a port
        if host.hasPrefix("["), let close = host.lastIndex(of: "]") {
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":", after.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }),
                    (Int(after.dropFirst()) ?? 0) <= 65535
                else { return false }
            }
            return close > host.index(after: host.startIndex)
        }
        if let c = host.lastIndex(of: ":") {
            let port = host[host.index(after: c)...]
            guard port.allSatisfy({ $0.isASCII && $0.isNumber }), (Int(port) ?? 0) <= 65535 else { return false }
            host = host[..<c]
        }
        if host.isEmpty { return false }
        let forbidden: Set<Character> = [" ", "\t", "\n", "\r", "#", "/", ":", "<", ">", "?", "@", "[", "\\", "]", "^", "|", "%"]
        return !host.contains(where: { forbidden.contains($0) })
    }

    /// The original's iso-date regex, plus calendar validity of the date part (docs/protocol/queries.md#bucket-definitions,
    /// recommended rule: no time-zone dependence).
    static func isISODate(_ s: String) -> Bool {
        let c = Array(s.utf8)
        func digits(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= c.count else { return nil }
            var v = 0
            for i in r {
                guard c[i] >= 48 && c[i] <= 57 else { return nil }
                v = v * 10 + Int(c[i] - 48)
            }
            return v
        }
        guard c.count >= 10, let year = digits(0..<4), c[4] == 45, let month = digits(5..<7), c[7] == 45,
            let day = digits(8..<10)
        else { return false }
        guard (1...12).contains(month), (1...31).contains(day) else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let dim = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day <= dim else { return false }
        if c.count == 10 { return true }
        // T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?
        guard c.count >= 19, c[10] == 84, let hh = digits(11..<13), c[13] == 58, let mm = digits(14..<16),
            c[16] == 58, let ss = digits(17..<19), hh <= 23, mm <= 59, ss <= 59
        else { return false }
        var i = 19
        if i < c.count && c[i] == 46 {
            i += 1
            let start = i
            while i < c.count && c[i] >= 48 && c[i] <= 57 { i += 1 }
            if i == start { return false }
        }
        if i == c.count { return true }
        if c[i] == 90 { return i + 1 == c.count }
        guard c[i] == 43 || c[i] == 45, c.count == i + 6, let oh = digits((i + 1)..<(i + 3)), c[i + 3] == 58,
            let om = digits((i + 4)..<(i + 6)), oh <= 23, om <= 59
        else { return false }
        return true
    }
}
