extension ConfigReader {
    /// A session object `{userId, roles?, expiresAt?, metadata?}`: one entry of the config file's
    /// `auth.tokens`, or what the C API's validate callback returns. Errors name the key.
    func authSession() throws(ConfigError) -> AuthSession {
        try rejectUnknownKeys(["userId", "roles", "expiresAt", "metadata"])
        guard let userId = try string("userId"), !userId.isEmpty else {
            throw ConfigError(key: keyPath("userId"), "required: a non-empty string")
        }
        let roles = try stringArray("roles") ?? []
        let expiresAt = try integer("expiresAt", in: 0...ConfigBounds.epochMs)
        return AuthSession(userId: userId, roles: roles, metadata: value("metadata"), expiresAt: expiresAt)
    }
}
