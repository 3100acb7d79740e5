import Foundation
import NoexJSON
import NoexPersistence
import NoexStore
import Testing
@testable import NoexServer

/// The audit trail in durable storage: it survives restarts on both engines within its
/// retention bound, and an audited answer is held until its entry is committed.
@Suite struct AuditDurableTests {
    @Test(arguments: [PersistenceOptions.Engine.sqlite, .file])
    func theTrailSurvivesRestartsWithinItsRetention(_ engine: PersistenceOptions.Engine) throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let options = PersistenceOptions(path: dir.file(engine == .sqlite ? "noex.db" : "data"), fsync: .always, engine: engine)
        var first: [String] = []
        do {
            let server = WireAudit.server(maxEntries: 10, persistence: options)
            defer { server.stop() }
            #expect(server.startError == nil)
            let admin = try WireAudit.login(server, "admin")
            for name in ["b1", "b2", "b3", "b4", "b5", "b6"] {
                #expect(admin.ask(["type": "store.getBucketSchema", "name": .string(name)])["type"] == "error")
            }
            first = WireAudit.entries(admin).map(\.jsonString)
            #expect(first.count == 6)
            // the server's own bucket is out of reach over the wire, and hidden from store.buckets
            #expect(admin.askRaw(["id": 5, "type": "store.all", "bucket": "_audit"])
                    == wireError(5, "FORBIDDEN", #"Cannot access system bucket "_audit" directly"#))
            #expect(admin.data(["type": "store.buckets"])["names"]?.arrayValue?.contains("_audit") == false)
        }
        // Restart with a smaller bound: the newest entries come back byte for byte (the trail is
        // the first run's query, then b6 … b1); the older ones are deleted from the storage.
        var second: [String] = []
        do {
            let server = WireAudit.server(maxEntries: 4, persistence: options)
            defer { server.stop() }
            #expect(server.startError == nil)
            let admin = try WireAudit.login(server, "admin")
            second = WireAudit.entries(admin).map(\.jsonString)
            #expect(second.count == 4)
            #expect(second.first?.contains(#""operation":"audit.query""#) == true)
            #expect(Array(second.dropFirst()) == Array(first.prefix(3)))
        }
        // A larger bound again: the trail is what the second run kept (its own query pushed out
        // the oldest); what it removed stays removed.
        do {
            let server = WireAudit.server(maxEntries: 10, persistence: options)
            defer { server.stop() }
            let admin = try WireAudit.login(server, "admin")
            let third = WireAudit.entries(admin).map(\.jsonString)
            #expect(third.count == 4)
            #expect(Array(third.dropFirst()) == Array(second.prefix(3)))
        }
    }

    /// A start with the audit log off leaves the stored trail alone (on the file engine its
    /// snapshot file stays while `schema.json` names it), so turning it on again brings it back.
    @Test(arguments: [PersistenceOptions.Engine.sqlite, .file])
    func turningTheAuditLogOffAndOnKeepsTheTrail(_ engine: PersistenceOptions.Engine) throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let options = PersistenceOptions(path: dir.file(engine == .sqlite ? "noex.db" : "data"), fsync: .always, engine: engine)
        var before: [String] = []
        do {
            let server = WireAudit.server(persistence: options)
            defer { server.stop() }
            let admin = try WireAudit.login(server, "admin")
            #expect(admin.ask(["type": "server.stats"])["type"] == "result")
            before = WireAudit.entries(admin).map(\.jsonString)
        }
        do {
            let server = WireAudit.server(persistence: options, audit: false)
            defer { server.stop() }
            #expect(server.startError == nil)
            let admin = try WireAudit.login(server, "admin")
            #expect(admin.ask(["type": "audit.query"])["message"] == "Audit log is not configured")
        }
        let server = WireAudit.server(persistence: options)
        defer { server.stop() }
        #expect(server.startError == nil)
        let admin = try WireAudit.login(server, "admin")
        let after = WireAudit.entries(admin).map(\.jsonString)
        #expect(after.count == 2 && Array(after.dropFirst()) == before)
    }

    /// With durable storage an audited request's answer leaves only after the batch holding its
    /// entry was committed (flush before sleep), even when the request itself wrote nothing;
    /// an unaudited read is not held.
    @Test func anAuditedAnswerWaitsForItsEntryToBeCommitted() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let privateLoop = PrivateLoop()
        defer { privateLoop.close() }
        let loop = privateLoop.loop
        var config = ServerConfig(store: Store(name: "audit-commit", nowMs: ServerClock.systemWallMs))
        config.audit = AuditConfig()
        config.persistence = PersistenceOptions(path: dir.file("noex.db"), fsync: .no)
        let h = Harness(config: config)
        let durable = try DurableStore(path: dir.file("noex.db"), policy: .no, store: config.store, loop: loop)
        defer { durable.close() }
        let gate = CommitGate(transport: h.transport, durable: durable, exposeDetails: true)
        h.core.transportRef = gate
        h.core.commitGate = gate
        let c = h.connect()
        #expect(c.take().count == 1)  // the welcome
        c.sendRaw(#"{"id":1,"type":"store.buckets"}"#)
        #expect(c.take().count == 1, "an unaudited read is answered at once")
        c.sendRaw(#"{"id":2,"type":"server.stats"}"#)
        #expect(c.take().isEmpty, "the answer waits for the commit")
        #expect(durable.hasPending)
        gate.beforeFlush()
        #expect(c.take().first?.hasPrefix(#"{"id":2,"type":"result""#) == true)
        #expect(durable.commits == 1 && !durable.hasPending)
        #expect(try config.store.all(bucket: SystemBuckets.audit).map { $0["operation"] } == ["server.stats"])
    }

    /// A host's own `_audit` bucket of another shape is left alone: the trail stays in memory.
    @Test func aForeignAuditBucketIsLeftAlone() throws {
        let store = Store(name: "foreign-audit", nowMs: ServerClock.systemWallMs)
        try store.defineBucket(SystemBuckets.audit, config: ["key": "id", "schema": ["id": ["type": "string"]]])
        var config = ServerConfig(store: store)
        config.audit = AuditConfig()
        config.persistence = PersistenceOptions(path: "unused.db")
        let h = Harness(config: config)
        let c = h.connect()
        _ = c.call(["id": 1, "type": "server.stats"])
        #expect(c.data(["id": 2, "type": "audit.query"])["entries"]?.arrayValue?.count == 1)
        #expect(try store.all(bucket: SystemBuckets.audit).isEmpty)
        #expect(h.core.audit?.storeFailures == 0)
    }

    /// `onEntry` (Swift API) sees every appended entry, the same one `audit.query` returns.
    @Test func onEntrySeesEveryEntry() {
        final class Seen { var entries: [AuditEntry] = [] }
        let seen = Seen()
        let h = Harness { $0.audit = AuditConfig(tiers: [.admin, .read], onEntry: { seen.entries.append($0) }) }
        let c = h.connect()
        _ = c.call(["id": 1, "type": "store.count", "bucket": "users"])
        _ = c.call(["id": 2, "type": "server.stats"])
        let queried = c.data(["id": 3, "type": "audit.query"])["entries"]?.arrayValue ?? []
        #expect(seen.entries.map(\.operation) == ["store.count", "server.stats", "audit.query"])
        #expect(queried == seen.entries.prefix(2).reversed().map(\.json))
        #expect(seen.entries.first == AuditEntry(timestamp: h.clock.wallMs, userId: nil, sessionId: "conn-1", operation: "store.count",
                                                 resource: "users", result: .success, remoteAddress: "127.0.0.1"))
    }
}
