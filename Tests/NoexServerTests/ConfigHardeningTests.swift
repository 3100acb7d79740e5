import NoexJSON
import Testing
@testable import NoexServer

/// Every numeric config key has a ceiling, and typos inside `buckets` / `queries` are errors.
@Suite struct ConfigHardeningTests {
    static let cases: [(JSON, String, String)] = [
        (["rateLimit": ["maxRequests": 1, "windowMs": 9_223_372_036_854_775_807]], "rateLimit.windowMs",
         "expected a positive integer no larger than 31536000000, got 9223372036854775807"),
        (["revocation": ["blacklistTtlMs": 31_536_000_001]], "revocation.blacklistTtlMs",
         "expected a positive integer no larger than 31536000000, got 31536000001"),
        (["heartbeat": ["intervalMs": 1e300]], "heartbeat.intervalMs", "expected a positive integer no larger than 31536000000, got 1e+300"),
        (["heartbeat": ["timeoutMs": 31_536_000_001]], "heartbeat.timeoutMs", "expected a positive integer no larger than 31536000000, got 31536000001"),
        (["backpressure": ["maxBufferedBytes": 1_073_741_825]], "backpressure.maxBufferedBytes",
         "expected a positive integer no larger than 1073741824, got 1073741825"),
        (["backpressure": ["slowClientTimeoutMs": 31_536_000_001]], "backpressure.slowClientTimeoutMs",
         "expected a positive integer no larger than 31536000000, got 31536000001"),
        (["maxPayloadBytes": 1_073_741_825], "maxPayloadBytes", "expected a positive integer no larger than 1073741824, got 1073741825"),
        (["rateLimit": ["maxRequests": 1_000_000_001, "windowMs": 1]], "rateLimit.maxRequests",
         "expected a positive integer no larger than 1000000000, got 1000000001"),
        (["connectionLimits": ["maxTotalSubscriptions": 1_000_000_001]], "connectionLimits.maxTotalSubscriptions",
         "expected a positive integer no larger than 1000000000, got 1000000001"),
        (["connectionLimits": ["maxSubscriptionsPerConnection": 1_000_000_001]], "connectionLimits.maxSubscriptionsPerConnection",
         "expected a positive integer no larger than 1000000000, got 1000000001"),
        (["maxConnectionsPerIp": 1_000_000_001], "maxConnectionsPerIp", "expected a positive integer no larger than 1000000000, got 1000000001"),
        (["auth": ["tokens": ["t": ["userId": "u", "expiresAt": 253_402_300_800_000]]]], "auth.tokens.t.expiresAt",
         "expected an integer in 0…253402300799999, got 253402300800000"),
        (["buckets": ["users": ["key": "id", "schema": ["id": ["type": "string", "requird": true]]]]], "buckets.users.schema.id.requird",
         "unknown key (known keys: default, enum, format, generated, max, maxLength, min, minLength, onDelete, pattern, ref, required, type, unique)"),
        (["buckets": ["users": ["key": "id", "schema": ["id": ["type": "string"]], "indexs": ["id"]]]], "buckets.users.indexs",
         "unknown key (known keys: etsType, indexes, key, maxSize, persistent, schema, ttl)"),
        (["buckets": ["users": ["key": "id", "schema": ["id": "string"]]]], "buckets.users.schema.id",
         "expected a field definition object, got string"),
        (["queries": ["q": ["bucket": "users", "filtr": ["a": 1]]]], "queries.q.filtr",
         "unknown key (known keys: aggregate, bucket, compute, fields, filter, first, get, getMany, groupBy, groupFormat, last, limit, lookup, offset, omit, one, page, params, pluck, sort)"),
        (["queries": ["q": ["bucket": "users", "lookup": ["owner": ["bucket": "users", "kee": "x"]]]]], "queries.q.lookup.owner.kee",
         "unknown key (known keys: aggregate, bucket, compute, fields, filter, first, get, getMany, groupBy, groupFormat, key, last, limit, lookup, offset, omit, one, page, params, pluck, sort)"),
    ]

    @Test(arguments: cases)
    func rejectedWithKeyAndReason(_ json: JSON, _ key: String, _ problem: String) {
        #expect(throws: ConfigError(key: key, problem)) { try FileConfig.decode(json) }
    }

    @Test func ceilingsThemselvesAreAccepted() throws {
        let c = try FileConfig.decode([
            "rateLimit": ["maxRequests": 1_000_000_000, "windowMs": 31_536_000_000],
            "revocation": ["blacklistTtlMs": 31_536_000_000],
            "buckets": ["users": ["key": "id", "schema": ["id": ["type": "string", "required": true, "pattern": "^u"]], "indexes": ["id"]]],
            "queries": ["q": ["bucket": "users", "filter": ["id": "u1"], "lookup": ["self": ["bucket": "users", "key": "id"]]]],
        ])
        #expect(c.rateLimit?.windowMs == 31_536_000_000)
        #expect(c.revocation?.blacklistTtlMs == 31_536_000_000)
    }

    @Test func programmaticValuesCannotOverflow() {
        var blacklist = SessionBlacklist(ttlMs: .max)
        blacklist.revoke("u", nowMs: 1_800_000_000_000)
        #expect(blacklist.isRevoked("u", nowMs: 1_800_000_000_001))
        var limiter = RateLimiter(maxRequests: 1, windowMs: .max)
        _ = limiter.consume(key: "k", nowMs: 5)
        if case .limited(let retry) = limiter.consume(key: "k", nowMs: 6) { #expect(retry > 0) } else { Issue.record("not limited") }
    }
}
