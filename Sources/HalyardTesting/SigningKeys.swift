//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization

/// An SSH key pair made with `ssh-keygen` (no passphrase) for signing test commits with git's `gpg.format=ssh`.
public struct SSHSigningKey: Sendable {
    /// The kinds the tests sign with.
    public enum Kind: String, Sendable, CaseIterable {
        /// An Ed25519 key.
        case ed25519
        /// An ECDSA key on P-256.
        case ecdsaP256 = "ecdsa"
        /// An RSA key (3072 bits, ssh-keygen's default).
        case rsa

        var keygenArguments: [String] {
            switch self {
            case .ed25519: return ["-t", "ed25519"]
            case .ecdsaP256: return ["-t", "ecdsa", "-b", "256"]
            case .rsa: return ["-t", "rsa", "-b", "3072"]
            }
        }
    }

    /// The private key file (its public half is next to it, with `.pub`).
    public let privateKeyPath: String
    /// The public key line, `type base64 comment`.
    public let publicKey: String

    /// Makes a new key pair in `directory`.
    public init(_ kind: Kind, in directory: String, comment: String) throws {
        privateKeyPath = directory + "/id_\(kind.rawValue)_\(UUID().uuidString.prefix(8))"
        try SigningTools.run("/usr/bin/ssh-keygen", ["-q"] + kind.keygenArguments + ["-N", "", "-C", comment, "-f", privateKeyPath])
        publicKey = try String(contentsOfFile: privateKeyPath + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The key's fingerprint as `ssh-keygen -l -E sha256` prints it (`SHA256:…`).
    public func fingerprint() throws -> String {
        let listing = try SigningTools.run("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", privateKeyPath + ".pub"])
        let fields = listing.split(separator: " ")
        guard fields.count > 1 else { throw SigningToolFailure(message: "ssh-keygen -l printed \(listing)") }
        return String(fields[1])
    }

    /// The line of an `allowed_signers` file for `principal`, with optional options (`namespaces="git"`).
    public func allowedSignersLine(principal: String, options: String? = nil) -> String {
        let parts = publicKey.split(separator: " ")
        return ([principal] + (options.map { [$0] } ?? []) + parts.prefix(2).map(String.init)).joined(separator: " ")
    }

    /// The `-c` options that make `git commit -S` sign with this key.
    public var gitOptions: [String] {
        ["-c", "gpg.format=ssh", "-c", "user.signingkey=\(privateKeyPath)"]
    }
}

/// A throwaway GnuPG home with one signing key (ed25519, no passphrase), made with `gpg --batch --gen-key`.
public struct GPGSigningKey: Sendable {
    /// The GnuPG home directory (`GNUPGHOME`).
    public let home: String
    /// The key's fingerprint.
    public let fingerprint: String
    /// The public key exported in binary form: a keyring `gpgv` reads.
    public let keyringPath: String
    /// The public key exported ASCII-armored, as GitHub publishes its web-flow key.
    public let armoredKeyringPath: String

    /// Makes a new key for `name <email>` with its home under `directory`.
    public init(in directory: String, name: String, email: String) throws {
        home = directory + "/gnupg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let parameters = home + "/key-parameters"
        try """
        %no-protection
        Key-Type: EDDSA
        Key-Curve: ed25519
        Name-Real: \(name)
        Name-Email: \(email)
        Expire-Date: 0
        %commit

        """.write(toFile: parameters, atomically: true, encoding: .utf8)
        let environment = ["GNUPGHOME": home]
        try SigningTools.run("/usr/bin/gpg", ["--batch", "--gen-key", parameters], environment: environment)
        let listing = try SigningTools.run("/usr/bin/gpg", ["--batch", "--with-colons", "--list-keys", email], environment: environment)
        guard let line = listing.split(separator: "\n").first(where: { $0.hasPrefix("fpr:") }) else {
            throw SigningToolFailure(message: "gpg listed no fingerprint: \(listing)")
        }
        fingerprint = String(line.split(separator: ":", omittingEmptySubsequences: false)[9])
        keyringPath = home + "/public.gpg"
        armoredKeyringPath = home + "/public.asc"
        try SigningTools.run("/usr/bin/gpg", ["--batch", "--yes", "--output", keyringPath, "--export", fingerprint], environment: environment)
        try SigningTools.run(
            "/usr/bin/gpg",
            ["--batch", "--yes", "--armor", "--output", armoredKeyringPath, "--export", fingerprint],
            environment: environment
        )
    }

    /// The `-c` options that make `git commit -S` sign with this key (run with ``environment``).
    public var gitOptions: [String] {
        ["-c", "gpg.format=openpgp", "-c", "gpg.program=/usr/bin/gpg", "-c", "user.signingkey=\(fingerprint)"]
    }

    /// `GNUPGHOME` for git and gpg.
    public var environment: [String: String] { ["GNUPGHOME": home] }

    /// Stops the gpg-agent that signing started for this home.
    public func stopAgent() {
        _ = try? SigningTools.run("/usr/bin/gpgconf", ["--kill", "all"], environment: environment)
    }
}

extension GitRepository {
    /// Stages everything and commits signed with `key`; returns the commit id.
    @discardableResult
    public func commitSigned(_ message: String, with key: SSHSigningKey) throws -> String {
        try git("add", "-A")
        try git(key.gitOptions + ["commit", "-q", "-S", "--allow-empty", "-m", message])
        return try git("rev-parse", "HEAD")
    }

    /// Stages everything and commits signed with the GnuPG `key`; returns the commit id.
    @discardableResult
    public func commitSigned(_ message: String, with key: GPGSigningKey) throws -> String {
        try git("add", "-A")
        try git(key.gitOptions + ["commit", "-q", "-S", "--allow-empty", "-m", message], environment: key.environment)
        return try git("rev-parse", "HEAD")
    }

    /// Writes a copy of the signed commit `signed` whose tree is that of `treeSource` (the signature grafted onto other
    /// content), points the current branch at it and returns its id. Its signature no longer matches.
    @discardableResult
    public func graftSignature(of signed: String, ontoTreeOf treeSource: String) throws -> String {
        let object = try git("cat-file", "commit", signed) + "\n"
        let tree = try git("rev-parse", treeSource + "^{tree}")
        var lines = object.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let index = lines.firstIndex(where: { $0.hasPrefix("tree ") }) else { throw SigningToolFailure(message: "no tree line in \(signed)") }
        lines[index] = "tree " + tree
        let file = path + "/.git/grafted-commit"
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let id = try git("hash-object", "-w", "-t", "commit", file)
        try git("reset", "-q", "--hard", id)
        return id
    }
}

/// Runs `ssh-keygen`, `gpg` and `gpgconf` for the signing helpers.
enum SigningTools {
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try Git.spawning.withLock { _ in try process.run() }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw SigningToolFailure(message: "\(executable) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(text)")
        }
        return text
    }
}

/// A signing tool that failed, with its output.
public struct SigningToolFailure: Error, CustomStringConvertible {
    /// What failed and what it printed.
    public let message: String
    /// The message.
    public var description: String { message }
}
