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

    /// The deepest value a request can carry as a record or fact (the parser's depth less the
    /// envelope). Templates can nest results inside each other; a deeper value written by a step
    /// could be stored but not read back by the storage engine, nor by a client's parser.
    static let maxWriteDepth = JSONLimits.default.maxDepth - 1

    /// Refuses a value a step would write that is nested deeper than a request could send.
    func checkDepth(_ value: JSON, _ action: String) throws(ServerError) {
        guard Self.depth(of: value, exceeding: Self.maxWriteDepth) > Self.maxWriteDepth else { return }
        throw ServerError(.validationError,
                          "Procedure \"\(name)\": \(action) would write a value nested deeper than \(Self.maxWriteDepth) levels, "
                          + "more than a request can carry; flatten the data it references")
    }

    /// The nesting depth of `value` (a scalar is 1), or `limit + 1` as soon as it is deeper.
    static func depth(of value: JSON, exceeding limit: Int) -> Int {
        guard limit > 0 else { return 1 }
        var deepest = 0
        switch value {
        case .array(let a):
            for child in a {
                deepest = max(deepest, depth(of: child, exceeding: limit - 1))
                if deepest >= limit { break }
            }
        case .object(let o):
            for (_, child) in o {
                deepest = max(deepest, depth(of: child, exceeding: limit - 1))
                if deepest >= limit { break }
            }
        default: return 1
        }
        return deepest + 1
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
