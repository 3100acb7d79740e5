import NoexJSON

/// `noex_validate_fn` of include/noex_server.h: `int (*)(void *ctx, const char *token,
/// char *session_json_out, size_t out_len)`.
public typealias CValidateFunction = @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> Int32

/// A C validate callback as the Swift `AuthConfig.validate` hook, so `auth.login` takes the one
/// path every auth mode takes (expiry, revocation and permissions included).
struct CValidateCallback {
    /// Size of the buffer the callback writes the session JSON into (terminating NUL included).
    static let sessionBufferBytes = 4096
    static let accept: Int32 = 1
    static let reject: Int32 = 0

    let function: CValidateFunction
    let context: UnsafeMutableRawPointer?

    /// The session for `token`, nil when the callback rejects it; throws (→ `INTERNAL_ERROR`)
    /// when the callback fails or returns something that is not a session, after saying why on
    /// standard error (the embedder's bug, not the client's).
    func validate(_ token: String) throws(CallbackFailure) -> AuthSession? {
        // C sees a string up to its first NUL: "good\u0000junk" must not pass as "good".
        if token.utf8.contains(0) { return nil }
        var buffer = [CChar](repeating: 0, count: Self.sessionBufferBytes)
        let rc = token.withCString { t in
            buffer.withUnsafeMutableBufferPointer { function(context, t, $0.baseAddress, $0.count) }
        }
        if rc == Self.reject { return nil }
        guard rc == Self.accept else {
            throw CallbackFailure.report("returned \(rc) (expected 1 = accept or 0 = reject)")
        }
        guard let end = buffer.firstIndex(of: 0) else {
            throw CallbackFailure.report("the session JSON is not NUL-terminated within \(Self.sessionBufferBytes) bytes")
        }
        let json: JSON
        do { json = try JSON.parse(buffer[..<end].map { UInt8(bitPattern: $0) }) } catch {
            throw CallbackFailure.report("the session is not valid JSON: \(error.message)")
        }
        guard case .object(let object) = json else {
            throw CallbackFailure.report("the session must be a JSON object {userId, roles, expiresAt?}, got \(json.typeName)")
        }
        do { return try ConfigReader(object).authSession() } catch {
            throw CallbackFailure.report("session key \"\(error.key)\": \(error.problem)")
        }
    }

    /// The auth config for this callback: `required` and `permissions` come from the config's
    /// `auth` object when it has one (its token table is replaced), else login is required.
    func authConfig(replacing configured: AuthConfig?) -> AuthConfig {
        AuthConfig(required: configured?.required ?? true, permissions: configured?.permissions) { token in
            try self.validate(token)
        }
    }

    /// Why a callback's answer was not used; already written to standard error.
    struct CallbackFailure: Error {
        static func report(_ problem: String) -> CallbackFailure {
            printToStandardError("[noex-server] validate callback: \(problem); the login is answered INTERNAL_ERROR")
            return CallbackFailure()
        }
    }
}
