// swift-tools-version: 6.1
import PackageDescription

// Release-mode benchmarks, kept out of the main package so its build stays lean. Run them with `Scripts/bench`.
let package = Package(
    name: "HalyardBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Halyard", path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .target(
            name: "BenchSupport",
            dependencies: [
                .product(name: "HalyardService", package: "Halyard"),
                .product(name: "HalyardSync", package: "Halyard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "BenchSupport"
        ),
        .executableTarget(
            name: "rules-bench",
            dependencies: [.product(name: "HalyardRules", package: "Halyard")],
            path: "RulesBench"
        ),
        .executableTarget(
            name: "git-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "HalyardRules", package: "Halyard"),
                .product(name: "HalyardGit", package: "Halyard"),
                .product(name: "HalyardSync", package: "Halyard"),
                .product(name: "HalyardNotify", package: "Halyard"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "GitBench"
        ),
        .executableTarget(
            name: "propagation-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "HalyardSync", package: "Halyard"),
                .product(name: "HalyardNotify", package: "Halyard"),
                .product(name: "HalyardService", package: "Halyard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "PropagationBench"
        ),
        .executableTarget(
            name: "delivery-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "HalyardSync", package: "Halyard"),
                .product(name: "HalyardNotify", package: "Halyard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "DeliveryBench"
        ),
        .executableTarget(
            name: "client-bench",
            dependencies: [
                .product(name: "HalyardRules", package: "Halyard"),
                .product(name: "HalyardClient", package: "Halyard"),
            ],
            path: "ClientBench"
        ),
        .executableTarget(
            name: "client-propagation-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "HalyardClient", package: "Halyard"),
                .product(name: "HalyardClientHummingbird", package: "Halyard"),
                .product(name: "HalyardSync", package: "Halyard"),
                .product(name: "HalyardNotify", package: "Halyard"),
                .product(name: "HalyardService", package: "Halyard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "ClientPropagationBench"
        ),
        .executableTarget(
            name: "scale-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "HalyardGit", package: "Halyard"),
                .product(name: "HalyardSync", package: "Halyard"),
                .product(name: "HalyardService", package: "Halyard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "ScaleBench"
        ),
        .executableTarget(
            name: "replica-bench",
            dependencies: [
                .product(name: "HalyardSync", package: "Halyard"),
                .product(name: "HalyardNotify", package: "Halyard"),
                .product(name: "HalyardService", package: "Halyard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "ReplicaBench"
        ),
    ]
)
