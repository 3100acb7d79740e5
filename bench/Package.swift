// swift-tools-version: 6.0
import PackageDescription

// Benchmarks live in their own package so the root build never pulls in their dependencies.
// Every benchmark prints one line per figure: `name: value unit`.
let package = Package(
    name: "noex-bench",
    dependencies: [
        .package(name: "noex-server", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "loadgen",
            dependencies: [.product(name: "NoexLoop", package: "noex-server")]),
        .executableTarget(
            name: "json-bench",
            dependencies: [.product(name: "NoexJSON", package: "noex-server")]),
        .executableTarget(
            name: "store-bench",
            dependencies: [
                .product(name: "NoexStore", package: "noex-server"),
                .product(name: "NoexJSON", package: "noex-server"),
            ]),
    ]
)
