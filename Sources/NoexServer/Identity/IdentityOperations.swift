import NoexJSON
import NoexStore

/// The 27 `identity.*` operations (docs/protocol/identity.md): exact messages and check order.
/// Every operation but the two logins runs for an authenticated connection (the gate saw to it).
extension IdentityManager {
    func handle(_ r: Request, _ state: ConnectionState, nowMs: Int64, monotonicMs: Int64) throws(ServerError) -> IdentityAnswer {
        switch r.type {
        case "identity.login": return try login(r, state, monotonicMs: monotonicMs)
        case "identity.loginWithSecret": return .done(try loginWithSecret(r, state, nowMs: nowMs, monotonicMs: monotonicMs))
        case "identity.logout":
            if let token = state.identityToken { _ = try? store.delete(bucket: SystemBuckets.sessions, key: .string(token)) }
            state.session = nil
            state.identityToken = nil
            return .done(["loggedOut": true])
        case "identity.whoami":
            let s = state.session!
            return .done(["authenticated": true, "userId": .string(s.userId), "roles": s.rolesJSON, "expiresAt": s.expiresAtJSON])
        case "identity.refreshSession": return .done(try refreshSession(state, nowMs: nowMs))
        case "identity.createUser": return try createUser(r, state)
        case "identity.getUser":
            try requireAdmin(state)
            return .done(Self.userInfo(try existingUser(try r.nonEmptyString("userId"))))
        case "identity.updateUser": return .done(try updateUser(r, state))
        case "identity.deleteUser": return .done(try deleteUser(r, state))
        case "identity.listUsers": return .done(try listUsers(r, state))
        case "identity.enableUser", "identity.disableUser": return .done(try setEnabled(r, state, r.type == "identity.enableUser"))
        case "identity.changePassword": return try changePassword(r, state)
        case "identity.resetPassword": return try resetPassword(r, state)
        case "identity.createRole": return .done(try createRole(r, state))
        case "identity.updateRole": return .done(try updateRole(r, state))
        case "identity.deleteRole": return .done(try deleteRole(r, state))
        case "identity.listRoles":
            try requireAdmin(state)
            return .done(["roles": .array(((try? store.all(bucket: SystemBuckets.roles)) ?? []).map(Self.roleInfo))])
        case "identity.assignRole": return .done(try assignRole(r, state, nowMs: nowMs))
        case "identity.removeRole": return .done(try removeRole(r, state))
        case "identity.getUserRoles": return .done(try getUserRoles(r, state))
        case "identity.grant": return .done(try grant(r, state, nowMs: nowMs))
        case "identity.revoke": return .done(try revoke(r, state))
        case "identity.getAcl": return .done(try getAcl(r))
        case "identity.myAccess": return .done(try myAccess(state))
        case "identity.getOwner": return .done(try getOwner(r))
        case "identity.transferOwner": return .done(try transferOwner(r, state))
        default: throw .unknownOperation(r.type, in: "identity")
        }
    }

    // MARK: - Role rules (on the roles captured at login or refresh)

    func requireAdmin(_ state: ConnectionState) throws(ServerError) {
        let roles = state.session?.roles ?? []
        guard roles.contains("admin") || roles.contains("superadmin") else { throw ServerError(.forbidden, "Admin role required") }
    }

    func requireSuperadmin(_ state: ConnectionState) throws(ServerError) {
        guard state.session?.roles.contains("superadmin") == true else { throw ServerError(.forbidden, "Superadmin role required") }
    }

    func existingUser(_ id: String) throws(ServerError) -> JSONObject {
        guard let u = user(id: id) else { throw ServerError(.notFound, "User not found") }
        return u
    }

    static func checkPassword(_ p: String) throws(ServerError) {
        guard p.utf16.count >= 8 else { throw ServerError(.validationError, "Password must be at least 8 characters") }
    }

    /// A store failure inside an identity operation is not mapped (as in the original).
    func storeCall<T>(_ body: () throws(StoreError) -> T) throws(ServerError) -> T {
        do { return try body() } catch { throw .internalServerError }
    }

    // MARK: - Sessions

    private func login(_ r: Request, _ state: ConnectionState, monotonicMs: Int64) throws(ServerError) -> IdentityAnswer {
        let username = try r.nonEmptyString("username")
        let password = try r.nonEmptyString("password")
        let userKey = "user:" + username, ipKey = "ip:" + state.remoteAddress
        for key in [userKey, ipKey] {
            if let retry = limiter.retryAfter(key, nowMs: monotonicMs) { throw Self.lockedOut(retry) }
        }
        // An unknown user costs the same hash as a known one: the answer's timing does not tell.
        let stored = user(named: username)?["passwordHash"]?.stringValue ?? Self.decoyHash
        return .deferred(DeferredAnswer(work: { .verified(PasswordHash.verify(password, against: stored)) }) {
            [unowned self] outcome, state, now throws(ServerError) in
            // Re-read: the user may have changed while the hash ran.
            guard case .verified(true) = outcome, let u = self.user(named: username), u["passwordHash"]?.stringValue == stored else {
                self.limiter.recordFailure(userKey, nowMs: now.monotonic)
                self.limiter.recordFailure(ipKey, nowMs: now.monotonic)
                throw ServerError(.unauthorized, "Invalid credentials")
            }
            guard u["enabled"]?.boolValue != false else {
                self.limiter.recordFailure(userKey, nowMs: now.monotonic)
                self.limiter.recordFailure(ipKey, nowMs: now.monotonic)
                throw ServerError(.unauthorized, "Account disabled")
            }
            self.limiter.reset(userKey)
            return try self.startSession(u, state, nowMs: now.wall)
        })
    }

