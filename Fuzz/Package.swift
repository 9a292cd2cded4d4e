// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for Halyard, kept out of the main package because they only build with the fuzzer and address
// sanitizers. Each executable defines `LLVMFuzzerTestOneInput`; libFuzzer supplies `main`. Build and run them with
// `Scripts/fuzz [seconds]`, which passes `--sanitize fuzzer --sanitize address` (SwiftPM then links libFuzzer and
// leaves `main` to it).
let package = Package(
    name: "HalyardFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Halyard", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // Invariant checks, input splitting and a fixed set of flags to evaluate decoded contexts against.
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "HalyardRules", package: "Halyard")]
        ),
        // JSONValue.parse: parse → jsonText → parse round-trips.
        .executableTarget(
            name: "fuzz-json",
            dependencies: ["FuzzSupport", .product(name: "HalyardRules", package: "Halyard")]
        ),
        // FlagDecoder: bytes → decode → validate, as a flag file is read.
        .executableTarget(
            name: "fuzz-flag",
            dependencies: ["FuzzSupport", .product(name: "HalyardRules", package: "Halyard")]
        ),
        // OFREPRequest: the body of the OFREP evaluation routes.
        .executableTarget(
            name: "fuzz-ofrep-request",
            dependencies: [
                "FuzzSupport",
                .product(name: "HalyardRules", package: "Halyard"),
                .product(name: "HalyardServer", package: "Halyard"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // EvaluateRequest: the body of `POST /v1/environments/{env}/evaluate`.
        .executableTarget(
            name: "fuzz-evaluate-request",
            dependencies: [
                "FuzzSupport",
                .product(name: "HalyardRules", package: "Halyard"),
                .product(name: "HalyardServer", package: "Halyard"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // WebhookSigner: Standard Webhooks signing and verification.
        .executableTarget(
            name: "fuzz-webhook-signature",
            dependencies: ["FuzzSupport", .product(name: "HalyardNotify", package: "Halyard")]
        ),
        // HTTPAPI.verifyGitHook: GitHub's X-Hub-Signature-256 and GitLab's X-Gitlab-Token.
        .executableTarget(
            name: "fuzz-git-hook-signature",
            dependencies: [
                "FuzzSupport",
                .product(name: "HalyardServer", package: "Halyard"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)
