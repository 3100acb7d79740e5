import NoexJSON
import NoexRules

/// The rule engine's order and next rule version (`RuleEngine.ruleOrderState()`), saved next
/// to the rules by both engines: the rules come back in stored order, which is registration
/// order, but `rules.updateRule` moves a rule to the end (its tie order among equal
/// priorities), and the version counter also counted rules removed since. Stored as the `meta`
/// row `rule_order` (sqlite) and the `ruleOrder` entry of `schema.json` (file). A store written
/// before it existed has neither and loads as before (row order, counter past the highest
/// stored version).
enum StoredRuleOrder {
    static let metaKey = "rule_order"
    static let schemaKey = "ruleOrder"

    /// Applies a stored state after the rules were restored; a broken one is skipped and reported.
    static func restore(_ stored: JSON?, into engine: RuleEngine) -> [String] {
        guard let stored else { return [] }
        guard stored.objectValue != nil else { return ["stored rule order skipped: not a JSON object"] }
        do throws(RulesError) {
            try engine.restoreRuleOrder(stored)
        } catch {
            return ["stored rule order skipped: \(error.message)"]
        }
        return []
    }

    /// The same from the text of the sqlite `meta` row.
    static func restore(text: String?, into engine: RuleEngine) -> [String] {
        guard let text else { return [] }
        guard let json = try? JSON.parse(text) else { return ["stored rule order skipped: not valid JSON"] }
        return restore(json, into: engine)
    }
}
