import Foundation
import HalyardGit
import HalyardRules
import HalyardTesting
import Testing

@testable import HalyardSync

/// A flag repository whose commits are signed by real `ssh-keygen` and `gpg` keys, and the files that list them.
struct SigningFixture {
    let repo: TestRepository
    let keys: String

    init() throws {
        repo = try TestRepository()
        keys = try TemporaryDirectory.make(prefix: "halyard-keys")
    }

    func remove() {
        repo.remove()
        try? FileManager.default.removeItem(atPath: keys)
    }

    /// Writes an allowed_signers file with `lines` and returns its path.
    func allowedSigners(_ lines: [String]) throws -> String {
        let path = keys + "/allowed_signers-\(UUID().uuidString.prefix(8))"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func sshKey(_ kind: SSHSigningKey.Kind = .ed25519, comment: String = "ada@example.com") throws -> SSHSigningKey {
        try SSHSigningKey(kind, in: keys, comment: comment)
    }

    /// Writes a valid flag and commits it signed with `key`.
    func commitFlag(signedWith key: SSHSigningKey, customer: String = "Disney") throws -> ObjectID {
        try repo.write("flags/production/a.json", FlagText.simple(customer: customer))
        return try objectID(repo.repository.commitSigned("flag for \(customer)", with: key))
    }

    func objectID(_ hex: String) throws -> ObjectID {
        guard let id = ObjectID(hex: hex) else { throw TestFailure("not a commit id: \(hex)") }
        return id
    }

    func check(_ commit: ObjectID, _ policy: SignaturePolicy) throws -> SignatureCheck {
        try policy.check(commit: commit, in: repo.open())
    }
}

@Suite(.serialized)
struct SignaturePolicyTests {
    @Test(arguments: SSHSigningKey.Kind.allCases)
    func testAnSSHSignatureByAListedKeyIsVerified(kind: SSHSigningKey.Kind) throws {
        let fixture = try SigningFixture()
        defer { fixture.remove() }
        let key = try fixture.sshKey(kind)
        let commit = try fixture.commitFlag(signedWith: key)
        let policy = SignaturePolicy(allowedSigners: try fixture.allowedSigners([key.allowedSignersLine(principal: "ada@example.com")]))

        let check = try fixture.check(commit, policy)
        let signer = try #require(check.signer, "\(check)")
        #expect(signer.method == .ssh)
        #expect(signer.name == "ada@example.com")
        #expect(signer.key.hasSuffix(" " + (try key.fingerprint())), "the fingerprint ssh-keygen -l prints")
    }

    @Test func testAnSSHKeyThatIsNotListedIsAnUnknownKeyWithItsFingerprint() throws {
        let fixture = try SigningFixture()
        defer { fixture.remove() }
        let listed = try fixture.sshKey()
        let stranger = try fixture.sshKey(comment: "mallory@example.com")
        let commit = try fixture.commitFlag(signedWith: stranger)
        let policy = SignaturePolicy(allowedSigners: try fixture.allowedSigners([listed.allowedSignersLine(principal: "ada@example.com")]))

        let failure = try #require(try fixture.check(commit, policy).failure)
        #expect(failure.reason == .unknownKey)
        #expect(failure.code == "unknown-signing-key")
        #expect(failure.key?.hasPrefix("ED25519 SHA256:") == true)
        #expect(failure.message.contains(failure.key!))
    }

    @Test func testASignatureGraftedOntoOtherFlagsIsABadSignature() throws {
        let fixture = try SigningFixture()
        defer { fixture.remove() }
        let key = try fixture.sshKey(.ecdsaP256)
        let policy = SignaturePolicy(allowedSigners: try fixture.allowedSigners([key.allowedSignersLine(principal: "ada@example.com")]))
        let signed = try fixture.commitFlag(signedWith: key)
        try fixture.repo.write("flags/production/a.json", FlagText.simple(active: false))
        let unsigned = try fixture.repo.commit("switch off, unsigned")
        let grafted = try fixture.objectID(fixture.repo.repository.graftSignature(of: signed.hex, ontoTreeOf: unsigned.hex))

        #expect(try fixture.check(signed, policy).signer != nil)
        let failure = try #require(try fixture.check(grafted, policy).failure)
        #expect(failure.reason == .badSignature)
        #expect(failure.code == "bad-signature")
        #expect(failure.signer == "ada@example.com")
        #expect(failure.message.contains("does not match its signature"))
    }

    @Test func testAnUnsignedCommitIsRejectedAsUnsigned() throws {
        let fixture = try SigningFixture()
        defer { fixture.remove() }
        let key = try fixture.sshKey()
        try fixture.repo.write("flags/production/a.json", FlagText.simple())
        let commit = try fixture.repo.commit("unsigned")
        let policy = SignaturePolicy(allowedSigners: try fixture.allowedSigners([key.allowedSignersLine(principal: "ada@example.com")]))

        let failure = try #require(try fixture.check(commit, policy).failure)
        #expect(failure.reason == .unsigned)
        let diagnostic = failure.diagnostic(commit: commit.hex)
        #expect(diagnostic.code == "unsigned-commit")
        #expect(diagnostic.file == commit.hex)
        #expect(diagnostic.pointer == "/gpgsig")
        #expect(diagnostic.severity == .error)
    }