    /// A valid hash no password produces in practice (its salt and key are fixed random bytes).
    static let decoyHash = "$scrypt$16384$8$1$ABEiM0RVZneImaq7zN3u/w==$IYReZZDDeUlv8KxDFv4q3QBzaREHi8NHeH8NY2HTNKoUtGfHU48xE1lsmHF6va+J1p7K9SDzKsiq1A8LyPJNZw=="

    static func lockedOut(_ retryAfterMs: Int64) -> ServerError {
        ServerError(.rateLimited, "Too many failed login attempts. Try again later.", details: ["retryAfterMs": .int(retryAfterMs)])
    }

    private func loginWithSecret(_ r: Request, _ state: ConnectionState, nowMs: Int64, monotonicMs: Int64) throws(ServerError) -> JSON {
        let secret = try r.nonEmptyString("secret")
        let ipKey = "ip:" + state.remoteAddress
        if let retry = limiter.retryAfter(ipKey, nowMs: monotonicMs) { throw Self.lockedOut(retry) }
        guard secretMatches(secret) else {
            limiter.recordFailure(ipKey, nowMs: monotonicMs)
            throw ServerError(.unauthorized, "Invalid secret")
        }
        limiter.reset(ipKey)
        return try startSession(nil, state, nowMs: nowMs)
    }

    /// A new stored session for `user` (nil = the virtual superadmin) and the connection's
    /// session; the LoginResult.
    func startSession(_ user: JSONObject?, _ state: ConnectionState, nowMs: Int64) throws(ServerError) -> JSON {
        let userId = user?["id"]?.stringValue ?? Self.superadminId
        let (token, expiresAt) = try createSession(userId: userId, ip: state.remoteAddress, nowMs: nowMs)
        let roles = cache.roleNames(of: userId)
        state.session = AuthSession(userId: userId, roles: roles, expiresAt: expiresAt)
        state.identityToken = token
        var u: JSONObject = ["id": .string(userId), "username": user?["username"] ?? .string(Self.superadminId)]
        if let d = user?["displayName"], !d.isNull { u["displayName"] = d }
        u["roles"] = .array(roles.map { .string($0) })
        return ["token": .string(token), "expiresAt": .int(expiresAt), "user": .object(u)]
    }

    private func refreshSession(_ state: ConnectionState, nowMs: Int64) throws(ServerError) -> JSON {
        guard let token = state.identityToken else { throw ServerError(.unauthorized, "No active session to refresh") }
        guard let s = validSession(token, nowMs: nowMs), let userId = s["userId"]?.stringValue else {
            throw ServerError(.unauthorized, "Invalid or expired session")
        }
        var u: JSONObject?
        if userId != Self.superadminId {
            guard let found = user(id: userId), found["enabled"]?.boolValue != false else {
                throw ServerError(.unauthorized, "User not found or disabled")
            }
            u = found
        }
        _ = try? store.delete(bucket: SystemBuckets.sessions, key: .string(token))
        return try startSession(u, state, nowMs: nowMs)
    }

    // MARK: - Users

    private func createUser(_ r: Request, _ state: ConnectionState) throws(ServerError) -> IdentityAnswer {
        try requireAdmin(state)
        let username = try r.nonEmptyString("username")
        let password = try r.nonEmptyString("password")
        guard (3...64).contains(username.utf16.count) else {
            throw ServerError(.validationError, "Username must be between 3 and 64 characters")
        }
        try Self.checkPassword(password)
        if user(named: username) != nil { throw ServerError(.alreadyExists, "User \"\(username)\" already exists") }
        var record: JSONObject = ["username": .string(username)]
        for (field, ok) in [("displayName", { (j: JSON) in j.stringValue != nil }), ("email", { $0.stringValue != nil }),
                            ("enabled", { $0.boolValue != nil }), ("metadata", { $0.objectValue != nil })] {
            if let v = r[field], ok(v) { record[field] = v }
        }
        return .deferred(DeferredAnswer(work: { .hashed(PasswordHash.hash(password)) }) { [unowned self] outcome, _, _ throws(ServerError) in
            guard case .hashed(let hash?) = outcome else { throw .internalServerError }
            if self.user(named: username) != nil { throw ServerError(.alreadyExists, "User \"\(username)\" already exists") }
            record["passwordHash"] = .string(hash)
            return Self.userInfo(try self.storeCall { () throws(StoreError) in try self.store.insert(bucket: SystemBuckets.users, record: record) })
        })
    }

