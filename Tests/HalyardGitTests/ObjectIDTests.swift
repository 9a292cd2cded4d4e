import Foundation
import HalyardGit
import Testing

struct ObjectIDTests {
    let hex = "0123456789abcdef0123456789abcdef01234567"

    @Test func hexRoundTrip() throws {
        let id = try #require(ObjectID(hex: hex))
        #expect(id.hex == hex)
        #expect(id.description == hex)
        #expect(id.shortHex == "0123456")
        #expect(ObjectID(hex: hex.uppercased()) == id)
    }

    @Test(arguments: [
        "", "0123456", "0123456789abcdef0123456789abcdef0123456", "0123456789abcdef0123456789abcdef012345678",
        "g123456789abcdef0123456789abcdef01234567",
    ])
    func rejectsAnythingButFortyHexDigits(_ text: String) {
        #expect(ObjectID(hex: text) == nil)
    }

    @Test func hashableAndCodable() throws {
        let id = try #require(ObjectID(hex: hex))
        let other = try #require(ObjectID(hex: "f" + hex.dropFirst()))
        #expect(Set([id, id, other]).count == 2)
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == "[\"\(hex)\"]")
        #expect(try JSONDecoder().decode([ObjectID].self, from: data) == [id])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ObjectID].self, from: Data("[\"abc\"]".utf8)) }
    }

    @Test func credentialsDescriptionsHideSecrets() {
        let token = Credentials.token("ghp_secret")
        #expect(token.username == "x-access-token")
        #expect(!token.description.contains("ghp_secret"))
        let key = Credentials.sshKey(privateKeyPath: "/keys/id_ed25519", passphrase: "hunter2")
        #expect(key.username == "git")
        #expect(!key.description.contains("hunter2"))
        #expect(key.description.contains("/keys/id_ed25519"))
    }

    @Test func errorDescriptionIsOneLine() {
        let error = GitError(code: -3, errorClass: 4, message: "revspec 'nope' not found", operation: "resolve revision 'nope' in /tmp/r")
        #expect(error.description == "cannot resolve revision 'nope' in /tmp/r: revspec 'nope' not found")
        #expect(error.isNotFound)
        #expect(!error.isAuthenticationFailure)
    }
}
