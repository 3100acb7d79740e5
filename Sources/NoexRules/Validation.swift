import NoexJSON
import NoexRegex

/// One finding of the rule validator; `path` is dotted and indexed (`actions[0].timer.name`),
/// `"(root)"` for the rule itself.
public struct ValidationIssue: Sendable, Equatable {
    public enum Severity: String, Sendable { case error, warning }

    public let path: String
    public let message: String
    public let severity: Severity

    public var json: JSON {
        ["path": .string(path), "message": .string(message), "severity": .string(severity.rawValue)]
    }
}

/// What `validateRule` returns and what a failed register carries as `details` (docs/protocol/rule-format.md).
public struct ValidationResult: Sendable, Equatable {
    public let errors: [ValidationIssue]
    public let warnings: [ValidationIssue]
    public var valid: Bool { errors.isEmpty }

    public var json: JSON {
        [
            "valid": .bool(valid),
            "errors": .array(errors.map(\.json)),
            "warnings": .array(warnings.map(\.json)),
        ]
    }
}

/// The original's `RuleInputValidator`: collects every issue with the same paths and messages
/// (docs/protocol/rule-format.md#triggers, docs/protocol/rule-format.md#conditions, docs/protocol/rule-format.md#actions, docs/protocol/rule-format.md#triggers), rather than stopping at the first.
struct RuleValidator {
    static let triggerTypes = ["event", "fact", "timer", "temporal"]
    static let temporalTypes = ["sequence", "absence", "count", "aggregate"]
    static let operators = [
        "eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "not_contains",
        "matches", "exists", "not_exists",
    ]
    static let sourceTypes = ["event", "fact", "context", "lookup", "baseline"]
    static let actionTypes = [
        "set_fact", "delete_fact", "emit_event", "set_timer", "cancel_timer", "call_service", "log",
        "conditional", "for_each", "try_catch",
    ]
    static let logLevels = ["debug", "info", "warn", "error"]
    static let comparisons = ["gte", "lte", "eq"]
    static let aggregateFunctions = ["sum", "avg", "min", "max", "count"]

    private var errors: [ValidationIssue] = []
    private var warnings: [ValidationIssue] = []

    static func validate(_ input: JSON) -> ValidationResult {
        var v = RuleValidator()
        if let rule = input.objectValue {
            // Not in the original: the parser and the executor recurse over nested actions,
            // so a client must not be able to send arbitrarily deep rules.
            if exceedsDepth(input, maxNestingDepth) {
                v.error("", "Rule is nested too deeply (more than \(maxNestingDepth) levels)")
                return ValidationResult(errors: v.errors, warnings: v.warnings)
            }
            v.rule(rule)
        } else {
            v.error("", "Rule must be an object")
        }
        return ValidationResult(errors: v.errors, warnings: v.warnings)
    }

    /// The deepest JSON nesting a rule may have.
    static let maxNestingDepth = 64

    /// Whether `value` nests deeper than `limit`; stops descending as soon as it does.
    static func exceedsDepth(_ value: JSON, _ limit: Int) -> Bool {
        if limit < 0 { return true }
        switch value {
        case .array(let a): return a.contains { exceedsDepth($0, limit - 1) }
        case .object(let o): return o.contains { exceedsDepth($0.value, limit - 1) }
        default: return false
        }
    }

    private mutating func error(_ path: String, _ message: String) {
        errors.append(ValidationIssue(path: path.isEmpty ? "(root)" : path, message: message, severity: .error))
    }

    private mutating func warning(_ path: String, _ message: String) {
        warnings.append(ValidationIssue(path: path.isEmpty ? "(root)" : path, message: message, severity: .warning))
    }

    // MARK: - Rule

