import NoexJSON
import NoexLoop
import Testing
@testable import NoexServer

/// The `compression` config key and `--compression` (permessage-deflate, docs/config.md).
@Suite struct CompressionConfigTests {
    @Test func theKeyDecodesEveryFieldAndTheShorthand() throws {
        let c = try FileConfig.decode(["compression": [
            "threshold": 0, "serverNoContextTakeover": false, "clientNoContextTakeover": true,
            "serverMaxWindowBits": 10, "memLevel": 4, "level": 1,
        ]])
        #expect(c.compression == CompressionSetting(enabled: true, settings: PerMessageDeflateConfig(
            threshold: 0, serverNoContextTakeover: false, clientNoContextTakeover: true,
            serverMaxWindowBits: 10, memLevel: 4, level: 1)))
        #expect(try FileConfig.decode(["compression": true]).compression == CompressionSetting(enabled: true))
        #expect(try FileConfig.decode(["compression": ["enabled": false]]).compression?.enabled == false)
        #expect(try FileConfig.decode([:]).compression == nil)
    }

    @Test func offUnlessTheFileOrTheFlagTurnsItOn() throws {
        #expect(try LaunchPlan.resolve(CommandLineOptions(), file: nil).server.compression == nil)
        let tuned = try FileConfig.decode(["compression": ["enabled": false, "threshold": 64]])
        #expect(try LaunchPlan.resolve(CommandLineOptions(), file: tuned).server.compression == nil)
        var cli = CommandLineOptions()
        cli.compression = true
        // The flag turns it on, with the file's settings when it has some.
        #expect(try LaunchPlan.resolve(cli, file: tuned).server.compression?.threshold == 64)
        #expect(try LaunchPlan.resolve(cli, file: nil).server.compression == PerMessageDeflateConfig())
        let on = try FileConfig.decode(["compression": ["memLevel": 9]])
        #expect(try LaunchPlan.resolve(CommandLineOptions(), file: on).server.compression?.memLevel == 9)
    }

    static let badCases: [(JSON, String)] = [
        (["compression": "yes"], "compression"),
        (["compression": ["treshold": 10]], "compression.treshold"),
        (["compression": ["threshold": -1]], "compression.threshold"),
        (["compression": ["threshold": 2_000_000_000]], "compression.threshold"),
        (["compression": ["serverMaxWindowBits": 8]], "compression.serverMaxWindowBits"),
        (["compression": ["serverMaxWindowBits": 16]], "compression.serverMaxWindowBits"),
        (["compression": ["memLevel": 0]], "compression.memLevel"),
        (["compression": ["memLevel": 10]], "compression.memLevel"),
        (["compression": ["level": 0]], "compression.level"),
        (["compression": ["enabled": "true"]], "compression.enabled"),
        (["compression": ["clientNoContextTakeover": 1]], "compression.clientNoContextTakeover"),
    ]

    @Test(arguments: badCases)
    func badValuesNameTheKey(_ json: JSON, _ key: String) {
        do {
            _ = try FileConfig.decode(json)
            Issue.record("accepted \(json.jsonString)")
        } catch {
            #expect(error.key == key)
        }
    }
}
