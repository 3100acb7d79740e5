import NoexRegex
import Testing

@Suite struct BoundedRegexTests {
    @Test func javaScriptMeaningIsKept() throws {
        // `$` only at the very end, `[^]` any character, `\u0041` an escape, ASCII `\d`: as in JavaScript.
        let cases: [(String, String, BoundedRegex.Outcome)] = [
            ("^a$", "a\n", .noMatch), ("^[^]$", "\n", .match), ("[]", "a", .noMatch), ("\\u0041", "A", .match),
            ("\\d", "\u{0663}", .noMatch), ("colou?r", "my color", .match), ("^é+$", "éé", .match),
            ("(a)|\\1b", "b", .match),
        ]
        for (pattern, subject, expected) in cases {
            #expect(try BoundedRegex(pattern).test(subject) == expected, "\(pattern) on \(subject)")
        }
    }

    @Test func catastrophicBacktrackingEndsAtTheLimit() throws {
        let evil = String(repeating: "a", count: 30) + "!"
        #expect(try BoundedRegex("^(a+)+$").test(evil) == .tooComplex)
        #expect(try BoundedRegex("^(a|aa)*$").test(String(repeating: "a", count: 40) + "!") == .tooComplex)
        // Long ordinary subjects stay within the limits.
        #expect(try BoundedRegex("^[a-z]+@[a-z]+\\.com$").test(String(repeating: "x", count: 100_000) + "@y.com") == .match)
        #expect(try BoundedRegex("(ab)*c").test(String(repeating: "ab", count: 20_000) + "c") == .match)
    }

    @Test func syntaxErrorsNameTheProblem() {
        #expect(throws: RegexSyntaxError.self) { try BoundedRegex("(unclosed") }
        do {
            _ = try BoundedRegex("a{2,1}")
            Issue.record("compiled")
        } catch {
            #expect(error.message.contains("out of order"))
            #expect(error.offset > 0)
        }
    }
}
