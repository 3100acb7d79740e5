/// Numbers printed exactly as JavaScript prints them (`Number.prototype.toString`, which is
/// what `JSON.stringify` and string concatenation use): the shortest digits that round-trip,
/// laid out as plain digits while the decimal exponent is in [-6, 21), else as `d.ddde±x`.
///
/// The shortest round-trip digits come from the standard library's `Double.description`
/// (shortest, and closest among the shortest, like V8); only the layout differs from Swift's,
/// so the digits and exponent are extracted from it and re-laid out. Integral values below
/// 2^53 skip that and print as integers.
public enum JSNumberFormat {
    /// Longest output: sign, 17 digits, point, "e-" and three exponent digits, or sign and
    /// 21 integer digits, or "-0.00000" and 17 digits.
    public static let maxLength = 32

    /// "00" through "99", two bytes each.
    private static let digitPairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// Appends an integer in decimal.
    public static func append(_ value: Int64, to buffer: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxLength) { tmp in
            let n = format(value, into: tmp.baseAddress!)
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: tmp[0..<n]))
        }
    }

    /// Appends a double as `JSON.stringify` writes it; NaN and ±Infinity become `null`.
    public static func append(_ value: Double, to buffer: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxLength) { tmp in
            let n = format(value, into: tmp.baseAddress!)
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: tmp[0..<n]))
        }
    }

    /// The text `String(value)` gives in JavaScript (`NaN`, `Infinity`, `-Infinity` included).
    public static func string(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxLength) { tmp in
            let n = format(value, into: tmp.baseAddress!)
            return String(decoding: UnsafeBufferPointer(rebasing: tmp[0..<n]), as: UTF8.self)
        }
    }

    static func write(_ value: Int64, to writer: inout JSONWriter) {
        writer.advance(by: format(value, into: writer.reserve(maxLength)))
    }

    static func write(_ value: Double, to writer: inout JSONWriter) {
        writer.advance(by: format(value, into: writer.reserve(maxLength)))
    }

    /// Writes an integer at `out` (room for `maxLength` bytes) and returns its length.
    public static func format(_ value: Int64, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var magnitude = value.magnitude
        var n = 0
        if value < 0 {
            out[0] = UInt8(ascii: "-")
            n = 1
        }
        if magnitude < 10 {
            out[n] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude)
            return n + 1
        }
        // The length by multiplication, then two digits per division from a table of pairs:
        // a 13-digit timestamp (every record has two) took 26 divisions digit by digit.
        var digits = 2
        var limit: UInt64 = 100
        while magnitude >= limit && digits < 19 {
            digits += 1
            limit &*= 10
        }
        let pairs = digitPairs.utf8Start
        var i = n + digits
        while magnitude >= 100 {
            let r = Int(magnitude % 100)
            magnitude /= 100
            i -= 2
            out[i] = pairs[2 * r]
            out[i + 1] = pairs[2 * r + 1]
        }
        if magnitude >= 10 {
            let r = Int(magnitude)
            out[i - 2] = pairs[2 * r]
            out[i - 1] = pairs[2 * r + 1]
        } else {
            out[i - 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude)
        }
        return n + digits
    }

    /// Writes a double as `JSON.stringify` does (non-finite as `null`) at `out` (room for
    /// `maxLength` bytes) and returns its length.
    static func format(_ value: Double, into out: UnsafeMutablePointer<UInt8>) -> Int {
        guard value.isFinite else {
            out[0] = UInt8(ascii: "n"); out[1] = UInt8(ascii: "u"); out[2] = UInt8(ascii: "l"); out[3] = UInt8(ascii: "l")
            return 4
        }
        if value == 0 {  // both zeros print as "0"
            out[0] = UInt8(ascii: "0")
            return 1
        }
        if value.magnitude < 9_007_199_254_740_992, value.rounded(.towardZero) == value {
            return format(Int64(value), into: out)
        }
        let description = value.magnitude.description
        var result = 0
        let done: Void? = description.utf8.withContiguousStorageIfAvailable { text in
            result = layOut(description: text, negative: value < 0, into: out)
        }
        if done == nil {
            let copy = Array(description.utf8)
            copy.withUnsafeBufferPointer { result = layOut(description: $0, negative: value < 0, into: out) }
        }
        return result
    }

    /// Splits Swift's "ddd.ddde±xx" into significant digits and a decimal exponent and lays
    /// them out the JavaScript way.
    private static func layOut(description text: UnsafeBufferPointer<UInt8>, negative: Bool, into out: UnsafeMutablePointer<UInt8>) -> Int {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: text.count) { digits in
            var count = 0
            var pointIndex = -1
            var exponent = 0
            var i = 0
            while i < text.count {
                let c = text[i]
                if c == UInt8(ascii: ".") {
                    pointIndex = count
                } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                    exponent = parseExponent(text, from: i + 1)
                    break
                } else {
                    digits[count] = c
                    count += 1
                }
                i += 1
            }
            if pointIndex < 0 { pointIndex = count }
            var first = 0
            while first < count - 1 && digits[first] == UInt8(ascii: "0") {
                first += 1
                pointIndex -= 1
            }
            var last = count
            while last > first + 1 && digits[last - 1] == UInt8(ascii: "0") { last -= 1 }
            var n = 0
            if negative {
                out[0] = UInt8(ascii: "-")
                n = 1
            }
            // value = 0.d1d2...dk × 10^e
            return n + layOut(UnsafeBufferPointer(rebasing: digits[first..<last]), e: pointIndex + exponent, into: out + n)
        }
    }

    private static func parseExponent(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        var negative = false
        if i < text.count && (text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+")) {
            negative = text[i] == UInt8(ascii: "-")
            i += 1
        }
        var e = 0
        while i < text.count {
            e = e * 10 + Int(text[i] &- UInt8(ascii: "0"))
            i += 1
        }
        return negative ? -e : e
    }

    /// ECMA-262 Number::toString steps for digits `d1...dk` and decimal exponent `n`
    /// (value = 0.d1...dk × 10^n); returns the length written.
    private static func layOut(_ d: UnsafeBufferPointer<UInt8>, e n: Int, into out: UnsafeMutablePointer<UInt8>) -> Int {
        let k = d.count
        var w = 0
        func put(_ b: UInt8) {
            out[w] = b
            w += 1
        }
        func put(_ digits: Slice<UnsafeBufferPointer<UInt8>>) {
            for b in digits { put(b) }
        }
        if k <= n && n <= 21 {
            put(d[...])
            for _ in 0..<(n - k) { put(UInt8(ascii: "0")) }
        } else if 0 < n && n <= 21 {
            put(d[0..<n])
            put(UInt8(ascii: "."))
            put(d[n..<k])
        } else if -6 < n && n <= 0 {
            put(UInt8(ascii: "0"))
            put(UInt8(ascii: "."))
            for _ in 0..<(-n) { put(UInt8(ascii: "0")) }
            put(d[...])
        } else {
            put(d[0])
            if k > 1 {
                put(UInt8(ascii: "."))
                put(d[1..<k])
            }
            put(UInt8(ascii: "e"))
            let e = n - 1
            put(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            w += format(Int64(e.magnitude), into: out + w)
        }
        return w
    }
}
