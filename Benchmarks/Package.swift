// swift-tools-version: 6.1
import PackageDescription

// Release-mode benchmarks, kept out of the main package so its build stays lean. Run them with `Scripts/bench`.
let package = Package(
    name: "HalyardBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        .executableTarget(
            name: "rules-bench",
            dependencies: [.product(name: "HalyardRules", package: "Halyard")],
            path: "RulesBench"
        ),
        .executableTarget(
            name: "git-bench",
            dependencies: [
                .product(name: "HalyardRules", package: "Halyard"),
                .product(name: "HalyardGit", package: "Halyard"),
                .product(name: "HalyardSync", package: "Halyard"),
            ],
            path: "GitBench"
        ),
    ]
)
