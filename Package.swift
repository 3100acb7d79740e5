// swift-tools-version: 6.0
import PackageDescription

// Layers depend one way, downwards (see docs/architecture.md):
// CUV <- NoexLoop; NoexJSON <- NoexStore, NoexRules; all of them <- NoexServer <- noex-server.
let package = Package(
    name: "noex-server",
    products: [
        .executable(name: "noex-server", targets: ["noex-server"]),
        .library(name: "NoexServer", targets: ["NoexServer"]),
        .library(name: "NoexLoop", targets: ["NoexLoop"]),
        .library(name: "NoexJSON", targets: ["NoexJSON"]),
        .library(name: "NoexStore", targets: ["NoexStore"]),
        .library(name: "NoexRules", targets: ["NoexRules"]),
        // The C library (docs/embedding.md); scripts/build-c-library.sh installs both with the
        // header and pkg-config files as libnoexserver.{so,a}.
        .library(name: "noexserver", type: .dynamic, targets: ["NoexServer"]),
        .library(name: "noexserver-static", type: .static, targets: ["NoexServer"]),
        .library(name: "NoexPersistence", targets: ["NoexPersistence"]),
        .library(name: "NoexCluster", targets: ["NoexCluster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CUV", pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"]), .brew(["libuv"])]),
        .systemLibrary(
            name: "CPCRE2", pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"]), .brew(["pcre2"])]),
        // Password hashing (scrypt), session tokens (CSPRNG) for the built-in identity.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl"])]),
        // Every regular expression (schema patterns, the rules `matches` operator) runs here, bounded.
        .target(name: "NoexRegex", dependencies: ["CPCRE2"]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(name: "NoexLoop", dependencies: ["CUV", "CZlib"]),
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        // Durable storage engines: the only module that does disk I/O for the store and rules.
        .target(name: "NoexPersistence", dependencies: ["CSQLite", "CUV", "NoexJSON", "NoexStore", "NoexRules"]),
        .systemLibrary(
            name: "CHiredis", pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"]), .brew(["hiredis"])]),
        // Cluster foundation (docs/cluster.md): Redis on the loop, the ordered log, deterministic application.
        .target(name: "NoexCluster", dependencies: ["CHiredis", "CUV", "NoexJSON", "NoexStore", "NoexPersistence"]),
        .target(
            name: "NoexJSON",
            dependencies: [.product(name: "OrderedCollections", package: "swift-collections")],
            // Double conversions lower to libm calls; executables without Foundation need it.
            linkerSettings: [.linkedLibrary("m")]),
        .target(name: "NoexStore", dependencies: ["NoexJSON", "NoexRegex"]),
        .target(name: "NoexRules", dependencies: ["NoexJSON", "NoexRegex"]),
        .target(
            name: "NoexServer",
            dependencies: ["CUV", "NoexLoop", "NoexJSON", "NoexStore", "NoexRules", "NoexPersistence", "COpenSSL",
                           "NoexCluster"]),
        .executableTarget(
            name: "noex-server",
            dependencies: [
                "NoexServer", "NoexLoop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "NoexLoopTests", dependencies: ["NoexLoop", "NoexJSON", "CUV", "CZlib"]),
        .testTarget(name: "NoexJSONTests", dependencies: ["NoexJSON"]),
        .testTarget(name: "NoexStoreTests", dependencies: ["NoexStore", "NoexJSON"]),
        .testTarget(name: "NoexRulesTests", dependencies: ["NoexRules", "NoexJSON"]),
        .testTarget(name: "NoexRegexTests", dependencies: ["NoexRegex"]),
        .testTarget(name: "NoexClusterTests", dependencies: ["NoexCluster", "NoexStore", "NoexJSON", "NoexPersistence", "CUV",
                                                             "RedisTestSupport"]),
        // The real redis-server fixture, shared by the cluster's unit tests and the node-process tests.
        .target(name: "RedisTestSupport", dependencies: ["NoexCluster"], path: "Tests/RedisTestSupport"),
        .testTarget(name: "NoexServerTests", dependencies: ["NoexServer", "NoexLoop", "NoexJSON", "CUV", "NoexPersistence",
                                                            "RedisTestSupport", "NoexCluster"]),
        // The executable's command line (@testable import noex_server).
        .testTarget(name: "noex-serverTests", dependencies: ["noex-server", "NoexServer", "NoexJSON"]),
    ]
)
