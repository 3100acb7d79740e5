// swift-tools-version: 6.2
import PackageDescription

// The Hummingbird WebSocket echo peer for bench/echo.sh and bench/idle.sh. It is its own package
// so that building the other benchmarks never compiles SwiftNIO and Hummingbird.
let package = Package(
    name: "hummingbird-echo",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", exact: "2.8.1"),
    ],
    targets: [
        .executableTarget(
            name: "hummingbird-echo",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ]),
    ]
)