    private mutating func rule(_ r: JSONObject) {
        for field in ["id", "name"] {
            switch r[field] {
            case nil: error(field, "Required field \"\(field)\" is missing")
            case .string(let s)?: if isBlank(s) { error(field, "Field \"\(field)\" cannot be empty") }
            default: error(field, "Field \"\(field)\" must be a string")
            }
        }
        if r["trigger"] == nil { error("trigger", "Required field \"trigger\" is missing") }

        if let d = r["description"], d.stringValue == nil { error("description", "Field \"description\" must be a string") }
        if let p = r["priority"] {
            if let n = p.numberValue {
                if n.rounded(.towardZero) != n || !n.isFinite { warning("priority", "Field \"priority\" should be an integer") }
            } else {
                error("priority", "Field \"priority\" must be a number")
            }
        }
        if let e = r["enabled"], e.boolValue == nil { error("enabled", "Field \"enabled\" must be a boolean") }
        if let t = r["tags"] {
            if let tags = t.arrayValue {
                for (i, tag) in tags.enumerated() where tag.stringValue == nil {
                    error("tags[\(i)]", "Tag must be a string")
                }
            } else {
                error("tags", "Field \"tags\" must be an array")
            }
        }
        if let g = r["group"] {
            if let s = g.stringValue {
                if isBlank(s) { error("group", "Field \"group\" cannot be empty") }
            } else {
                error("group", "Field \"group\" must be a string")
            }
        }
        if let t = r["trigger"] { trigger(t, "trigger") }
        if let c = r["conditions"] { conditions(c, "conditions") }
        if let a = r["actions"] { actions(a, "actions") }
        if let l = r["lookups"] { lookups(l, "lookups") }
    }

    private func isBlank(_ s: String) -> Bool { s.allSatisfy { $0.isWhitespace } }

    // MARK: - Trigger

    private mutating func trigger(_ value: JSON, _ path: String) {
        guard let t = value.objectValue else { return error(path, "Trigger must be an object") }
        guard let typeValue = t["type"] else { return error("\(path).type", "Trigger must have a \"type\" field") }
        guard let type = typeValue.stringValue else { return error("\(path).type", "Trigger type must be a string") }
        guard Self.triggerTypes.contains(type) else {
            return error(
                "\(path).type", "Invalid trigger type: \(type). Valid types: \(Self.triggerTypes.joined(separator: ", "))")
        }
        switch type {
        case "event": nonBlankString(t, "topic", path, "Event trigger")
        case "fact": nonBlankString(t, "pattern", path, "Fact trigger")
        case "timer": nonBlankString(t, "name", path, "Timer trigger")
        default:
            guard let p = t["pattern"] else {
                return error("\(path).pattern", "Temporal trigger must have a \"pattern\" field")
            }
            temporal(p, "\(path).pattern")
        }
    }

    private mutating func nonBlankString(_ o: JSONObject, _ field: String, _ path: String, _ what: String) {
        switch o[field] {
        case nil: error("\(path).\(field)", "\(what) must have a \"\(field)\" field")
        case .string(let s)?: if isBlank(s) { error("\(path).\(field)", "\(what) \(field) cannot be empty") }
        default: error("\(path).\(field)", "\(what) \(field) must be a string")
        }
    }

    private mutating func temporal(_ value: JSON, _ path: String) {
        guard let p = value.objectValue else { return error(path, "Temporal pattern must be an object") }
        guard let typeValue = p["type"] else { return error("\(path).type", "Temporal pattern must have a \"type\" field") }
        guard let type = typeValue.stringValue else { return error("\(path).type", "Temporal pattern type must be a string") }
        guard Self.temporalTypes.contains(type) else {
            return error(
                "\(path).type",
                "Invalid temporal pattern type: \(type). Valid types: \(Self.temporalTypes.joined(separator: ", "))")
        }
        switch type {
        case "sequence":
            if let ev = p["events"] {
                if let events = ev.arrayValue {
                    if events.count < 2 { error("\(path).events", "Sequence pattern must have at least 2 events") }
                    for (i, m) in events.enumerated() { eventMatcher(m, "\(path).events[\(i)]") }
                } else {
                    error("\(path).events", "Sequence pattern events must be an array")
                }
            } else {
                error("\(path).events", "Sequence pattern must have an \"events\" field")
            }
            timeWindow(p, "within", path)
        case "absence":
            for field in ["after", "expected"] {
                if let m = p[field] {
                    eventMatcher(m, "\(path).\(field)")
                } else {
                    error("\(path).\(field)", "Absence pattern must have an \"\(field)\" field")
                }
            }
            timeWindow(p, "within", path)
        case "count":
            if let m = p["event"] { eventMatcher(m, "\(path).event") } else {
                error("\(path).event", "Count pattern must have an \"event\" field")
            }
            if let t = p["threshold"] {
                if (t.numberValue ?? 0) < 1 { error("\(path).threshold", "Count pattern threshold must be a positive number") }
            } else {
                error("\(path).threshold", "Count pattern must have a \"threshold\" field")
            }
            comparison(p, path)
            timeWindow(p, "window", path)
        default:  // aggregate
            if let m = p["event"] { eventMatcher(m, "\(path).event") } else {
                error("\(path).event", "Aggregate pattern must have an \"event\" field")
            }
            if let f = p["field"] {
                if f.stringValue == nil { error("\(path).field", "Aggregate pattern field must be a string") }
            } else {
                error("\(path).field", "Aggregate pattern must have a \"field\" field")
            }
            if let fn = p["function"] {
                if !(fn.stringValue.map(Self.aggregateFunctions.contains) ?? false) {
                    error(
                        "\(path).function",
                        "Invalid aggregate function: \(JSValue.string(fn)). Valid values: \(Self.aggregateFunctions.joined(separator: ", "))"
                    )
                }
            } else {
                error("\(path).function", "Aggregate pattern must have a \"function\" field")
            }
            if let t = p["threshold"] {
                if t.numberValue == nil { error("\(path).threshold", "Aggregate pattern threshold must be a number") }
            } else {
                error("\(path).threshold", "Aggregate pattern must have a \"threshold\" field")
            }
            comparison(p, path)
            timeWindow(p, "window", path)
        }
    }

