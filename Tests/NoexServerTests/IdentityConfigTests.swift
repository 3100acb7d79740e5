import NoexJSON
import Testing
@testable import NoexServer

/// `--auth --admin-secret` and the config file's built-in identity keys (docs/config.md).
@Suite struct IdentityConfigTests {
    /// `--auth` (when `auth`) and `--admin-secret SECRET` (when given).
    static func flags(auth: Bool = false, secret: String? = nil) -> CommandLineOptions {
        var o = CommandLineOptions()
        o.auth = auth
        o.adminSecret = secret
        return o
    }

    @Test func flagsTurnBuiltInIdentityOn() throws {
        let plan = try LaunchPlan.resolve(Self.flags(auth: true, secret: "s3cret"), file: nil)
        #expect(plan.server.builtInAuth == BuiltInAuthConfig(adminSecret: "s3cret"))
        #expect(plan.server.auth == nil)
        #expect(plan.banner(boundPort: 1).contains("Auth:         built-in"))
    }

    @Test func fileKeysAndPrecedence() throws {
        let file = try FileConfig.decode(["auth": ["builtIn": true, "adminSecret": "from-auth", "sessionTtl": 60_000,
                                                   "loginRateLimit": ["maxAttempts": 3, "windowMs": 1000], "maxSessionsPerUser": 4],
                                          "adminSecret": "top-level"])
        let plan = try LaunchPlan.resolve(CommandLineOptions(), file: file)
        var expected = BuiltInAuthConfig(adminSecret: "from-auth", sessionTtlMs: 60_000,
                                         loginRateLimit: LoginRateLimitConfig(maxAttempts: 3, windowMs: 1000))
        expected.maxSessionsPerUser = 4
        #expect(plan.server.builtInAuth == expected)
        // The flag wins over both file keys; `auth: true` takes the top-level secret.
        #expect(try LaunchPlan.resolve(Self.flags(secret: "flag"), file: file).server.builtInAuth?.adminSecret == "flag")
        let short = try FileConfig.decode(["auth": true, "adminSecret": "top-level"])
        #expect(try LaunchPlan.resolve(CommandLineOptions(), file: short).server.builtInAuth == BuiltInAuthConfig(adminSecret: "top-level"))
    }

    @Test func aSecretIsRequired() throws {
        #expect(throws: CommandLineError("--admin-secret is required when --auth is enabled; add --admin-secret SECRET or drop --auth")) {
            try LaunchPlan.resolve(Self.flags(auth: true), file: nil)
        }
        let file = try FileConfig.decode(["auth": true])
        #expect(throws: CommandLineError("config key \"auth\": built-in identity needs an admin secret; add \"adminSecret\" or --admin-secret SECRET")) {
            try LaunchPlan.resolve(CommandLineOptions(), file: file)
        }
        #expect(throws: CommandLineError.self) { try LaunchPlan.resolve(Self.flags(auth: true, secret: ""), file: nil) }
    }
}
