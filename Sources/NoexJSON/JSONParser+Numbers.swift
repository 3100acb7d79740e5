/// Number literals. The grammar is checked exactly (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`).
/// A literal without fraction or exponent that fits `Int64` becomes `.int`; everything else
/// becomes a correctly rounded `.double`: exactly representable cases (at most 15 significant
/// digits... up to 2^53, power of ten within 10^22) are computed directly, the rest go through
/// the standard library's `Double(_: String)`, which is correctly rounded.
extension JSONParser {
    mutating func parseNumber() throws(JSONParseError) -> JSON {
        let start = pos
        var negative = false
        if base[pos] == UInt8(ascii: "-") {
            negative = true
            pos += 1
        }
        guard pos < end else { throw endError() }

        // Integer part. `mantissa` collects up to 19 significant digits (always fits UInt64).
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var droppedDigits = false  // significant digits beyond the 19 kept
        var decimalExponent = 0  // value = mantissa * 10^decimalExponent (before the e-part)
        let first = base[pos]
        if first == UInt8(ascii: "0") {
            pos += 1
            if pos < end, isDigit(base[pos]) { throw JSONParseError(kind: .invalidNumber, offset: pos, byte: base[pos]) }
        } else if isDigit(first) {
            while pos < end, isDigit(base[pos]) {
                if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(base[pos] &- UInt8(ascii: "0"))
                    significantDigits += 1
                } else {
                    decimalExponent += 1
                    droppedDigits = droppedDigits || base[pos] != UInt8(ascii: "0")
                }
                pos += 1
            }
        } else {
            throw JSONParseError(kind: .invalidNumber, offset: pos, byte: first)
        }
        var isInteger = true

        // Fraction.
        if pos < end, base[pos] == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            guard pos < end else { throw endError() }
            guard isDigit(base[pos]) else { throw JSONParseError(kind: .invalidNumber, offset: pos, byte: base[pos]) }
            while pos < end, isDigit(base[pos]) {
                let d = base[pos] &- UInt8(ascii: "0")
                if significantDigits < 19 {
                    if mantissa != 0 || d != 0 { significantDigits += 1 }
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    decimalExponent -= 1
                } else {
                    droppedDigits = droppedDigits || d != 0
                }
                pos += 1
            }
        }

        // Exponent.
        var exponent = 0
        if pos < end, base[pos] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            pos += 1
            guard pos < end else { throw endError() }
            var expNegative = false
            if base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-") {
                expNegative = base[pos] == UInt8(ascii: "-")
                pos += 1
                guard pos < end else { throw endError() }
            }
            guard isDigit(base[pos]) else { throw JSONParseError(kind: .invalidNumber, offset: pos, byte: base[pos]) }
            while pos < end, isDigit(base[pos]) {
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(base[pos] &- UInt8(ascii: "0")) }
                pos += 1
            }
            if expNegative { exponent = -exponent }
        }

        if isInteger && decimalExponent == 0 {
            // At most 19 digits: fits UInt64; check the Int64 range (-2^63 is allowed).
            if negative {
                if mantissa <= UInt64(Int64.max) { return .int(-Int64(mantissa)) }
                if mantissa == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            } else if mantissa <= UInt64(Int64.max) {
                return .int(Int64(mantissa))
            }
        }

        // Exact fast path (Clinger): mantissa and 10^|e| are exact doubles, so one IEEE
        // multiplication or division rounds correctly.
        let e10 = decimalExponent + exponent
        if !droppedDigits && mantissa <= 1 << 53 && e10 >= -22 && e10 <= 22 {
            var d = Double(mantissa)
            if e10 < 0 { d /= powersOfTen[-e10] } else { d *= powersOfTen[e10] }
            return .double(negative ? -d : d)
        }
        if mantissa == 0 && !droppedDigits { return .double(negative ? -0.0 : 0.0) }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
        // The text matched the JSON number grammar, which `Double(_:)` accepts; it saturates
        // to ±infinity for huge exponents, and JSON has no other way to write infinity,
        // so out-of-range magnitudes stay infinite (as in JavaScript) and print as `null`.
        guard let d = Double(text) else { throw JSONParseError(kind: .invalidNumber, offset: start, byte: base[start]) }
        return .double(d)
    }

    @inline(__always)
    func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }
}

/// 10^0 ... 10^22, the powers of ten a Double holds exactly.
private let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]
