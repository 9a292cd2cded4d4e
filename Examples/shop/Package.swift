// swift-tools-version: 6.1
import PackageDescription

// A small shop that follows Halyard's flags with HalyardClient: the example of README "Using Halyard from a Swift
// server". Its own package, depending on Halyard by path.
let package = Package(
    name: "shop",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Halyard", path: "../.."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "ShopApp",
            dependencies: [
                .product(name: "HalyardClient", package: "Halyard"),
                .product(name: "HalyardClientHummingbird", package: "Halyard"),
                .product(name: "HalyardRules", package: "Halyard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "shop",
            dependencies: [
                "ShopApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HalyardClient", package: "Halyard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ShopTests",
            dependencies: [
                "ShopApp",
                .product(name: "HalyardClient", package: "Halyard"),
                .product(name: "HalyardRules", package: "Halyard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
