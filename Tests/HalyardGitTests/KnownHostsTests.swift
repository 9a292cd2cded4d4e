import Foundation
import Testing

@testable import HalyardGit

/// Reading a known_hosts file and finding a remote's entry in it, without a server.
struct KnownHostsTests {
    private let key = Array("ed25519-key".utf8)
    private let other = Array("another-key".utf8)

    private func line(_ hosts: String, _ bytes: [UInt8], marker: String = "") -> String {
        "\(marker)\(marker.isEmpty ? "" : " ")\(hosts) ssh-ed25519 \(Data(bytes).base64EncodedString()) comment"
    }

    @Test(arguments: [
        ("ssh://git@git.example.com/acme/flags.git", "git.example.com", 22),
        ("ssh://git@git.example.com:2222/acme/flags.git", "git.example.com", 2222),
        ("ssh://127.0.0.1:40022/srv/flags.git", "127.0.0.1", 40022),
        ("git+ssh://git@[::1]:2200/flags.git", "::1", 2200),
        ("git@github.com:acme/flags.git", "github.com", 22),
        ("github.com:acme/flags.git", "github.com", 22),
        ("git@github.com:user@acme/flags.git", "github.com", 22),
    ])
    func theEndpointOfAnSSHURL(url: String, host: String, port: Int) throws {
        let endpoint = try #require(KnownHosts.endpoint(ofURL: url))
        #expect(endpoint.host == host && endpoint.port == port)
    }

    @Test func aHostIsListedByNameOnPort22AndInBracketsOnOtherPorts() {
        let file = KnownHosts(
            path: "kh",
            contents: [line("git.example.com,10.0.0.5", key), line("[127.0.0.1]:40022", key), "# a comment", ""].joined(separator: "\n")
        )
        #expect(file.verdict(host: "git.example.com", port: 22, key: key) == .trusted)
        #expect(file.verdict(host: "10.0.0.5", port: 22, key: key) == .trusted)
        #expect(file.verdict(host: "127.0.0.1", port: 40022, key: key) == .trusted)
        #expect(file.verdict(host: "127.0.0.1", port: 22, key: key) == .unknownHost)
        #expect(file.verdict(host: "git.example.com", port: 2222, key: key) == .unknownHost)
        #expect(file.verdict(host: "git.example.com", port: 22, key: other) == .mismatch(listedTypes: ["ssh-ed25519"]))
    }

    @Test func wildcardsNegationAndRevokedKeys() {
        let file = KnownHosts(
            path: "kh",
            contents: [line("*.example.com,!evil.example.com", key), line("*", other, marker: "@revoked")].joined(separator: "\n")
        )
        #expect(file.verdict(host: "git.example.com", port: 22, key: key) == .trusted)
        #expect(file.verdict(host: "evil.example.com", port: 22, key: key) == .unknownHost)
        #expect(file.verdict(host: "git.example.com", port: 22, key: other) == .revoked)
    }

    @Test func hashedAndCertificateAuthorityLinesAreCountedNotMatched() {
        let file = KnownHosts(
            path: "kh",
            contents: [line("|1|c2FsdA==|aGFzaA==", key), line("*.example.com", key, marker: "@cert-authority")].joined(separator: "\n")
        )
        #expect(file.unsupportedLines == 2)
        #expect(file.verdict(host: "git.example.com", port: 22, key: key) == .unknownHost)
    }

    @Test func theKeyTypeInsideABlob() {
        let blob: [UInt8] = [0, 0, 0, 11] + Array("ssh-ed25519".utf8) + [0, 0, 0, 1, 42]
        #expect(KnownHosts.keyType(ofBlob: blob) == "ssh-ed25519")
        #expect(KnownHosts.keyType(ofBlob: [0, 0, 9]) == nil)
        #expect(KnownHosts.keyType(ofBlob: [0, 0, 0, 99, 1]) == nil)
    }
}
