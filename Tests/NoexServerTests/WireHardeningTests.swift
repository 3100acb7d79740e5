import Dispatch
import Foundation
import NoexJSON
import NoexRules
import NoexStore
import Testing
@testable import NoexServer

/// Regular expressions that cannot stall the loop and filters that refuse unknown operators.
@Suite struct WireRegexAndFilterTests {
    static let catastrophic = "^(a+)+$"
    static let evil = String(repeating: "a", count: 30) + "!"

    @Test func catastrophicSchemaPatternIsAValidationErrorNotAStall() throws {
        let server = ServerThread { ServerConfig(store: wireStoreFixture()) }
        defer { server.stop() }
        let c = try WireStoreClient(server)
        _ = c.data(["type": "store.defineBucket", "name": "re",
                    "config": ["key": "id", "schema": ["id": ["type": "string", "pattern": .string(Self.catastrophic)]]]])
        let tooComplex = "Pattern \"^(a+)+$\" needs too much backtracking to check this value (regex step limit reached); "
            + "rewrite the pattern without nested or overlapping repetition"
        let answer = c.ask(["id": 5, "type": "store.insert", "bucket": "re", "data": ["id": .string(Self.evil)]])
        #expect(answer == [
            "id": 5, "type": "error", "code": "VALIDATION_ERROR",
            "message": .string("Validation failed for bucket \"re\": id: \(tooComplex)"),
            "details": [["field": "id", "message": .string(tooComplex), "code": "pattern"]],
        ])
        // The server is still responsive and the pattern still works on ordinary values.
        #expect(c.data(["type": "store.insert", "bucket": "re", "data": ["id": "aaaa"]])["id"] == "aaaa")
        #expect(c.ask(["type": "store.insert", "bucket": "re", "data": ["id": "ab"]])["details"]?.arrayValue?.first?["code"] == "pattern")
        // An invalid pattern is refused when the bucket is defined.
        let bad = c.ask(["type": "store.defineBucket", "name": "bad",
                         "config": ["key": "id", "schema": ["id": ["type": "string", "pattern": "(unclosed"]]]])
        #expect(bad["message"]?.stringValue?.hasPrefix("Invalid regular expression: /(unclosed/ for field \"id\" in bucket \"bad\": ") == true)
    }

    @Test func catastrophicRuleConditionIsAValidationErrorNotAStall() throws {
        let server = WireRules.server()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        let rule = WireRules.onEvent("re-rule", "check", conditions: [
            WireRules.cond(WireRules.field("s"), "matches", .string(Self.catastrophic)),
        ], actions: [WireRules.setFact("matched", .bool(true))])
        _ = c.data(["type": "rules.registerRule", "rule": rule])
        let answer = c.ask(["id": 7, "type": "rules.emit", "topic": "check", "data": ["s": .string(Self.evil)]])
        #expect(answer == [
            "id": 7, "type": "error", "code": "VALIDATION_ERROR",
            "message": "Rule \"Rule re-rule\" (re-rule): condition pattern \"^(a+)+$\" needs too much backtracking to test the value (regex step limit reached), so the rule did not fire; the trigger itself was processed. Rewrite the pattern without nested or overlapping repetition",
            "details": ["ruleId": "re-rule", "pattern": "^(a+)+$"],
        ])
        #expect(c.data(["type": "rules.getFact", "key": "matched"]) == .null)
        _ = c.data(["type": "rules.emit", "topic": "check", "data": ["s": "aaa"]])
        #expect(c.data(["type": "rules.getFact", "key": "matched"]) == true)
        // A literal pattern that does not compile is refused at registration.
        let bad = WireRules.onEvent("bad", "check", conditions: [WireRules.cond(WireRules.field("s"), "matches", "(x")],
                                    actions: [WireRules.setFact("x", 1)])
        let refused = c.ask(["type": "rules.registerRule", "rule": bad])
        #expect(refused["code"] == "VALIDATION_ERROR")
        #expect(refused.jsonString.contains("Invalid regular expression: /(x/"))
    }

    @Test func unknownFilterOperatorsAreValidationErrors() throws {
        let server = ServerThread { ServerConfig(store: wireStoreFixture()) }
        defer { server.stop() }
        let c = try WireStoreClient(server)
        _ = c.data(["type": "store.insert", "bucket": "items", "data": ["sku": "a", "name": "A", "qty": 1]])
        let valid = "$eq, $neq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $contains, $startsWith, $endsWith, $exists, $between"
        func unknown(_ id: Int64, _ op: String, _ field: String) -> String {
            wireError(id, "VALIDATION_ERROR", "Unknown filter operator \"\(op)\" on field \"\(field)\"; valid operators: \(valid)")
        }
        #expect(c.askRaw(["id": 1, "type": "store.where", "bucket": "items", "filter": ["qty": ["$gtee": 0]]]) == unknown(1, "$gtee", "qty"))
        #expect(c.askRaw(["id": 2, "type": "store.findOne", "bucket": "items", "filter": ["$or": [["name": "A"], ["qty": ["$foo": 1]]]]])
                == unknown(2, "$foo", "qty"))
        #expect(c.askRaw(["id": 3, "type": "store.count", "bucket": "items", "filter": ["qty": ["$gte": 0, "$lt3": 1]]]) == unknown(3, "$lt3", "qty"))
        #expect(c.askRaw(["id": 4, "type": "store.sum", "bucket": "items", "field": "qty", "filter": ["name": ["$regex": "A"]]]) == unknown(4, "$regex", "name"))
        #expect(c.askRaw(["id": 5, "type": "store.transaction", "operations": [["op": "where", "bucket": "items", "filter": ["qty": ["$foo": 1]]]]])
                == unknown(5, "$foo", "qty"))
        #expect(c.askRaw(["id": 6, "type": "store.defineQuery", "name": "q", "config": ["bucket": "items", "filter": ["qty": ["$gtee": "{{ params.min }}"]]]])
                == unknown(6, "$gtee", "qty"))
        #expect(c.askRaw(["id": 7, "type": "store.where", "bucket": "items", "filter": ["$nor": []]])
                == wireError(7, "VALIDATION_ERROR", "Unknown filter operator \"$nor\" at the top level of the filter; valid operators: $or, $and, $expr, a field name"))
        // Known operators and declarative parameters still work.
        #expect(c.data(["type": "store.count", "bucket": "items", "filter": ["qty": ["$gte": 1]]]) == 1)
        _ = c.data(["type": "store.defineQuery", "name": "min-qty", "config": ["bucket": "items", "filter": ["qty": ["$gte": ["$param": "min"]]]]])
        #expect(c.data(["type": "store.subscribe", "query": "min-qty", "params": ["min": 1]])["data"]?.arrayValue?.count == 1)
    }
}

