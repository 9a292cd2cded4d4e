import Foundation
import HalyardGit
import Testing

/// No token or password in a remote URL survives into a ``GitError`` (DESIGN §13, "Secrets never leak").
struct CredentialRedactionTests {
    @Test(arguments: [
        ("https://x:SECRET@git.example.com/flags.git", "https://x:***@git.example.com/flags.git"),
        ("https://SECRET@git.example.com/flags.git", "https://***@git.example.com/flags.git"),
        ("HTTP://oauth2:SECRET@10.0.0.1:8080", "HTTP://oauth2:***@10.0.0.1:8080"),
        ("http://x:p@ss:w)rd@[::1]:8080/f.git?x=1", "http://x:***@[::1]:8080/f.git?x=1"),
        ("ssh://git:SECRET@host/flags.git", "ssh://git:***@host/flags.git"),
        ("cannot clone 'https://x:SECRET@h/f.git' into /tmp/m", "cannot clone 'https://x:***@h/f.git' into /tmp/m"),
        ("a https://u:SECRET@a/x and b http://SECRET@b", "a https://u:***@a/x and b http://***@b"),
    ])
    func credentialsInURLsAreMasked(text: String, expected: String) {
        #expect(CredentialRedaction.redact(text) == expected)
        #expect(CredentialRedaction.containsCredentials(text))
    }

    @Test(arguments: [
        "ssh://git@github.com/acme/flags.git",
        "git@github.com:acme/flags.git",
        "https://github.com/acme/flags.git",
        "/srv/git/flags.git",
        "file:///srv/git/flags.git",
        "mail grace@example.com about https://github.com/acme/flags.git",
        "https://github.com/acme/flags.git?user=a@b",
    ])
    func textWithoutCredentialsIsUnchanged(text: String) {
        #expect(CredentialRedaction.redact(text) == text)
        #expect(!CredentialRedaction.containsCredentials(text))
    }

    @Test func configuredSecretsAreMasked() {
        let text = "remote said: bad token ghp_0123456789 for x-access-token"
        #expect(CredentialRedaction.redact(text, secrets: ["ghp_0123456789"]) == "remote said: bad token *** for x-access-token")
        #expect(CredentialRedaction.redact("a b c", secrets: ["a"]) == "a b c")
    }

    @Test func aCloneFromAURLWithCredentialsFailsWithoutThem() throws {
        try GitSandbox.with { sandbox in
            // Nothing listens on port 1 of the loopback address, so the clone fails at once.
            let url = "http://x-access-token:SECRET-IN-URL@127.0.0.1:1/flags.git"
            let error = try #require(throws: GitError.self) {
                try Repository.cloneMirror(from: url, to: sandbox.path("mirror.git"), credentials: .token("SECRET-TOKEN"))
            }
            #expect(!error.description.contains("SECRET"), "\(error.description)")
            #expect(!error.operation.contains("SECRET") && !error.message.contains("SECRET"))
            #expect(error.description.contains("http://x-access-token:***@127.0.0.1:1/flags.git"), "\(error.description)")
        }
    }

    @Test func aFetchFromARemoteWithCredentialsInItsURLFailsWithoutThem() throws {
        try GitSandbox.with { sandbox in
            try sandbox.initRepository("work")
            try sandbox.write("{\"active\": true}\n", to: "flags/production/a.json", in: "work")
            try sandbox.commit("First", in: "work", time: 1_700_000_000)
            try sandbox.git("clone", "-q", "--bare", sandbox.path("work"), sandbox.path("upstream.git"), in: "")
            let mirror = try Repository.cloneMirror(from: sandbox.path("upstream.git"), to: sandbox.path("mirror.git"), credentials: nil)
            try sandbox.git("remote", "set-url", "origin", "https://ghp_SECRETTOKEN@127.0.0.1:1/flags.git", in: "mirror.git")
            let error = try #require(throws: GitError.self) { try mirror.fetch() }
            #expect(!error.description.contains("SECRET"), "\(error.description)")
            #expect(error.description.contains("https://***@127.0.0.1:1/flags.git"), "\(error.description)")
        }
    }
}
