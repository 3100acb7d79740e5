import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// The server's own buckets are out of reach of data operations, over real sockets
/// (docs/security.md). Without built-in identity only the server's names are guarded.
@Suite struct SystemBucketGuardTests {
    static func forbidden(_ id: Int, _ text: String) -> String {
        #"{"id":\#(id),"type":"error","code":"FORBIDDEN","message":"\#(text)"}"#
    }

    /// A server whose store holds the audit trail's bucket with one record, `a1`.
    static func serverWithAuditRecord() -> ServerThread {
        ServerThread(makeConfig: {
            let store = wireStoreFixture()
            try! store.defineBucket(SystemBuckets.audit, config: ["key": "id", "schema": ["id": ["type": "string"]]])
            try! store.insert(bucket: SystemBuckets.audit, record: ["id": "a1"])
            return ServerConfig(store: store)
        })
    }

    @Test func serverOwnedBucketsAreUnreachable() throws {
        let server = Self.serverWithAuditRecord()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        let direct = #"Cannot access system bucket \"_audit\" directly"#
        #expect(c.askRaw(["id": 1, "type": "store.get", "bucket": "_audit", "key": "a1"]) == Self.forbidden(1, direct))
        #expect(c.askRaw(["id": 2, "type": "store.insert", "bucket": "_audit", "data": ["id": "forged"]]) == Self.forbidden(2, direct))
        #expect(c.askRaw(["id": 3, "type": "store.dropBucket", "name": "_audit"]) == Self.forbidden(3, direct))
        #expect(c.askRaw(["id": 4, "type": "store.transaction", "operations": [
            ["op": "get", "bucket": "items", "key": "x"], ["op": "delete", "bucket": "_audit", "key": "a1"]]])
            == Self.forbidden(4, #"Cannot access system bucket \"_audit\" in transaction"#))
        // A query over it can be neither defined nor (if the host defined one) subscribed.
        #expect(c.askRaw(["id": 5, "type": "store.defineQuery", "name": "leak", "config": ["bucket": "_audit"]])
                == Self.forbidden(5, direct))
        #expect(c.data(["type": "store.listQueries"])["queries"]?.arrayValue?.contains { $0["name"] == "leak" } == false)
        // Hidden from store.buckets; the record is untouched.
        #expect(c.data(["type": "store.buckets"])["names"]?.arrayValue?.contains("_audit") == false)
        // An application's own `_` bucket stays reachable without built-in identity.
        _ = c.data(["type": "store.defineBucket", "name": "_drafts", "config": ["key": "id", "schema": ["id": ["type": "string"]]]])
        #expect(c.data(["type": "store.insert", "bucket": "_drafts", "data": ["id": "d1"]])["id"] == "d1")
    }

    /// The request path reads `bucket` into a field of its own without a parsed object, and
    /// leaves unusual frames to the parser: the guard must see the member the parser sees,
    /// whatever spelling reaches it (an escaped key, a repeated key whose last value wins, a
    /// non-string bucket, the bucket given as `name`).
    @Test func theGuardSeesTheBucketTheParserSees() throws {
        let server = Self.serverWithAuditRecord()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        func forbidden(_ id: Int) -> String { Self.forbidden(id, #"Cannot access system bucket \"_audit\" directly"#) }
        #expect(c.sendRaw(#"{"id":1,"type":"store.get","buck\u0065t":"_audit","key":"a1"}"#) == forbidden(1))
        #expect(c.sendRaw(#"{"id":2,"type":"store.get","bucket":"items","key":"a1","bucket":"_audit"}"#) == forbidden(2))
        #expect(c.sendRaw(#"{"id":3,"type":"store.get","bucket":"_\u0061udit","key":"a1"}"#) == forbidden(3))
        #expect(c.sendRaw(#"{"id":4,"type":"store.get","key":"a1","bucket":"_audit"}"#) == forbidden(4))
        #expect(c.sendRaw(#"{"id":5,"type":"store.\u0067et","bucket":"_audit","key":"a1"}"#) == forbidden(5))
        #expect(c.sendRaw(#"{"id":6,"type":"store.clear","name":"_audit","bucket":"items"}"#) == forbidden(6))
        // A repeated key keeps the last value: the first one cannot smuggle a guarded name past.
        #expect(c.sendRaw(#"{"id":7,"type":"store.get","bucket":"_audit","bucket":"items","key":"nope"}"#)
                == #"{"id":7,"type":"result","data":null}"#)
        #expect(c.sendRaw(#"{"id":8,"type":"store.get","bucket":["_audit"],"key":"a1"}"#)
                == wireError(8, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string"))
        #expect(c.sendRaw(#"{"id":9,"type":"store.get","bucket":"_audit","k\u0065y":"a1","id":10}"#) == forbidden(10))
    }

    @Test func builtInModeGuardsEveryUnderscoredName() {
        let guardAll = SystemBuckets(allUnderscored: true)
        #expect(guardAll.isGuarded("_drafts"))
        #expect(guardAll.isGuarded("_users"))
        #expect(!guardAll.isGuarded("users"))
        let own = SystemBuckets()
        #expect(!own.isGuarded("_drafts"))
        #expect(own.isGuarded("_sessions"))
        #expect(!own.isGuarded(""))
    }
}
