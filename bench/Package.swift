// swift-tools-version: 6.0
import PackageDescription

// Benchmarks live in their own package so the root build never pulls in their dependencies.
// Every benchmark prints one line per figure: `name: value unit`.
// The Hummingbird peer server is a package of its own (peers/hummingbird-echo), so building
// these targets never compiles SwiftNIO.
let package = Package(
    name: "noex-bench",
    dependencies: [
        .package(name: "noex-server", path: ".."),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        // The load generator's pure parts (codec, handshake, options, request generators,
        // report), unit-tested in LoadgenCoreTests; they share NoexLoop's opcode table and
        // handshake accept computation (SHA-1/base64 are tested there).
        .target(
            name: "LoadgenCore",
            dependencies: [
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NoexLoop", package: "noex-server"),
            ]),
        // The load generator's driver: one libuv loop, N client connections. `import CUV`
        // resolves through NoexLoop, which depends on the CUV system-library target.
        .target(
            name: "LoadgenDriver",
            dependencies: ["LoadgenCore", .product(name: "NoexLoop", package: "noex-server")]),
        .executableTarget(name: "loadgen", dependencies: ["LoadgenCore", "LoadgenDriver"]),
        .testTarget(name: "LoadgenCoreTests", dependencies: ["LoadgenCore"]),
        // End to end: the driver against NoexLoop's WebSocket server, and the proto/fanout
        // modes against NoexServer with bench/proto-config.json, on the same loop.
        .testTarget(
            name: "LoadgenDriverTests",
            dependencies: [
                "LoadgenCore", "LoadgenDriver", .product(name: "NoexLoop", package: "noex-server"),
                .product(name: "NoexServer", package: "noex-server"),
                .product(name: "NoexJSON", package: "noex-server"),
            ]),
        .executableTarget(
            name: "json-bench",
            dependencies: [.product(name: "NoexJSON", package: "noex-server")]),
        .executableTarget(
            name: "store-bench",
            dependencies: [
                .product(name: "NoexStore", package: "noex-server"),
                .product(name: "NoexJSON", package: "noex-server"),
            ]),
        // permessage-deflate: CPU per message, bytes on the wire, zlib memory per connection.
        .executableTarget(
            name: "deflate-bench",
            dependencies: [.product(name: "NoexLoop", package: "noex-server")]),
        // The fan-out floor: one prepared frame to M loopback sockets per round (bench/fanout.sh).
        .executableTarget(
            name: "fanout-floor",
            dependencies: [.product(name: "NoexLoop", package: "noex-server")]),
        .executableTarget(
            name: "rules-bench",
            dependencies: [.product(name: "NoexRules", package: "noex-server")]),
        // What a cluster snapshot costs the holder's loop (capture + serialize) and a new node (parse + restore).
        .executableTarget(
            name: "snapshot-bench",
            dependencies: [
                .product(name: "NoexCluster", package: "noex-server"),
                .product(name: "NoexStore", package: "noex-server"),
                .product(name: "NoexJSON", package: "noex-server"),
                .product(name: "NoexLoop", package: "noex-server"),
            ]),
        // The cluster's log path in one process against a running redis-server (bench/cluster.sh).
        .executableTarget(
            name: "cluster-bench",
            dependencies: [
                .product(name: "NoexCluster", package: "noex-server"),
                .product(name: "NoexStore", package: "noex-server"),
                .product(name: "NoexJSON", package: "noex-server"),
                .product(name: "NoexLoop", package: "noex-server"),
            ]),
        // The cluster's rule-state meta row per sqlite group commit, every commit vs only when changed.
        .executableTarget(
            name: "cluster-meta-bench",
            dependencies: [
                .product(name: "NoexPersistence", package: "noex-server"),
                .product(name: "NoexRules", package: "noex-server"),
                .product(name: "NoexStore", package: "noex-server"),
                .product(name: "NoexJSON", package: "noex-server"),
                .product(name: "NoexLoop", package: "noex-server"),
            ]),
    ]
)
