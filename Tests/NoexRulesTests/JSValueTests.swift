import NoexJSON
import Testing

@testable import NoexRules

struct JSValueTests {
    @Test(arguments: [
        (7.0, "7"), (1.5, "1.5"), (1e21, "1e+21"), (1e20, "100000000000000000000"), (0.1, "0.1"),
        (1e-7, "1e-7"), (0.000001, "0.000001"), (-2.5, "-2.5"), (123456789.125, "123456789.125"),
        (0.0, "0"), (-0.0, "0"), (1.2345e-10, "1.2345e-10"), (2e300, "2e+300"), (100.0, "100"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (Double.leastNonzeroMagnitude, "5e-324"),
    ])
    func numberFormatting(value: Double, expected: String) {
        #expect(JSValue.numberString(value) == expected)
    }

    @Test func stringOfValues() {
        #expect(JSValue.string(.int(42)) == "42")
        #expect(JSValue.string(true) == "true")
        #expect(JSValue.string(.null) == "null")
        #expect(JSValue.string(nil) == "undefined")
        #expect(JSValue.string([1, 2]) == "1,2")
        #expect(JSValue.string([1, .null, [2, 3]]) == "1,,2,3")
        #expect(JSValue.string(["a": 1]) == "[object Object]")
        #expect(JSValue.string("x") == "x")
    }

    @Test func nestedGet() {
        let data: JSON = ["a": ["b": ["c": 1]], "items": [10, 20], "n": .null]
        #expect(JSValue.get(data, path: "a.b.c") == .int(1))
        #expect(JSValue.get(data, path: "items.1") == .int(20))
        #expect(JSValue.get(data, path: "items.2") == nil)
        #expect(JSValue.get(data, path: "items.01") == nil)
        #expect(JSValue.get(data, path: "a.x.c") == nil)
        #expect(JSValue.get(data, path: "n.x") == nil)
        #expect(JSValue.get(data, path: "n") == .null)
        #expect(JSValue.get(data, path: "") == nil)
    }

    @Test(arguments: [
        ("100ms", Int64(100)), ("2s", 2000), ("3m", 180_000), ("1h", 3_600_000), ("1d", 86_400_000),
        ("1w", 604_800_000), ("1y", 31_536_000_000), ("100", 100),
    ])
    func durations(text: String, ms: Int64) {
        #expect(Durations.parse(text) == ms)
    }

    @Test func invalidDurations() {
        for bad in ["", "ms", "1.5s", "10x", "-1s", " 1s", "1 s"] {
            #expect(Durations.parse(bad) == nil, "\(bad)")
        }
    }
}
