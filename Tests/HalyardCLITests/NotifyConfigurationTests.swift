import Foundation
import HalyardTesting
import Testing

/// `notify.allowPrivateNetworks` is a boolean from the environment or the config file (issue 9 point 6).
struct NotifyConfigurationTests {
    @Test func testAllowPrivateNetworksMustBeABoolean() throws {
        let workspace = try GitRepository(prefix: "halyard-cli")
        defer { workspace.destroy() }
        let badVariable = try HalyardBinary.run(["serve"], in: workspace.path, environment: ["HALYARD_NOTIFY_ALLOW_PRIVATE_NETWORKS": "maybe"])
        #expect(badVariable.status == 2)
        #expect(badVariable.stderr == "error: configuration key notify.allowPrivateNetworks: 'maybe' is not true or false\n")

        try workspace.write("halyard.json", #"{"notify": {"allowPrivateNetworks": "sometimes"}}"#)
        let badFile = try HalyardBinary.run(["serve", "--config", "halyard.json"], in: workspace.path)
        #expect(badFile.status == 2)
        #expect(badFile.stderr == "error: configuration key notify.allowPrivateNetworks: 'sometimes' is not true or false\n")
    }
}
