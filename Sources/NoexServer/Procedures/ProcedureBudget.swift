import NoexJSON

/// What one call may still spend (docs/procedures.md#limits): items (records and JSON values its
/// steps read, build, copy or write) and bytes of text templates. Every step charges before it
/// builds, so a hostile definition is refused before it takes the memory.
final class ProcedureBudget {
    let name: String
    let limits: ProceduresConfig
    private var itemsLeft: Int
    private var templateBytesLeft: Int

    init(name: String, limits: ProceduresConfig) {
        self.name = name
        self.limits = limits
        itemsLeft = limits.maxItemsPerCall
        templateBytesLeft = limits.maxTemplateBytes
    }

    func charge(_ items: Int) throws(ServerError) {
        itemsLeft -= items
        if itemsLeft < 0 {
            throw ServerError(.validationError,
                              "Procedure \"\(name)\" exceeded \(limits.maxItemsPerCall) items (procedures.maxItemsPerCall): its steps read, "
                              + "built or wrote more records and values than one call may; narrow its filters or raise the limit")
        }
    }

    /// A value copied `times` times (a template reference, a `map`): its JSON values, counted
    /// only as far as the budget reaches, so counting a huge value costs no more than the budget.
    func charge(copiesOf value: JSON, times: Int = 1) throws(ServerError) {
        guard times > 0 else { return }
        let limit = max(0, itemsLeft) / times + 1
        try charge(Self.values(in: value, upTo: limit) * times)
    }

    func chargeTemplateBytes(_ n: Int) throws(ServerError) {
        templateBytesLeft -= n
        if templateBytesLeft < 0 {
            throw ServerError(.validationError,
                              "Procedure \"\(name)\" produced more than \(limits.maxTemplateBytes) bytes of text templates "
                              + "(procedures.maxTemplateBytes); reference less data inside text")
        }
    }

    /// The JSON values in `value` (itself included), or `limit` once there are that many; stops
    /// walking there.
    static func values(in value: JSON, upTo limit: Int) -> Int {
        var count = 0
        _ = walk(value, &count, limit)
        return min(count, limit)
    }

    /// True once `count` reached `limit`.
    private static func walk(_ v: JSON, _ count: inout Int, _ limit: Int) -> Bool {
        count += 1
        if count >= limit { return true }
        switch v {
        case .array(let a):
            for child in a where walk(child, &count, limit) { return true }
        case .object(let o):
            for (_, child) in o where walk(child, &count, limit) { return true }
        default: break
        }
        return false
    }
}