    @Test func testNamespacesAndCertificateAuthoritiesOfAllowedSigners() throws {
        let fixture = try SigningFixture()
        defer { fixture.remove() }
        let key = try fixture.sshKey()
        let commit = try fixture.commitFlag(signedWith: key)

        let forFilesOnly = SignaturePolicy(
            allowedSigners: try fixture.allowedSigners([key.allowedSignersLine(principal: "ada@example.com", options: #"namespaces="file""#)])
        )
        let failure = try #require(try fixture.check(commit, forFilesOnly).failure)
        #expect(failure.reason == .unknownKey)
        #expect(failure.message.contains("not for the namespace git"))

        let forGit = SignaturePolicy(
            allowedSigners: try fixture.allowedSigners([
                "# the team",
                key.allowedSignersLine(principal: "\"ada@example.com,ops@example.com\"", options: #"namespaces="file,git""#),
            ])
        )
        #expect(try fixture.check(commit, forGit).signer?.name == "ada@example.com,ops@example.com")

        let expired = SignaturePolicy(
            allowedSigners: try fixture.allowedSigners([key.allowedSignersLine(principal: "ada@example.com", options: #"valid-before="20200101Z""#)])
        )
        #expect(try fixture.check(commit, expired).failure?.reason == .unknownKey)

        let authority = try fixture.allowedSigners([key.allowedSignersLine(principal: "*@example.com", options: "cert-authority")])
        let warnings = try SignaturePolicy(allowedSigners: authority).validate()
        #expect(warnings == ["\(authority):1: cert-authority lines are ignored: list the signing keys themselves"])
        #expect(try fixture.check(commit, SignaturePolicy(allowedSigners: authority)).failure?.reason == .unknownKey)
    }

    @Test func testAMalformedAllowedSignersFileIsAnErrorNamingTheLineNotARejection() throws {
        let fixture = try SigningFixture()
        defer { fixture.remove() }
        let key = try fixture.sshKey()
        let commit = try fixture.commitFlag(signedWith: key)
        let path = try fixture.allowedSigners([key.allowedSignersLine(principal: "ada@example.com"), "bob@example.com ssh-ed25519 not-base64!"])

        #expect(throws: SignatureConfigurationError.self) { try SignaturePolicy(allowedSigners: path).validate() }
        let repository = try fixture.repo.open()
        do {
            _ = try SignaturePolicy(allowedSigners: path).check(commit: commit, in: repository)
            Issue.record("a broken allowed_signers file must not verify or reject anything")
        } catch {
            #expect(!error.isInvalidFlagSet)
            #expect(error.description == "\(path):2: the key is not valid base64")
        }
    }

    @Test func testGPGSignaturesAreCheckedWithGpgvAgainstBinaryAndArmoredKeyrings() throws {
        let fixture = try SigningFixture()
        defer { fixture.remove() }
        let key = try GPGSigningKey(in: fixture.keys, name: "Flag Bot", email: "bot@example.com")
        let stranger = try GPGSigningKey(in: fixture.keys, name: "Mallory", email: "mallory@example.com")
        defer {
            key.stopAgent()
            stranger.stopAgent()
        }
        try fixture.repo.write("flags/production/a.json", FlagText.simple())
        let signed = try fixture.objectID(fixture.repo.repository.commitSigned("signed by the bot", with: key))

        for keyring in [key.keyringPath, key.armoredKeyringPath] {
            let signer = try #require(try fixture.check(signed, SignaturePolicy(gpgKeyring: keyring)).signer)
            #expect(signer.method == .openPGP)
            #expect(signer.name == "Flag Bot <bot@example.com>")
            #expect(signer.key == key.fingerprint)
        }

        let unknown = try #require(try fixture.check(signed, SignaturePolicy(gpgKeyring: stranger.keyringPath)).failure)
        #expect(unknown.reason == .unknownKey)
        #expect(unknown.key == key.fingerprint)

        let notConfigured = SignaturePolicy(allowedSigners: try fixture.allowedSigners([]))
        #expect(try fixture.check(signed, notConfigured).failure?.reason == .unknownKey)

        try fixture.repo.write("flags/production/a.json", FlagText.simple(customer: "Mallory"))
        let other = try fixture.repo.commit("unsigned")
        let grafted = try fixture.objectID(fixture.repo.repository.graftSignature(of: signed.hex, ontoTreeOf: other.hex))
        let bad = try #require(try fixture.check(grafted, SignaturePolicy(gpgKeyring: key.keyringPath)).failure)
        #expect(bad.reason == .badSignature)
        #expect(bad.signer == "Flag Bot <bot@example.com>")
    }

    @Test func testGpgvStatusLinesAreInterpreted() {
        let good = GPGVerifier.interpret(
            statusLines: """
                [GNUPG:] NEWSIG
                [GNUPG:] GOODSIG DC1845BF8F3D3CAC Flag Bot <bot@example.com>
                [GNUPG:] VALIDSIG 52E2 2026-11-30 1796021007 0 4 0 22 8 00 52E27D83BD72528B1CF91A5FDC1845BF8F3D3CAC
                """,
            exitStatus: 0,
            standardError: ""
        )
        #expect(good.signer == Signer(method: .openPGP, name: "Flag Bot <bot@example.com>", key: "52E27D83BD72528B1CF91A5FDC1845BF8F3D3CAC"))
        let expired = GPGVerifier.interpret(statusLines: "[GNUPG:] EXPKEYSIG DC1845BF8F3D3CAC Flag Bot\n", exitStatus: 0, standardError: "")
        #expect(expired.failure?.reason == .badSignature)
        #expect(expired.failure?.message.contains("expired key") == true)
        let goodWithoutValid = GPGVerifier.interpret(statusLines: "[GNUPG:] GOODSIG DC18 Flag Bot\n", exitStatus: 2, standardError: "gpgv: oops\n")
        #expect(goodWithoutValid.failure?.message == "gpgv did not accept the GPG signature: gpgv: oops")
    }
}