    private mutating func comparison(_ p: JSONObject, _ path: String) {
        guard let c = p["comparison"] else { return }
        if !(c.stringValue.map(Self.comparisons.contains) ?? false) {
            error(
                "\(path).comparison",
                "Invalid comparison: \(JSValue.string(c)). Valid values: \(Self.comparisons.joined(separator: ", "))")
        }
    }

    private mutating func eventMatcher(_ value: JSON, _ path: String) {
        guard let m = value.objectValue else { return error(path, "Event matcher must be an object") }
        if let t = m["topic"] {
            if t.stringValue == nil { error("\(path).topic", "Event matcher topic must be a string") }
        } else {
            error("\(path).topic", "Event matcher must have a \"topic\" field")
        }
        if let a = m["as"], a.stringValue == nil { error("\(path).as", "Event matcher alias must be a string") }
    }

    private mutating func timeWindow(_ o: JSONObject, _ field: String, _ path: String) {
        guard let value = o[field] else { return error("\(path).\(field)", "Field \"\(field)\" is required") }
        if let s = value.stringValue {
            if !Durations.isValidFormat(s) {
                error("\(path).\(field)", "Invalid duration format: \(s). Use formats like \"5m\", \"1h\", \"7d\"")
            }
        } else if let n = value.numberValue {
            if n <= 0 { error("\(path).\(field)", "Duration must be positive") }
        } else {
            error("\(path).\(field)", "Field \"\(field)\" must be a string (e.g., \"5m\") or number (milliseconds)")
        }
    }

    // MARK: - Conditions

    private mutating func conditions(_ value: JSON, _ path: String) {
        guard let list = value.arrayValue else { return error(path, "Conditions must be an array") }
        for (i, c) in list.enumerated() { condition(c, "\(path)[\(i)]") }
    }

    private mutating func condition(_ value: JSON, _ path: String) {
        guard let c = value.objectValue else { return error(path, "Condition must be an object") }
        if let s = c["source"] { source(s, "\(path).source") } else {
            error("\(path).source", "Condition must have a \"source\" field")
        }
        if let op = c["operator"] {
            if let s = op.stringValue {
                if !Self.operators.contains(s) {
                    error(
                        "\(path).operator",
                        "Invalid operator: \(s). Valid operators: \(Self.operators.joined(separator: ", "))")
                }
            } else {
                error("\(path).operator", "Condition operator must be a string")
            }
        } else {
            error("\(path).operator", "Condition must have an \"operator\" field")
        }
        if let op = c["operator"]?.stringValue, op != "exists", op != "not_exists", c["value"] == nil {
            error("\(path).value", "Condition must have a \"value\" field")
        }
        // A literal pattern is compiled now, so a typo is refused at registration, not ignored later.
        if c["operator"]?.stringValue == "matches", case .literal(.string(let p)?) = CompareValue(c["value"]) {
            do throws(RegexSyntaxError) {
                _ = try BoundedRegex(p)
            } catch {
                self.error("\(path).value", "Invalid regular expression: /\(p)/: \(error.message) at offset \(error.offset)")
            }
        }
    }

