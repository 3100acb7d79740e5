/// The part of a registered rule the event path reads, kept in one object so that selecting
/// and running rules moves references instead of copying `Rule` values. Owned by the engine;
/// `enabled` mirrors the rule's flag.
final class RuleRuntime {
    let id: String
    let name: String
    let priority: Double
    let group: String?
    var enabled: Bool
    let conditions: [Condition]
    let actions: [Action]
    let lookups: [Lookup]

    init(_ rule: Rule) {
        id = rule.id
        name = rule.name
        priority = rule.priority
        group = rule.group
        enabled = rule.enabled
        conditions = rule.conditions
        actions = rule.actions
        lookups = rule.lookups
    }
}
