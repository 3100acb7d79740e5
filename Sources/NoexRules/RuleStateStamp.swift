/// A cheap fingerprint of the rule engine state a durable store keeps next to its rules and
/// facts (timers, rule order, next rule version): equal stamps mean nothing there changed, so
/// the saved copy need not be serialized or written again.
public struct RuleStateStamp: Equatable, Sendable {
    let timerChanges: Int
    let orderChanges: Int
    let nextRuleVersion: Int

    public init(timerChanges: Int, orderChanges: Int, nextRuleVersion: Int) {
        self.timerChanges = timerChanges
        self.orderChanges = orderChanges
        self.nextRuleVersion = nextRuleVersion
    }
}