    private mutating func source(_ value: JSON, _ path: String) {
        guard let s = value.objectValue else { return error(path, "Condition source must be an object") }
        guard let typeValue = s["type"] else { return error("\(path).type", "Condition source must have a \"type\" field") }
        guard let type = typeValue.stringValue else { return error("\(path).type", "Condition source type must be a string") }
        guard Self.sourceTypes.contains(type) else {
            return error(
                "\(path).type", "Invalid source type: \(type). Valid types: \(Self.sourceTypes.joined(separator: ", "))")
        }
        func required(_ field: String, _ what: String) {
            switch s[field] {
            case nil: error("\(path).\(field)", "\(what) source must have a \"\(field)\" field")
            case .string?: break
            default: error("\(path).\(field)", "\(what) source \(field) must be a string")
            }
        }
        switch type {
        case "fact": required("pattern", "Fact")
        case "event": required("field", "Event")
        case "context": required("key", "Context")
        case "lookup":
            required("name", "Lookup")
            if let f = s["field"], f.stringValue == nil { error("\(path).field", "Lookup source field must be a string") }
        default:
            required("metric", "Baseline")
        }
    }

    // MARK: - Actions

    private mutating func actions(_ value: JSON, _ path: String) {
        guard let list = value.arrayValue else { return error(path, "Actions must be an array") }
        if list.isEmpty { warning(path, "Rule has no actions") }
        for (i, a) in list.enumerated() { action(a, "\(path)[\(i)]") }
    }

    private mutating func actionList(_ a: JSONObject, _ field: String, _ path: String, _ what: String, emptyIsError: Bool) {
        guard let v = a[field] else { return }
        guard let list = v.arrayValue else { return error("\(path).\(field)", "\(what) \(field) must be an array") }
        if list.isEmpty {
            if emptyIsError { error("\(path).\(field)", "\(what) \(field) must not be empty") } else {
                warning("\(path).\(field)", "\(what) \(field) is empty")
            }
            return
        }
        for (i, x) in list.enumerated() { action(x, "\(path).\(field)[\(i)]") }
    }

    private mutating func stringField(_ a: JSONObject, _ field: String, _ path: String, _ type: String) {
        switch a[field] {
        case nil: error("\(path).\(field)", "\(type) action must have a \"\(field)\" field")
        case .string?: break
        default: error("\(path).\(field)", "\(type) action \(field) must be a string")
        }
    }

    private mutating func action(_ value: JSON, _ path: String) {
        guard let a = value.objectValue else { return error(path, "Action must be an object") }
        guard let typeValue = a["type"] else { return error("\(path).type", "Action must have a \"type\" field") }
        guard let type = typeValue.stringValue else { return error("\(path).type", "Action type must be a string") }
        guard Self.actionTypes.contains(type) else {
            return error(
                "\(path).type", "Invalid action type: \(type). Valid types: \(Self.actionTypes.joined(separator: ", "))")
        }
        switch type {
        case "set_fact":
            stringField(a, "key", path, type)
            if a["value"] == nil { error("\(path).value", "set_fact action must have a \"value\" field") }
        case "delete_fact":
            stringField(a, "key", path, type)
        case "emit_event":
            stringField(a, "topic", path, type)
            if let d = a["data"] {
                if d.objectValue == nil { error("\(path).data", "emit_event action data must be an object") }
            } else {
                error("\(path).data", "emit_event action must have a \"data\" field")
            }
        case "set_timer":
            setTimer(a, path)
        case "cancel_timer":
            stringField(a, "name", path, type)
        case "call_service":
            stringField(a, "service", path, type)
            stringField(a, "method", path, type)
            if let args = a["args"], args.arrayValue == nil { error("\(path).args", "call_service action args must be an array") }
        case "log":
            if let level = a["level"] {
                if !(level.stringValue.map(Self.logLevels.contains) ?? false) {
                    error(
                        "\(path).level",
                        "Invalid log level: \(JSValue.string(level)). Valid levels: \(Self.logLevels.joined(separator: ", "))")
                }
            } else {
                error("\(path).level", "log action must have a \"level\" field")
            }
            stringField(a, "message", path, type)
        case "conditional":
            if let c = a["conditions"] {
                if let list = c.arrayValue {
                    if list.isEmpty { error("\(path).conditions", "conditional action conditions must not be empty") } else {
                        conditions(c, "\(path).conditions")
                    }
                } else {
                    error("\(path).conditions", "conditional action conditions must be an array")
                }
            } else {
                error("\(path).conditions", "conditional action must have a \"conditions\" field")
            }
            if a["then"] == nil { error("\(path).then", "conditional action must have a \"then\" field") }
            actionList(a, "then", path, "conditional action", emptyIsError: true)
            actionList(a, "else", path, "conditional action", emptyIsError: false)
        case "try_catch":
            tryCatch(a, path)
        default:
            break  // for_each: the original's validator does not inspect it (docs/protocol/rule-format.md#actions)
        }
    }

