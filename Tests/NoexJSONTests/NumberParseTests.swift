import Testing
@testable import NoexJSON

@Suite struct NumberParseTests {
    static let integers: [(String, Int64)] = [
        ("0", 0), ("-0", 0), ("1", 1), ("-1", -1), ("42", 42), ("1234567890", 1_234_567_890),
        ("9007199254740993", 9_007_199_254_740_993),  // beyond 2^53: exact as .int
        ("999999999999999999", 999_999_999_999_999_999),
        ("1000000000000000000", 1_000_000_000_000_000_000),
        ("9223372036854775807", .max), ("-9223372036854775807", -.max), ("-9223372036854775808", .min),
    ]

    @Test(arguments: integers)
    func integersBecomeInt(_ text: String, _ expected: Int64) throws {
        let value = try JSON.parse(text)
        #expect(identical(value, .int(expected)), "\(text) → \(value)")
    }

    static let doubles: [(String, Double)] = [
        // out of Int64 range
        ("9223372036854775808", 9_223_372_036_854_775_808.0),
        ("-9223372036854775809", -9_223_372_036_854_775_809.0),
        ("18446744073709551616", 18_446_744_073_709_551_616.0),
        ("12345678901234567890123", 1.2345678901234568e22),
        ("100000000000000000000000000000", 1e29),
        // fraction or exponent always make a double
        ("1.0", 1.0), ("-1.0", -1.0), ("0.0", 0.0), ("-0.0", -0.0), ("1e0", 1.0), ("1E2", 100.0),
        ("1e-2", 0.01), ("0.1", 0.1), ("0.2", 0.2), ("0.3", 0.3), ("1.5", 1.5), ("-2.5e-3", -0.0025),
        ("3.141592653589793", 3.141592653589793), ("2.718281828459045", 2.718281828459045),
        ("123456789.123456789", 123456789.123456789), ("1e22", 1e22), ("1e23", 1e23),
        ("1e-22", 1e-22), ("1e-23", 1e-23), ("9007199254740993.0", 9007199254740992.0),
        ("9007199254740995.0", 9007199254740996.0),
        // extremes
        ("1.7976931348623157e308", .greatestFiniteMagnitude),
        ("-1.7976931348623157e308", -.greatestFiniteMagnitude),
        ("2.2250738585072014e-308", .leastNormalMagnitude),
        ("2.2250738585072011e-308", Double(bitPattern: 0x000F_FFFF_FFFF_FFFF)),
        ("4.9406564584124654e-324", .leastNonzeroMagnitude), ("5e-324", .leastNonzeroMagnitude),
        ("2e-324", 0.0), ("1e-400", 0.0), ("-1e-400", -0.0),
        ("1e309", .infinity), ("-1e309", -.infinity), ("1e99999999999999999999", .infinity),
        ("0e99999999999999999999", 0.0),
        // correctly rounded hard cases
        ("8.98846567431158e307", 8.98846567431158e307),
        ("1.00000000000000011102230246251565404236316680908203125", 1.0),  // exact tie: to even
        ("1.00000000000000011102230246251565404236316680908203126", 1.0000000000000002),
        ("1.00000000000000011102230246251565404236316680908203124", 1.0),
        ("0.1000000000000000055511151231257827021181583404541015625", 0.1),
        ("7.038531e-26", 7.038531e-26),
        ("2.4703282292062327e-324", 0.0), ("2.4703282292062328e-324", .leastNonzeroMagnitude),
        ("0.0000000000000000000000000000000000001", 1e-37),
        ("123456789012345678901234567890e-30", 0.12345678901234568),
    ]

    @Test(arguments: doubles)
    func nonIntegersBecomeCorrectlyRoundedDoubles(_ text: String, _ expected: Double) throws {
        let value = try JSON.parse(text)
        #expect(identical(value, .double(expected)), "\(text) → \(value)")
    }

    /// The exact fast path and the slow path must agree with the standard library's correctly
    /// rounded conversion on every shape of literal.
    @Test func generatedLiteralsMatchStandardLibrary() throws {
        var rng = SeededRandom(seed: 0x5EED_0001)
        for _ in 0..<20_000 {
            var text = Bool.random(using: &rng) ? "-" : ""
            let intDigits = Int.random(in: 1...20, using: &rng)
            text += String(Int.random(in: 1...9, using: &rng))
            for _ in 1..<intDigits { text += String(Int.random(in: 0...9, using: &rng)) }
            if Bool.random(using: &rng) {
                text += "."
                for _ in 0..<Int.random(in: 1...20, using: &rng) { text += String(Int.random(in: 0...9, using: &rng)) }
            }
            text += "e" + String(Int.random(in: -340...310, using: &rng))
            let expected = Double(text)!
            guard case .double(let got) = try JSON.parse(text) else {
                Issue.record("\(text) did not parse as a double")
                continue
            }
            #expect(got.bitPattern == expected.bitPattern, "\(text): \(got) vs \(expected)")
        }
    }

    @Test func leadingZeroOffsetsPointAtTheSecondDigit() {
        let e = parseError("[012]")
        #expect(e?.kind == .invalidNumber)
        #expect(e?.offset == 2)
        #expect(parseError("-01")?.offset == 2)
    }

    @Test func missingDigitsAreReportedWhereTheyShouldBe() {
        #expect(parseError("[1.]")?.kind == .invalidNumber)
        #expect(parseError("[1.]")?.offset == 3)
        #expect(parseError("[1e]")?.offset == 3)
        #expect(parseError("[1e+]")?.offset == 4)
        #expect(parseError("-")?.kind == .unexpectedEnd)
        #expect(parseError("1.")?.kind == .unexpectedEnd)
        #expect(parseError("[-x]")?.kind == .invalidNumber)
        #expect(parseError("[-x]")?.offset == 2)
    }
}