    private func updateUser(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        let userId = try r.nonEmptyString("userId")
        if state.session?.userId != userId { try requireAdmin(state) }
        let u = try existingUser(userId)
        var changes: JSONObject = [:]
        if let v = r["displayName"] { changes["displayName"] = v.stringValue.map { .string($0) } ?? .null }
        if let v = r["email"] { changes["email"] = v.stringValue.map { .string($0) } ?? "" }
        if let v = r["metadata"] { changes["metadata"] = v.objectValue.map { .object($0) } ?? [:] }
        if changes.isEmpty { return Self.userInfo(u) }
        return Self.userInfo(try storeCall { () throws(StoreError) in
            try store.update(bucket: SystemBuckets.users, key: .string(userId), changes: changes)
        })
    }

    private func deleteUser(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        try requireAdmin(state)
        let userId = try r.nonEmptyString("userId")
        if userId == Self.superadminId { throw ServerError(.forbidden, "Cannot delete virtual superadmin") }
        _ = try existingUser(userId)
        deleteSessions(ofUser: userId)
        deleteAll(SystemBuckets.userRoles, ["userId": .string(userId)])
        deleteAll(SystemBuckets.acl, ["subjectType": "user", "subjectId": .string(userId)])
        deleteAll(SystemBuckets.resourceOwners, ["userId": .string(userId)])
        _ = try? store.delete(bucket: SystemBuckets.users, key: .string(userId))
        return ["deleted": true]
    }

    private func listUsers(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        try requireAdmin(state)
        func number(_ f: String, _ d: Int) -> Int {
            guard let n = r[f]?.numberValue, n.isFinite else { return d }
            return Int(max(-1e9, min(1e9, n.rounded(.down))))
        }
        let page = max(1, number("page", 1))
        let pageSize = max(1, min(200, number("pageSize", 50)))
        let all = (try? store.all(bucket: SystemBuckets.users)) ?? []
        let start = min(all.count, (page - 1) * pageSize)
        let slice = all[start..<min(all.count, start + pageSize)]
        return ["users": .array(slice.map(Self.userInfo)), "total": .int(Int64(all.count)),
                "page": .int(Int64(page)), "pageSize": .int(Int64(pageSize))]
    }

    private func setEnabled(_ r: Request, _ state: ConnectionState, _ enabled: Bool) throws(ServerError) -> JSON {
        try requireAdmin(state)
        let userId = try r.nonEmptyString("userId")
        if !enabled, userId == Self.superadminId { throw ServerError(.forbidden, "Cannot disable virtual superadmin") }
        _ = try existingUser(userId)
        let updated = try storeCall { () throws(StoreError) in
            try store.update(bucket: SystemBuckets.users, key: .string(userId), changes: ["enabled": .bool(enabled)])
        }
        if !enabled { deleteSessions(ofUser: userId) }
        return Self.userInfo(updated)
    }

    private func changePassword(_ r: Request, _ state: ConnectionState) throws(ServerError) -> IdentityAnswer {
        let userId = try r.nonEmptyString("userId")
        let current = try r.nonEmptyString("currentPassword")
        let new = try r.nonEmptyString("newPassword")
        guard state.session?.userId == userId else {
            throw ServerError(.forbidden, "Can only change your own password (use resetPassword for other users)")
        }
        try Self.checkPassword(new)
        let stored = try existingUser(userId)["passwordHash"]?.stringValue ?? ""
        return .deferred(DeferredAnswer(work: {
            PasswordHash.verify(current, against: stored) ? .hashed(PasswordHash.hash(new)) : .verified(false)
        }) { [unowned self] outcome, _, _ throws(ServerError) in
            if case .verified = outcome { throw ServerError(.unauthorized, "Current password is incorrect") }
            return try self.storeNewHash(outcome, userId: userId, answer: ["changed": true])
        })
    }

    private func resetPassword(_ r: Request, _ state: ConnectionState) throws(ServerError) -> IdentityAnswer {
        try requireAdmin(state)
        let userId = try r.nonEmptyString("userId")
        let new = try r.nonEmptyString("newPassword")
        try Self.checkPassword(new)
        _ = try existingUser(userId)
        return .deferred(DeferredAnswer(work: { .hashed(PasswordHash.hash(new)) }) { [unowned self] outcome, _, _ throws(ServerError) in
            try self.storeNewHash(outcome, userId: userId, answer: ["reset": true])
        })
    }

    /// Writes a new password hash and ends every stored session of the user.
    private func storeNewHash(_ outcome: PasswordWork, userId: String, answer: JSON) throws(ServerError) -> JSON {
        guard case .hashed(let hash?) = outcome else { throw .internalServerError }
        _ = try existingUser(userId)
        _ = try storeCall { () throws(StoreError) in
            try store.update(bucket: SystemBuckets.users, key: .string(userId), changes: ["passwordHash": .string(hash)])
        }
        deleteSessions(ofUser: userId)
        return answer
    }
}
