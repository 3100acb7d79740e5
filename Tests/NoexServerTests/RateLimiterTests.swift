import Testing
@testable import NoexServer

@Suite struct RateLimiterTests {
    @Test func acceptsUpToMaxThenLimitsWithRetryAfter() {
        var rl = RateLimiter(maxRequests: 3, windowMs: 60_000)
        #expect(rl.consume(key: "ip", nowMs: 1000) == .allowed)
        #expect(rl.consume(key: "ip", nowMs: 2000) == .allowed)
        #expect(rl.consume(key: "ip", nowMs: 3000) == .allowed)
        #expect(rl.consume(key: "ip", nowMs: 4000) == .limited(retryAfterMs: 57_000))
        // Rejections are not recorded: the oldest accepted one decides.
        #expect(rl.consume(key: "ip", nowMs: 60_999) == .limited(retryAfterMs: 1))
        #expect(rl.consume(key: "ip", nowMs: 61_000) == .allowed)
        #expect(rl.consume(key: "other", nowMs: 61_000) == .allowed)
    }

    @Test func windowSlidesPerTimestamp() {
        var rl = RateLimiter(maxRequests: 2, windowMs: 100)
        #expect(rl.consume(key: "k", nowMs: 0) == .allowed)
        #expect(rl.consume(key: "k", nowMs: 50) == .allowed)
        #expect(rl.consume(key: "k", nowMs: 99) == .limited(retryAfterMs: 1))
        #expect(rl.consume(key: "k", nowMs: 100) == .allowed)   // 0 left the window (now − window, now]
        #expect(rl.consume(key: "k", nowMs: 120) == .limited(retryAfterMs: 30))
    }

    @Test func pruneForgetsIdleKeys() {
        var rl = RateLimiter(maxRequests: 5, windowMs: 100)
        _ = rl.consume(key: "a", nowMs: 0)
        _ = rl.consume(key: "b", nowMs: 80)
        #expect(rl.trackedKeys == 2)
        rl.prune(nowMs: 150)
        #expect(rl.trackedKeys == 1)
        rl.prune(nowMs: 180)
        #expect(rl.trackedKeys == 0)
    }

    @Test func blacklistExpires() {
        var bl = SessionBlacklist(ttlMs: 100)
        bl.revoke("u", nowMs: 0)
        #expect(bl.isRevoked("u", nowMs: 99))
        #expect(!bl.isRevoked("u", nowMs: 100))
        #expect(!bl.isRevoked("v", nowMs: 0))
    }
}
