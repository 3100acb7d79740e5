// swift-tools-version: 5.4
import PackageDescription

// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's entry point to
// `<module>_main` and links `main` to it, but a fuzz target has no entry point of its own
// (`-parse-as-library`; libFuzzer supplies `main`), so the link would fail.

// libFuzzer targets, in their own package so the root build never compiles them. They only
// link with libFuzzer's `main`, so build them with scripts/fuzz.sh (or by hand):
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// `-Xswiftc` reaches the root package's modules too, so the parsers under test carry the
// coverage instrumentation the fuzzer steers by. See docs/fuzzing.md.
let package = Package(
    name: "noex-fuzz",
    dependencies: [
        .package(name: "noex-server", path: ".."),
    ],
    targets: [
        // The invariant check every target reports failures through, and input slicing helpers.
        .target(name: "FuzzKit"),
        .executableTarget(
            name: "fuzz-http",
            dependencies: ["FuzzKit", .product(name: "NoexLoop", package: "noex-server")]),
        .executableTarget(
            name: "fuzz-frame",
            dependencies: ["FuzzKit", .product(name: "NoexLoop", package: "noex-server")]),
        .executableTarget(
            name: "fuzz-json",
            dependencies: ["FuzzKit", .product(name: "NoexJSON", package: "noex-server")]),
        .executableTarget(
            name: "fuzz-request",
            dependencies: [
                "FuzzKit",
                .product(name: "NoexServer", package: "noex-server"),
                .product(name: "NoexLoop", package: "noex-server"),
                .product(name: "NoexJSON", package: "noex-server"),
            ]),
    ]
)
