import NoexJSON

/// What makes a rule run (docs/protocol/rule-format.md#triggers).
public enum RuleTrigger: Sendable, Equatable {
    /// Every event whose topic matches (matcher a).
    case event(topic: String)
    /// `setFact` from the API on a key that matches (matcher c); not the set_fact action.
    case fact(pattern: String)
    /// Expiry of a timer whose name matches (matcher c).
    case timer(name: String)
    /// A CEP pattern: validated and stored, never fired — as in the original (docs/protocol/rule-format.md#triggers).
    case temporal(pattern: JSON)
}

/// A registered rule: the client's JSON object as stored (extra fields kept), its parsed form,
/// and the engine-assigned version and timestamps (docs/rules.md).
public struct Rule: Sendable {
    public let id: String
    public let name: String
    public let priority: Double
    public internal(set) var enabled: Bool
    public let tags: [String]
    public let group: String?
    public let trigger: RuleTrigger
    /// From the engine-wide counter, bumped by every (re)registration.
    public internal(set) var version: Int
    public internal(set) var createdAt: Int64
    public internal(set) var updatedAt: Int64

    let conditions: [Condition]
    let actions: [Action]
    let lookups: [Lookup]
    /// The input with defaults filled in, without version/createdAt/updatedAt.
    var stored: JSONObject

    /// Parses an input the validator accepted. Absent optional fields get the defaults this
    /// port chose over the original's crash paths (docs/protocol/rule-format.md): `priority` 0, `enabled`
    /// true, `tags`/`conditions`/`actions` empty — and the stored rule shows them.
    init(validated input: JSONObject, version: Int, now: Int64) {
        var stored = input
        if stored["priority"] == nil { stored["priority"] = 0 }
        if stored["enabled"] == nil { stored["enabled"] = true }
        if stored["tags"] == nil { stored["tags"] = [] }
        if stored["conditions"] == nil { stored["conditions"] = [] }
        if stored["actions"] == nil { stored["actions"] = [] }
        stored.removeValue(forKey: "version")
        stored.removeValue(forKey: "createdAt")
        stored.removeValue(forKey: "updatedAt")
        self.stored = stored
        id = stored["id"]?.stringValue ?? ""
        name = stored["name"]?.stringValue ?? ""
        priority = stored["priority"]?.numberValue ?? 0
        enabled = stored["enabled"]?.boolValue ?? true
        tags = (stored["tags"]?.arrayValue ?? []).compactMap(\.stringValue)
        group = stored["group"]?.stringValue
        let t = stored["trigger"]?.objectValue ?? JSONObject()
        switch t["type"]?.stringValue {
        case "event": trigger = .event(topic: t["topic"]?.stringValue ?? "")
        case "fact": trigger = .fact(pattern: t["pattern"]?.stringValue ?? "")
        case "timer": trigger = .timer(name: t["name"]?.stringValue ?? "")
        default: trigger = .temporal(pattern: t["pattern"] ?? .null)
        }
        conditions = (stored["conditions"]?.arrayValue ?? []).map(Condition.init)
        actions = (stored["actions"]?.arrayValue ?? []).map(Action.init)
        lookups = (stored["lookups"]?.arrayValue ?? []).compactMap(Lookup.init)
        self.version = version
        createdAt = now
        updatedAt = now
    }

    /// The full stored rule, as `rules.getRule` returns it.
    public var json: JSON {
        var o = stored
        o["enabled"] = .bool(enabled)
        o["version"] = .int(Int64(version))
        o["createdAt"] = .int(createdAt)
        o["updatedAt"] = .int(updatedAt)
        return .object(o)
    }

    /// One entry of `rules.getRules`: `{id,name,enabled,priority,version,tags,group?}`.
    public var summaryJSON: JSON {
        var o = JSONObject(minimumCapacity: 7)
        o["id"] = .string(id)
        o["name"] = .string(name)
        o["enabled"] = .bool(enabled)
        o["priority"] = stored["priority"] ?? 0
        o["version"] = .int(Int64(version))
        o["tags"] = stored["tags"] ?? []
        if let group { o["group"] = .string(group) }
        return .object(o)
    }

    /// The `rules.registerRule` result: `{id,name,version,createdAt,updatedAt}`.
    public var registerResultJSON: JSON {
        [
            "id": .string(id), "name": .string(name), "version": .int(Int64(version)),
            "createdAt": .int(createdAt), "updatedAt": .int(updatedAt),
        ]
    }

    /// The `rules.updateRule` result: `{id,version,updatedAt}`.
    public var updateResultJSON: JSON {
        ["id": .string(id), "version": .int(Int64(version)), "updatedAt": .int(updatedAt)]
    }
}

// MARK: - Conditions

/// Comparison operators (docs/protocol/rule-format.md#conditions).
enum Operator: String, Sendable {
    case eq, neq, gt, gte, lt, lte, `in`, not_in, contains, not_contains, matches, exists, not_exists
}

/// Where a condition reads its actual value (docs/protocol/rule-format.md#conditions).
enum ConditionSource: Sendable {
    /// `segments` is `field` split on "." once, at registration.
    case event(field: String, segments: [String])
    case fact(pattern: StringTemplate)
    case context(key: String)
    case lookup(name: String, field: String?)
    case baseline
    case invalid
}

struct Condition: Sendable {
    let source: ConditionSource
    let op: Operator?
    /// The compare value: a literal or a `{ref}`; a `nil` literal when absent.
    let value: CompareValue

