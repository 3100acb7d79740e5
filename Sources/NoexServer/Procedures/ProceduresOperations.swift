import NoexJSON
import NoexPersistence
import NoexRules
import NoexStore

/// `procedures.*` (docs/protocol/procedures.md): register, update, unregister, get, list and call,
/// with the original's results and messages.
struct ProceduresOperations {
    let store: Store
    let rules: RuleEngine?
    let limits: ProceduresConfig
    let table: ProcedureTable
    /// The check a standalone request would pass, applied to every store and rules step.
    let authorize: (Request) throws(ServerError) -> Void
    /// False in cluster mode: a call applied on every node must end the same way everywhere,
    /// and a wall-clock timeout would not (docs/cluster.md#procedures); the budgets still bound it.
    var enforcesTimeout = true

    init(store: Store, rules: RuleEngine?, limits: ProceduresConfig, journal: (any SchemaJournal)?,
         authorize: @escaping (Request) throws(ServerError) -> Void) {
        self.store = store
        self.rules = rules
        self.limits = limits
        table = ProcedureTable(store: store, journal: journal)
        self.authorize = authorize
    }

    func handle(_ r: Request) throws(ServerError) -> JSON {
        switch r.type {
        case "procedures.register":
            let definition = try r.object("procedure")
            try validate(definition)
            let name = definition["name"]!.stringValue!
            guard table.definition(name) == nil else {
                throw ServerError(.alreadyExists, "Procedure \"\(name)\" already exists")
            }
            try table.insert(name, definition)
            return ["name": .string(name), "registered": true]
        case "procedures.unregister":
            let name = try r.nonEmptyString("name")
            guard try table.remove(name) else { throw Self.notFound(name) }
            return ["name": .string(name), "unregistered": true]
        case "procedures.update":
            let name = try r.nonEmptyString("name")
            let updates = try r.object("updates")
            guard var merged = table.definition(name) else { throw Self.notFound(name) }
            for (k, v) in updates { merged[k] = v }
            merged["name"] = .string(name)
            try validate(merged)
            try table.replace(name, merged)
            return ["name": .string(name), "updated": true]
        case "procedures.get":
            let name = try r.nonEmptyString("name")
            guard let definition = table.definition(name) else { throw Self.notFound(name) }
            return .object(definition)
        case "procedures.list":
            return ["procedures": .array(table.all().map { d in
                var info: JSONObject = ["name": d["name"] ?? .null]
                if let description = d["description"] { info["description"] = description }
                info["stepsCount"] = .int(Int64(d["steps"]?.arrayValue?.count ?? 0))
                return .object(info)
            })]
        case "procedures.call":
            let name = try r.nonEmptyString("name")
            let input = try r.optionalObject("input") ?? JSONObject()
            guard let definition = table.definition(name) else { throw Self.notFound(name) }
            return try call(name, definition, input: input)
        default:
            throw ServerError.unknownOperation(r.type, in: "procedures")
        }
    }

    static func notFound(_ name: String) -> ServerError {
        ServerError(.notFound, "Procedure \"\(name)\" not found")
    }

    private func validate(_ definition: JSONObject) throws(ServerError) {
        let issues = ProcedureValidator.issues(definition, limits: limits)
        guard issues.isEmpty else {
            throw ServerError(.validationError, "Procedure validation failed: \(issues.joined(separator: "; "))",
                              details: ["issues": .array(issues.map(JSON.string))])
        }
    }

    // MARK: - call

    private func call(_ name: String, _ definition: JSONObject, input raw: JSONObject) throws(ServerError) -> JSON {
        let input = try ProcedureInput.checked(raw, against: definition["input"])
        let timeoutMs = enforcesTimeout ? definition["timeoutMs"]?.numberValue ?? limits.defaultTimeoutMs : .infinity
        let steps = definition["steps"]?.arrayValue ?? []
        func run(_ access: ProcedureStoreAccess, deferRules: Bool) -> ProcedureRun {
            ProcedureRun(name: name, input: input, timeoutMs: timeoutMs, limits: limits, store: access,
                         rules: ProcedureRulesAccess(engine: rules, deferred: deferRules), authorize: authorize)
        }
        guard definition["transaction"] == .bool(true) else {
            let call = run(.direct(store), deferRules: false)
            try call.run(steps)
            return call.resultJSON
        }
        // All or nothing: the steps run inside one store transaction; a failing step (or the
        // timeout, or a denied step) aborts it, so no write applies and no push goes out.
        var failure: ServerError?
        var finished: ProcedureRun?
        do throws(StoreError) {
            try store.transaction { (tx: Transaction) throws(StoreError) in
                let call = run(.transaction(tx), deferRules: true)
                do throws(ServerError) { try call.run(steps) } catch {
                    failure = error
                    throw StoreError.invalidDefinition(error.message)
                }
                finished = call
            }
        } catch {
            throw failure ?? ProcedureRun.map(error)
        }
        try finished!.rules.applyPending()
        return finished!.resultJSON
    }
}
