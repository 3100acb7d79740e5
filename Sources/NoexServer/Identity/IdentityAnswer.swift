import NoexJSON

/// What an `identity.*` operation answers: at once, or after password work that must not run
/// on the loop (`ProtocolCore+Async.swift` runs it on libuv's threadpool).
enum IdentityAnswer {
    case done(JSON)
    case deferred(DeferredAnswer)
}

/// Password work for the threadpool, then the rest of the operation back on the loop. `finish`
/// re-reads everything it depends on: the store may have changed while the hash ran.
struct DeferredAnswer {
    let work: () -> PasswordWork
    let finish: (PasswordWork, ConnectionState, IdentityNow) throws(ServerError) -> JSON
}

/// The result of the threadpool part.
enum PasswordWork {
    /// A new hash (nil if libcrypto failed).
    case hashed(String?)
    /// Whether a password matched.
    case verified(Bool)
}

/// The loop's clocks when a deferred answer finishes: wall ms (sessions) and monotonic ms
/// (the login limiter's windows).
struct IdentityNow {
    var wall: Int64
    var monotonic: Int64
}