    private mutating func setTimer(_ a: JSONObject, _ path: String) {
        guard let tv = a["timer"] else { return error("\(path).timer", "set_timer action must have a \"timer\" field") }
        guard let t = tv.objectValue else { return error("\(path).timer", "set_timer action timer must be an object") }
        let p = "\(path).timer"
        switch t["name"] {
        case nil: error("\(p).name", "Timer must have a \"name\" field")
        case .string?: break
        default: error("\(p).name", "Timer name must be a string")
        }
        if let d = t["duration"] {
            if let s = d.stringValue {
                if !Durations.isValidFormat(s) { error("\(p).duration", "Invalid duration format: \(s)") }
            } else if let n = d.numberValue {
                if n <= 0 { error("\(p).duration", "Timer duration must be positive") }
            } else {
                error("\(p).duration", "Timer duration must be a string or number")
            }
        } else {
            error("\(p).duration", "Timer must have a \"duration\" field")
        }
        if let ov = t["onExpire"] {
            if let o = ov.objectValue {
                if o["topic"] == nil { error("\(p).onExpire.topic", "Timer onExpire must have a \"topic\" field") }
                if o["data"] == nil { error("\(p).onExpire.data", "Timer onExpire must have a \"data\" field") }
            } else {
                error("\(p).onExpire", "Timer onExpire must be an object")
            }
        } else {
            error("\(p).onExpire", "Timer must have an \"onExpire\" field")
        }
    }

    private mutating func tryCatch(_ a: JSONObject, _ path: String) {
        if a["try"] == nil { error("\(path).try", "try_catch action must have a \"try\" field") }
        actionList(a, "try", path, "try_catch action", emptyIsError: true)
        if a["catch"] == nil && a["finally"] == nil {
            error(path, "try_catch action must have at least \"catch\" or \"finally\"")
        }
        if let cv = a["catch"] {
            if let c = cv.objectValue {
                if c["actions"] == nil {
                    error("\(path).catch.actions", "try_catch catch must have an \"actions\" field")
                }
                actionList(c, "actions", "\(path).catch", "try_catch catch", emptyIsError: true)
                if let asName = c["as"], asName.stringValue == nil { error("\(path).catch.as", "try_catch catch as must be a string") }
            } else {
                error("\(path).catch", "try_catch action catch must be an object")
            }
        }
        actionList(a, "finally", path, "try_catch action", emptyIsError: false)
    }

    // MARK: - Lookups (Tier 3: only their shape is checked)

    private mutating func lookups(_ value: JSON, _ path: String) {
        guard let list = value.arrayValue else { return error(path, "Lookups must be an array") }
        for (i, lv) in list.enumerated() {
            let p = "\(path)[\(i)]"
            guard let l = lv.objectValue else {
                error(p, "Lookup must be an object")
                continue
            }
            for field in ["name", "service", "method"] {
                switch l[field] {
                case nil: error("\(p).\(field)", "Lookup must have a \"\(field)\" field")
                case .string?: break
                default: error("\(p).\(field)", "Lookup \(field) must be a string")
                }
            }
            if let args = l["args"], args.arrayValue == nil { error("\(p).args", "Lookup args must be an array") }
            if let onError = l["onError"], !(onError.stringValue.map(["skip", "fail"].contains) ?? false) {
                error("\(p).onError", "Lookup onError must be \"skip\" or \"fail\"")
            }
        }
    }
}