/// `expectedVersion`: optimistic concurrency over the wire.
@Suite struct WireExpectedVersionTests {
    @Test func staleVersionsAreConflictsAndChangeNothing() throws {
        let server = ServerThread { ServerConfig(store: wireStoreFixture()) }
        defer { server.stop() }
        let a = try WireStoreClient(server)
        let b = try WireStoreClient(server)
        _ = a.data(["type": "store.insert", "bucket": "items", "data": ["sku": "c", "name": "C", "qty": 0]])
        // Both read version 1; the first write wins, the second is told the real version.
        #expect(a.data(["type": "store.update", "bucket": "items", "key": "c", "data": ["qty": 1], "expectedVersion": 1])["_version"] == 2)
        #expect(b.ask(["id": 9, "type": "store.update", "bucket": "items", "key": "c", "data": ["qty": 1], "expectedVersion": 1]) == [
            "id": 9, "type": "error", "code": "CONFLICT",
            "message": "Version conflict in bucket \"items\" for key \"c\": expected version 1, actual version 2; read the record again and retry",
            "details": ["bucket": "items", "key": "c", "expectedVersion": 1, "actualVersion": 2],
        ])
        #expect(b.ask(["type": "store.delete", "bucket": "items", "key": "c", "expectedVersion": 1])["code"] == "CONFLICT")
        // A transaction with one stale operation aborts whole.
        let tx = b.ask(["type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "items", "data": ["sku": "t", "name": "T"]],
            ["op": "update", "bucket": "items", "key": "c", "data": ["qty": 99], "expectedVersion": 1],
        ]])
        #expect(tx["code"] == "CONFLICT" && tx["details"]?["actualVersion"] == 2)
        #expect(a.data(["type": "store.get", "bucket": "items", "key": "t"]) == .null)
        #expect(wireStable(a.data(["type": "store.get", "bucket": "items", "key": "c"])) == wireItem("c", "C", qty: 1, version: 2))
        // The current version succeeds; a delete that expects a version of a missing record is NOT_FOUND.
        #expect(b.data(["type": "store.delete", "bucket": "items", "key": "c", "expectedVersion": 2]) == ["deleted": true])
        #expect(b.ask(["id": 12, "type": "store.delete", "bucket": "items", "key": "c", "expectedVersion": 2]) == [
            "id": 12, "type": "error", "code": "NOT_FOUND", "message": "Record with key \"c\" not found in bucket \"items\"",
            "details": ["bucket": "items", "key": "c"],
        ])
        #expect(b.askRaw(["id": 13, "type": "store.delete", "bucket": "items", "key": "c"]) == #"{"id":13,"type":"result","data":{"deleted":true}}"#)
        #expect(b.askRaw(["id": 14, "type": "store.update", "bucket": "items", "key": "c", "data": [:], "expectedVersion": "2"])
                == wireError(14, "VALIDATION_ERROR", "Invalid \"expectedVersion\": expected integer (the record's _version)"))
    }

    @Test func conflictDetailsFollowExposeErrorDetails() throws {
        let server = ServerThread {
            var config = ServerConfig(store: wireStoreFixture())
            config.exposeErrorDetails = false
            return config
        }
        defer { server.stop() }
        let c = try WireStoreClient(server)
        _ = c.data(["type": "store.insert", "bucket": "items", "data": ["sku": "c", "name": "C"]])
        let answer = c.ask(["type": "store.update", "bucket": "items", "key": "c", "data": ["qty": 1], "expectedVersion": 5])
        #expect(answer["code"] == "CONFLICT" && answer["details"] == nil)
    }

    /// 10 clients × 30 read-then-update increments with retry on CONFLICT end at exactly 300.
    @Test func incrementRaceEndsAtExactlyThreeHundred() throws {
        let server = ServerThread { ServerConfig(store: wireStoreFixture()) }
        defer { server.stop() }
        let setup = try WireStoreClient(server)
        _ = setup.data(["type": "store.insert", "bucket": "items", "data": ["sku": "counter", "name": "N", "qty": 0]])
        let clients = RaceClients(try (0..<10).map { _ in try WireStoreClient(server) })
        let box = RaceTally()
        DispatchQueue.concurrentPerform(iterations: clients.list.count) { i in
            let c = clients.list[i]  // each thread uses only its own client
            var done = 0
            var attempts = 0
            while done < 30 && attempts < 2_000 {  // bounded: retries cannot loop forever
                attempts += 1
                let record = c.data(["type": "store.get", "bucket": "items", "key": "counter"])
                guard let qty = record["qty"]?.intValue, let version = record["_version"] else { break }
                let answer = c.ask(["type": "store.update", "bucket": "items", "key": "counter",
                                    "data": ["qty": .int(qty + 1)], "expectedVersion": version])
                if answer["type"] == "result" { done += 1 } else if answer["code"] == "CONFLICT" { box.conflict() } else { break }
            }
            box.finished(done)
        }
        #expect(box.increments == 300)
        #expect(setup.data(["type": "store.get", "bucket": "items", "key": "counter"])["qty"] == 300)
    }
}

/// The race's clients, one per thread.
final class RaceClients: @unchecked Sendable {
    let list: [WireStoreClient]
    init(_ list: [WireStoreClient]) { self.list = list }
}

/// Counters shared by the race's client threads.
final class RaceTally: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var increments = 0
    private(set) var conflicts = 0
    func finished(_ n: Int) { lock.lock(); increments += n; lock.unlock() }
    func conflict() { lock.lock(); conflicts += 1; lock.unlock() }
}
