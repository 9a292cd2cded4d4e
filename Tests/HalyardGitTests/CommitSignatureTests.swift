import Foundation
import HalyardGit
import HalyardTesting
import Testing

/// `Repository.signature(ofCommit:)`: the `gpgsig` block and the signed bytes, read with libgit2.
struct CommitSignatureTests {
    @Test func testExtractsAnSSHSignatureAndTheBytesItSigns() throws {
        let repository = try GitRepository(prefix: "halyard-git-signed")
        defer { repository.destroy() }
        let key = try SSHSigningKey(.ed25519, in: repository.path + "/.git", comment: "ada@example.com")
        try repository.write("flags/production/a.json", "{}\n")
        let hex = try repository.commitSigned("signed", with: key)
        let commit = try #require(ObjectID(hex: hex))

        let signed = try #require(try Repository.open(at: repository.path).signature(ofCommit: commit))
        #expect(signed.format == .ssh)
        let text = String(decoding: signed.signature, as: UTF8.self)
        #expect(text.hasPrefix("-----BEGIN SSH SIGNATURE-----\n"))
        #expect(text.hasSuffix("-----END SSH SIGNATURE-----\n") || text.hasSuffix("-----END SSH SIGNATURE-----"))
        // What git itself hands ssh-keygen: the raw object without the gpgsig header.
        let raw = try repository.git("cat-file", "commit", hex)
        let expected =
            raw.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("gpgsig ") && !$0.hasPrefix(" ") }
            .joined(separator: "\n") + "\n"
        #expect(String(decoding: signed.signedData, as: UTF8.self) == expected)
    }

    @Test func testAnUnsignedCommitHasNoSignatureAndAMissingOneIsAnError() throws {
        let repository = try GitRepository(prefix: "halyard-git-signed")
        defer { repository.destroy() }
        try repository.write("flags/production/a.json", "{}\n")
        let commit = try #require(ObjectID(hex: try repository.commit("unsigned")))
        let opened = try Repository.open(at: repository.path)

        #expect(try opened.signature(ofCommit: commit) == nil)
        let missing = try #require(ObjectID(hex: String(repeating: "ab", count: 20)))
        #expect {
            try opened.signature(ofCommit: missing)
        } throws: { error in
            (error as? GitError)?.isNotFound == true
        }
    }

    @Test func testAGPGSignatureIsRecognised() throws {
        let repository = try GitRepository(prefix: "halyard-git-signed")
        defer { repository.destroy() }
        let key = try GPGSigningKey(in: repository.path + "/.git", name: "Flag Bot", email: "bot@example.com")
        defer { key.stopAgent() }
        try repository.write("flags/production/a.json", "{}\n")
        let commit = try #require(ObjectID(hex: try repository.commitSigned("signed", with: key)))

        let signed = try #require(try Repository.open(at: repository.path).signature(ofCommit: commit))
        #expect(signed.format == .openPGP)
        #expect(String(decoding: signed.signedData, as: UTF8.self).hasSuffix("\nsigned\n"))
    }
}