    init(_ json: JSON) {
        let o = json.objectValue ?? JSONObject()
        let s = o["source"]?.objectValue ?? JSONObject()
        switch s["type"]?.stringValue {
        case "event":
            source = s["field"]?.stringValue.map { .event(field: $0, segments: JSValue.segments($0)) } ?? .invalid
        case "fact": source = s["pattern"]?.stringValue.map { .fact(pattern: StringTemplate($0)) } ?? .invalid
        case "context": source = s["key"]?.stringValue.map { .context(key: $0) } ?? .invalid
        case "lookup":
            source = s["name"]?.stringValue.map { .lookup(name: $0, field: s["field"]?.stringValue) } ?? .invalid
        case "baseline": source = .baseline
        default: source = .invalid
        }
        op = o["operator"]?.stringValue.flatMap(Operator.init(rawValue:))
        value = CompareValue(o["value"])
    }
}

// MARK: - Actions

/// A parsed action (docs/protocol/rule-format.md#actions). Parsing never fails: whatever the validator let through but
/// cannot run (a `for_each` it does not inspect) becomes `.invalid` and fails when executed,
/// like the original's runtime error, contained to that action.
indirect enum Action: Sendable {
    case setFact(key: StringTemplate, value: ValueTemplate)
    case deleteFact(key: StringTemplate)
    case emitEvent(topic: StringTemplate, data: ObjectTemplate)
    case setTimer(TimerTemplate)
    case cancelTimer(name: StringTemplate)
    case callService(service: String, method: String, args: [ValueTemplate])
    case log(level: String, message: StringTemplate)
    case conditional(conditions: [Condition], then: [Action], else: [Action])
    case forEach(collection: ValueTemplate, as: String, actions: [Action], maxIterations: Int)
    case tryCatch(try: [Action], catchAs: String?, catch: [Action]?, finally: [Action])
    case invalid(String)

    init(_ json: JSON) {
        guard let o = json.objectValue, let type = o["type"]?.stringValue else {
            self = .invalid("Invalid action")
            return
        }
        func list(_ v: JSON?) -> [Action] { (v?.arrayValue ?? []).map(Action.init) }
        switch type {
        case "set_fact":
            self = .setFact(key: StringTemplate(o["key"]?.stringValue ?? ""), value: ValueTemplate(o["value"]))
        case "delete_fact":
            self = .deleteFact(key: StringTemplate(o["key"]?.stringValue ?? ""))
        case "emit_event":
            self = .emitEvent(
                topic: StringTemplate(o["topic"]?.stringValue ?? ""),
                data: ObjectTemplate(o["data"]?.objectValue ?? JSONObject()))
        case "set_timer":
            self = .setTimer(TimerTemplate(o["timer"]?.objectValue ?? JSONObject()))
        case "cancel_timer":
            self = .cancelTimer(name: StringTemplate(o["name"]?.stringValue ?? ""))
        case "call_service":
            self = .callService(
                service: o["service"]?.stringValue ?? "", method: o["method"]?.stringValue ?? "",
                args: (o["args"]?.arrayValue ?? []).map(ValueTemplate.init))
        case "log":
            self = .log(
                level: o["level"]?.stringValue ?? "info", message: StringTemplate(o["message"]?.stringValue ?? ""))
        case "conditional":
            self = .conditional(
                conditions: (o["conditions"]?.arrayValue ?? []).map(Condition.init),
                then: list(o["then"]), else: list(o["else"]))
        case "for_each":
            guard let name = o["as"]?.stringValue, let acts = o["actions"]?.arrayValue else {
                self = .invalid("for_each action requires \"as\" and \"actions\"")
                return
            }
            let max = o["maxIterations"]?.intValue.map { Int(clamping: $0) } ?? 1000
            self = .forEach(collection: ValueTemplate(o["collection"]), as: name, actions: acts.map(Action.init), maxIterations: max)
        case "try_catch":
            let c = o["catch"]?.objectValue
            self = .tryCatch(
                try: list(o["try"]), catchAs: c?["as"]?.stringValue,
                catch: c.map { list($0["actions"]) }, finally: list(o["finally"]))
        default:
            self = .invalid("Unknown action type: \(type)")
        }
    }
}

/// The `timer` of a set_timer action, or a timer declared in config, before interpolation.
struct TimerTemplate: Sendable {
    let name: StringTemplate
    let duration: JSON?
    let topic: StringTemplate
    let data: ObjectTemplate
    let repeatInterval: JSON?
    let repeatMaxCount: Int?

    init(_ t: JSONObject) {
        name = StringTemplate(t["name"]?.stringValue ?? "")
        duration = t["duration"]
        let onExpire = t["onExpire"]?.objectValue ?? JSONObject()
        topic = StringTemplate(onExpire["topic"]?.stringValue ?? "")
        data = ObjectTemplate(onExpire["data"]?.objectValue ?? JSONObject())
        let r = t["repeat"]?.objectValue
        repeatInterval = r?["interval"]
        repeatMaxCount = r?["maxCount"]?.intValue.map { Int(clamping: $0) }
    }
}

/// A declared data lookup (Tier 3): resolved through the configured services before the
/// conditions; over the wire there are none, so such rules are skipped.
struct Lookup: Sendable {
    let name: String
    let service: String
    let method: String
    let args: [ValueTemplate]
    let failRule: Bool

    init?(_ json: JSON) {
        guard let o = json.objectValue, let name = o["name"]?.stringValue,
            let service = o["service"]?.stringValue, let method = o["method"]?.stringValue
        else { return nil }
        self.name = name
        self.service = service
        self.method = method
        args = (o["args"]?.arrayValue ?? []).map(ValueTemplate.init)
        failRule = o["onError"]?.stringValue == "fail"
    }
}
