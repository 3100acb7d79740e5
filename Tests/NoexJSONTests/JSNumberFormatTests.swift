import Testing
@testable import NoexJSON

/// `Number.prototype.toString` outputs, as printed by Node (`String(x)` / `JSON.stringify(x)`).
@Suite struct JSNumberFormatTests {
    static let table: [(Double, String)] = [
        (0, "0"), (-0.0, "0"), (1, "1"), (-1, "-1"), (1.5, "1.5"), (-1.5, "-1.5"), (0.1, "0.1"),
        (0.1 + 0.2, "0.30000000000000004"), (1.0 / 3.0, "0.3333333333333333"), (2.0 / 3.0, "0.6666666666666666"),
        (100, "100"), (123.456, "123.456"), (4.35, "4.35"), (0.5, "0.5"), (1e-5, "0.00001"), (2.5e-5, "0.000025"),
        (1e-6, "0.000001"), (1.234e-6, "0.000001234"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (1.234e-7, "1.234e-7"),
        (5e-7, "5e-7"), (123e-20, "1.23e-18"), (-1e-100, "-1e-100"), (1e20, "100000000000000000000"),
        (1e21, "1e+21"), (-1e21, "-1e+21"), (1.5e21, "1.5e+21"), (123e18, "123000000000000000000"),
        (123456789012345683968, "123456789012345680000"), (1.2345678901234568e21, "1.2345678901234568e+21"),
        (9.999999999999999e20, "999999999999999900000"), (5e20, "500000000000000000000"),
        (1e16, "10000000000000000"), (1e17, "100000000000000000"), (1e100, "1e+100"), (1.5e300, "1.5e+300"),
        (9007199254740992, "9007199254740992"), (9007199254740994, "9007199254740994"),
        (-9007199254740992, "-9007199254740992"), (9007199254740991, "9007199254740991"),
        (1152921504606846976, "1152921504606847000"), (18446744073709551616, "18446744073709552000"),
        (9223372036854775808, "9223372036854776000"), (-9223372036854775808, "-9223372036854776000"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (.leastNonzeroMagnitude, "5e-324"), (-.leastNonzeroMagnitude, "-5e-324"),
        (2.2250738585072014e-308, "2.2250738585072014e-308"), (2.220446049250313e-16, "2.220446049250313e-16"),
        (0.000123, "0.000123"), (0.0000123, "0.0000123"), (0.00000123, "0.00000123"), (1.23e-8, "1.23e-8"),
        (12345.6789, "12345.6789"), (1234567.890123, "1234567.890123"), (3.141592653589793, "3.141592653589793"),
        (2 * .leastNonzeroMagnitude, "1e-323"), (1.0e23, "1e+23"), (9.5, "9.5"),
        (0.000001000001, "0.000001000001"), (100.0, "100"), (1e15 + 0.5, "1000000000000000.5"),
        (4503599627370495.5, "4503599627370495.5"), (1.7e-6, "0.0000017"), (123456.7e-20, "1.234567e-15"),
    ]

    @Test(arguments: table)
    func printsAsJavaScriptDoes(_ value: Double, _ expected: String) {
        #expect(JSON.double(value).jsonString == expected)
        #expect(JSNumberFormat.string(value) == expected)
    }

    @Test func nonFiniteValues() {
        #expect(JSNumberFormat.string(.nan) == "NaN")
        #expect(JSNumberFormat.string(.infinity) == "Infinity")
        #expect(JSNumberFormat.string(-.infinity) == "-Infinity")
        #expect(JSON.double(.nan).jsonString == "null")
        #expect(JSON.array([.double(.infinity)]).jsonString == "[null]")
    }

    @Test func integersPrintPlainly() {
        let ints: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, 12345, 1 << 53, (1 << 53) + 1, .max, .min, .max - 1, .min + 1]
        for i in ints {
            #expect(JSON.int(i).jsonString == String(i))
        }
    }

    /// Every length from 1 to 19 digits, both sides of each power of ten, and random values:
    /// the pairwise digit writer against Swift's own decimal text.
    @Test func integersOfEveryLengthPrintPlainly() {
        var values: [Int64] = []
        var p: Int64 = 1
        for _ in 0..<19 {
            values += [p - 1, p, p + 1, -p, -(p - 1), p * 9 / 10 + 7]
            if p <= Int64.max / 10 { p *= 10 }
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5000 { values.append(Int64.random(in: .min ... .max, using: &rng) >> Int64.random(in: 0..<63, using: &rng)) }
        for i in values {
            #expect(JSON.int(i).jsonString == String(i))
            var bytes: [UInt8] = []
            JSNumberFormat.append(i, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == String(i))
        }
    }

    /// Whatever double is printed reads back as the same double (shortest digits are still
    /// enough digits), and uses at most 17 significant digits.
    @Test func printedDoublesRoundTrip() throws {
        var rng = SeededRandom(seed: 0xD0_0B1E)
        for i in 0..<20_000 {
            let d: Double
            if i % 2 == 0 {
                d = Double(bitPattern: rng.next())
            } else {
                d = Double.random(in: -1e6...1e6, using: &rng) * [1, 1e-10, 1e10, 1e-300, 1e300][i % 5]
            }
            guard d.isFinite else { continue }
            let text = JSNumberFormat.string(d)
            let back = Double(text)
            #expect(back == d, "\(d) printed as \(text)")
            // Shortest digits never need more than 17 significant digits.
            let mantissa = text.split(separator: "e")[0].filter { $0 != "-" && $0 != "." }
            let significant = mantissa.drop(while: { $0 == "0" }).reversed().drop(while: { $0 == "0" })
            #expect(significant.count <= 17, "\(d) printed as \(text)")
        }
    }
}
