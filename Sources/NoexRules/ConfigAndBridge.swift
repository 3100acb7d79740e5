import NoexJSON

/// One store mutation, as the store publishes it (docs/store.md#notifications-deterministic-synchronous).
public enum StoreChange: Sendable {
    case inserted(key: JSON, record: JSON)
    case updated(key: JSON, oldRecord: JSON, newRecord: JSON)
    case deleted(key: JSON, record: JSON)

    /// `inserted` / `updated` / `deleted`: the last topic segment and the payload's `type`.
    public var eventName: String {
        switch self {
        case .inserted: return "inserted"
        case .updated: return "updated"
        case .deleted: return "deleted"
        }
    }
}

extension RuleEngine {
    // MARK: - Store bridge (docs/store.md#notifications-deterministic-synchronous)

    /// Forwards a store change as the event `bucket.<bucket>.<inserted|updated|deleted>` with
    /// the payload `{type, bucket, key, record}` (or `oldRecord`/`newRecord` for an update),
    /// like the original's `bridgeStoreToRules` with no mapping. Like the original, a failure
    /// (the engine is stopped) is swallowed: the result is then `nil`.
    @discardableResult
    public func emitStoreChange(bucket: String, _ change: StoreChange) -> RuleEvent? {
        var data = JSONObject(minimumCapacity: 5)
        data["type"] = .string(change.eventName)
        data["bucket"] = .string(bucket)
        switch change {
        case .inserted(let key, let record), .deleted(let key, let record):
            data["key"] = key
            data["record"] = record
        case .updated(let key, let oldRecord, let newRecord):
            data["key"] = key
            data["oldRecord"] = oldRecord
            data["newRecord"] = newRecord
        }
        return try? emit(topic: "bucket.\(bucket).\(change.eventName)", data: data)
    }

    // MARK: - Declarative config

    /// Declares rules, facts and timers from the server's config file:
    /// `{"rules": [RuleInput…], "facts": {key: value…} | [{"key", "value"}…],
    ///   "timers": [{name, duration, onExpire:{topic,data}, repeat?}…]}` (every part optional).
    ///
    /// Everything is checked before anything is applied; the first problem is returned as a
    /// `VALIDATION_ERROR` whose message names the entry (`rules[2]: Rule validation failed`)
    /// and whose details are the issues. Facts set here run fact rules declared before them
    /// in the same file, exactly like `setFact`.
    public func load(config: JSON) throws(RulesError) {
        try ensureRunning()
        guard let root = config.objectValue else { throw RulesError(.validation, "Rules config must be an object") }

        let ruleInputs = try list(root, "rules")
        var seen = Set<String>()
        for (i, input) in ruleInputs.enumerated() {
            let result = RuleValidator.validate(input)
            guard result.valid else {
                throw RulesError(
                    .validation, "rules[\(i)]: Rule validation failed", details: .array(result.errors.map(\.json)))
            }
            let id = input["id"]?.stringValue ?? ""
            if rules[id] != nil || !seen.insert(id).inserted {
                throw RulesError(.alreadyExists, "rules[\(i)]: Rule \"\(id)\" already exists")
            }
        }

        var factPairs: [(String, JSON)] = []
        switch root["facts"] {
        case nil, .null?: break
        case .object(let o)?: factPairs = o.map { ($0.key, $0.value) }
        case .array(let a)?:
            for (i, entry) in a.enumerated() {
                guard let key = entry["key"]?.stringValue, !key.isEmpty, let value = entry["value"] else {
                    throw RulesError(.validation, "facts[\(i)]: expected {\"key\": non-empty string, \"value\": any}")
                }
                factPairs.append((key, value))
            }
        default:
            throw RulesError(.validation, "\"facts\" must be an object or an array")
        }

        let timerInputs = try list(root, "timers")
        for (i, t) in timerInputs.enumerated() {
            guard let o = t.objectValue, let name = o["name"]?.stringValue, !name.isEmpty,
                o["onExpire"]?["topic"]?.stringValue != nil,
                (try? Durations.milliseconds(o["duration"])) != nil
            else {
                throw RulesError(
                    .validation,
                    "timers[\(i)]: expected {\"name\", \"duration\", \"onExpire\": {\"topic\", \"data\"}, \"repeat\"?}")
            }
        }

        for input in ruleInputs { try registerRule(input) }
        for (key, value) in factPairs { try setFact(key: key, value: value) }
        for t in timerInputs { try setTimer(t) }
    }

    private func list(_ root: JSONObject, _ field: String) throws(RulesError) -> [JSON] {
        switch root[field] {
        case nil, .null?: return []
        case .array(let a)?: return a
        default: throw RulesError(.validation, "\"\(field)\" must be an array")
        }
    }
}
