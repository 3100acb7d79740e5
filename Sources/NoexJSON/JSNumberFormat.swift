/// Numbers printed exactly as JavaScript prints them (`Number.prototype.toString`, which is
/// what `JSON.stringify` and string concatenation use): the shortest digits that round-trip,
/// laid out as plain digits while the decimal exponent is in [-6, 21), else as `d.ddde±x`.
///
/// The shortest round-trip digits come from the standard library's `Double.description`
/// (shortest, and closest among the shortest, like V8); only the layout differs from Swift's,
/// so the digits and exponent are extracted from it and re-laid out. Integral values below
/// 2^53 skip that and print as integers.
public enum JSNumberFormat {
    /// Appends an integer in decimal.
    public static func append(_ value: Int64, to buffer: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        if magnitude < 10 {
            buffer.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { tmp in
            var i = 20
            while magnitude > 0 {
                i -= 1
                tmp[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: tmp[i..<20]))
        }
    }

    /// Appends a double as `JSON.stringify` writes it; NaN and ±Infinity become `null`.
    public static func append(_ value: Double, to buffer: inout [UInt8]) {
        guard value.isFinite else {
            buffer.appendStatic("null")
            return
        }
        appendFinite(value, to: &buffer)
    }

    /// The text `String(value)` gives in JavaScript (`NaN`, `Infinity`, `-Infinity` included).
    public static func string(_ value: Double) -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(24)
        if value.isNaN {
            buffer.appendStatic("NaN")
        } else if value.isInfinite {
            buffer.appendStatic(value < 0 ? "-Infinity" : "Infinity")
        } else {
            appendFinite(value, to: &buffer)
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    private static func appendFinite(_ value: Double, to buffer: inout [UInt8]) {
        if value == 0 {  // both zeros print as "0"
            buffer.append(UInt8(ascii: "0"))
            return
        }
        if value.magnitude < 9_007_199_254_740_992, value.rounded(.towardZero) == value {
            append(Int64(value), to: &buffer)
            return
        }
        var description = value.magnitude.description
        description.withUTF8 { text in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: text.count) { digits in
                // Split Swift's "ddd.ddde±xx" into significant digits and a decimal exponent.
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
                let k = last - first
                let n = pointIndex + exponent  // value = 0.d1d2...dk × 10^n
                if value < 0 { buffer.append(UInt8(ascii: "-")) }
                layOut(UnsafeBufferPointer(rebasing: digits[first..<last]), k: k, n: n, into: &buffer)
            }
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

    /// ECMA-262 Number::toString steps for digits `d1...dk` and decimal exponent `n`.
    private static func layOut(_ d: UnsafeBufferPointer<UInt8>, k: Int, n: Int, into buffer: inout [UInt8]) {
        if k <= n && n <= 21 {
            buffer.append(contentsOf: d)
            for _ in 0..<(n - k) { buffer.append(UInt8(ascii: "0")) }
        } else if 0 < n && n <= 21 {
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: d[0..<n]))
            buffer.append(UInt8(ascii: "."))
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: d[n..<k]))
        } else if -6 < n && n <= 0 {
            buffer.append(UInt8(ascii: "0"))
            buffer.append(UInt8(ascii: "."))
            for _ in 0..<(-n) { buffer.append(UInt8(ascii: "0")) }
            buffer.append(contentsOf: d)
        } else {
            buffer.append(d[0])
            if k > 1 {
                buffer.append(UInt8(ascii: "."))
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: d[1..<k]))
            }
            buffer.append(UInt8(ascii: "e"))
            let e = n - 1
            buffer.append(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            append(Int64(e.magnitude), to: &buffer)
        }
    }
}
