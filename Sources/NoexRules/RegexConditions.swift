import NoexJSON
import NoexRegex

/// A `matches` condition whose pattern hit the regex step limit while a trigger ran: the rule
/// did not fire, and the API call that caused the trigger answers `VALIDATION_ERROR`.
struct RegexOverrun {
    let ruleId: String
    let ruleName: String
    let pattern: String

    var error: RulesError {
        RulesError(
            .validation,
            "Rule \"\(ruleName)\" (\(ruleId)): condition pattern \"\(pattern)\" needs too much backtracking "
                + "to test the value (regex step limit reached), so the rule did not fire; the trigger itself "
                + "was processed. Rewrite the pattern without nested or overlapping repetition",
            details: ["ruleId": .string(ruleId), "pattern": .string(pattern)])
    }
}

extension RuleEngine {
    /// JavaScript's `new RegExp(source).test(subject)` on the bounded engine, compiled once per
    /// source. An invalid source never matches (registration rejects literal ones); a match over
    /// the step limit does not match and is remembered for `noteRegexOverrun`.
    func regexMatches(_ source: String, _ subject: String) -> Bool {
        let regex: BoundedRegex?
        if let cached = regexCache[source] {
            regex = cached
        } else {
            regex = try? BoundedRegex(source)
            if regexCache.count > 1000 { regexCache.removeAll() }
            regexCache[source] = .some(regex)
        }
        guard let regex else { return false }
        switch regex.test(subject) {
        case .match: return true
        case .noMatch: return false
        case .tooComplex:
            overrunPattern = overrunPattern ?? source
            return false
        }
    }

    /// After a rule's conditions ran: if a pattern overran, the rule is skipped as a contained
    /// error and the first overrun of the trigger is kept for the API call to report.
    func noteRegexOverrun(_ rule: RuleRuntime) -> Bool {
        guard let pattern = overrunPattern else { return false }
        overrunPattern = nil
        let overrun = RegexOverrun(ruleId: rule.id, ruleName: rule.name, pattern: pattern)
        contained(overrun.error.message)
        regexOverrun = regexOverrun ?? overrun
        return true
    }

    /// The overrun the last API trigger ran into, cleared.
    func takeRegexOverrun() -> RegexOverrun? {
        defer { regexOverrun = nil; overrunPattern = nil }
        return regexOverrun
    }
}
