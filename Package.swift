// swift-tools-version: 6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Halyard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "halyard", targets: ["halyard"]),
        .library(name: "HalyardRules", targets: ["HalyardRules"]),
        .library(name: "HalyardGit", targets: ["HalyardGit"]),
        .library(name: "HalyardSync", targets: ["HalyardSync"]),
        .library(name: "HalyardNotify", targets: ["HalyardNotify"]),
        .library(name: "HalyardServer", targets: ["HalyardServer"]),
        .library(name: "HalyardService", targets: ["HalyardService"]),
        .library(name: "HalyardClient", targets: ["HalyardClient"]),
        .library(name: "HalyardClientHummingbird", targets: ["HalyardClientHummingbird"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // `swift package generate-documentation --target HalyardClient` builds the DocC catalog of the client SDK.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // libgit2, found through pkg-config (Debian: libgit2-dev).
        .systemLibrary(
            name: "CLibgit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"]), .brew(["libgit2"])]
        ),
        // Flag model, decoding, validation, evaluation and bucketing. No I/O.
        .target(name: "HalyardRules", swiftSettings: strictSettings),
        // A small, safe Swift API over libgit2.
        .target(name: "HalyardGit", dependencies: ["CLibgit2"], swiftSettings: strictSettings),
        // Snapshots of a flag repository at a commit, change sets, the flag store and the watcher; defines the
        // `AppliedStateStore` protocol the watcher persists through (implemented in HalyardNotify).
        .target(
            name: "HalyardSync",
            dependencies: [
                "HalyardRules",
                "HalyardGit",
                .product(name: "Crypto", package: "swift-crypto"),
                // RSA for SSH commit signatures (`rsa-sha2-256`/`512`).
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Webhook subscriptions, the durable outbox, Standard Webhooks signing and delivery; the SQLite state store
        // and PostgreSQL state stores that implement Sync's `AppliedStateStore` (and Notify's `StateStore`).
        .target(
            name: "HalyardNotify",
            dependencies: [
                "HalyardRules",
                "HalyardSync",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The Hummingbird HTTP API of `halyard serve`.
        .target(
            name: "HalyardServer",
            dependencies: [
                "HalyardRules",
                "HalyardSync",
                "HalyardNotify",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("openapi.yaml")],
            swiftSettings: strictSettings
        ),
        // A whole `halyard serve` assembled from one typed configuration; used by the CLI, the tests and the benchmarks.
        .target(
            name: "HalyardService",
            dependencies: [
                "HalyardRules",
                "HalyardGit",
                "HalyardSync",
                "HalyardNotify",
                "HalyardServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The SDK that subscribed Swift servers link: flags in memory, evaluated in-process, kept up to date by a stream,
        // verified refresh calls or polling (DESIGN §11). Imports HalyardRules only of ours; no Hummingbird.
        .target(
            name: "HalyardClient",
            dependencies: [
                "HalyardRules",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The Hummingbird route that receives refresh calls for a `HalyardClient`.
        .target(
            name: "HalyardClientHummingbird",
            dependencies: [
                "HalyardClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The `halyard` command line.
        .executableTarget(
            name: "halyard",
            dependencies: [
                "HalyardRules",
                "HalyardGit",
                "HalyardSync",
                "HalyardNotify",
                "HalyardServer",
                "HalyardService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Test support shared by every test target (not a product): git repositories driven by the git CLI, webhook
        // receivers on loopback, `eventually`. Imports nothing of ours.
        .target(
            name: "HalyardTesting",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "HalyardTestingTests", dependencies: ["HalyardTesting"]),
        .testTarget(name: "HalyardRulesTests", dependencies: ["HalyardRules"]),
        .testTarget(name: "HalyardGitTests", dependencies: ["HalyardGit", "HalyardTesting"]),
        .testTarget(
            name: "HalyardSyncTests",
            dependencies: [
                "HalyardSync",
                "HalyardGit",
                "HalyardRules",
                "HalyardNotify",
                "HalyardTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "HalyardNotifyTests",
            dependencies: [
                "HalyardNotify",
                "HalyardRules",
                "HalyardSync",
                "HalyardTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "HalyardServerTests",
            dependencies: [
                "HalyardServer",
                "HalyardService",
                "HalyardSync",
                "HalyardNotify",
                "HalyardTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "HalyardCLITests",
            dependencies: [
                "halyard",
                "HalyardGit",
                "HalyardNotify",
                "HalyardTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "HalyardClientTests",
            dependencies: [
                "HalyardClient",
                "HalyardClientHummingbird",
                "HalyardRules",
                "HalyardService",
                "HalyardSync",
                "HalyardNotify",
                "HalyardTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
