import ArgumentParser
import Foundation
import HalyardGit
import HalyardRules
import HalyardSync

/// The signature settings of the read-only commands (`validate --verify-signatures`, `history`): the keys from
/// `--allowed-signers` / `--gpg-keyring`, else from `HALYARD_REPO_VERIFY_*`, else from `repo.verify.*` in `--config`.
struct SignatureOptions: ParsableArguments {
    @Option(
        name: .customLong("allowed-signers"),
        help: ArgumentHelp("An SSH allowed_signers file of the keys that may sign commits. (repo.verify.allowedSigners)", valueName: "file")
    )
    var allowedSigners: String?

    @Option(
        name: .customLong("gpg-keyring"),
        help: ArgumentHelp("A GPG keyring (binary or armored) of the keys that may sign commits. (repo.verify.gpgKeyring)", valueName: "file")
    )
    var gpgKeyring: String?

    @Option(help: ArgumentHelp("A JSON config file to read repo.verify.* from.", valueName: "file"))
    var config: String?

    /// The policy these options give; disabled when no key file is configured anywhere.
    func policy(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SignaturePolicy {
        var fromFile: [String: String] = [:]
        if let config { fromFile = try Self.verifyKeys(inConfigFile: config) }
        let allowed = allowedSigners ?? environment["HALYARD_REPO_VERIFY_ALLOWED_SIGNERS"] ?? fromFile["allowedSigners"]
        let keyring = gpgKeyring ?? environment["HALYARD_REPO_VERIFY_GPG_KEYRING"] ?? fromFile["gpgKeyring"]
        let policy = SignaturePolicy(allowedSigners: allowed.flatMap { $0.isEmpty ? nil : $0 }, gpgKeyring: keyring.flatMap { $0.isEmpty ? nil : $0 })
        do {
            for warning in try policy.validate() { printError("warning: \(warning)") }
        } catch {
            throw CLIError("\(error)", exitCode: 2)
        }
        return policy
    }

    /// `repo.verify.allowedSigners` and `repo.verify.gpgKeyring` of a JSON config file.
    private static func verifyKeys(inConfigFile path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("config file \(path): cannot read it", exitCode: 2)
        }
        let root: JSONValue
        do {
            root = try JSONValue.parse(Array(data))
        } catch {
            throw CLIError("config file \(path): invalid JSON: \(error)", exitCode: 2)
        }
        guard case .object(let top) = root else { throw CLIError("config file \(path): the top level must be an object", exitCode: 2) }
        guard case .object(let repo)? = top["repo"], case .object(let verify)? = repo["verify"] else { return [:] }
        var keys: [String: String] = [:]
        for (name, value) in verify {
            guard ["allowedSigners", "gpgKeyring"].contains(name) else {
                throw CLIError("config file \(path): unknown key repo.verify.\(name)", exitCode: 2)
            }
            switch value {
            case .string(let file): keys[name] = file
            case .null: continue
            default: throw CLIError("config file \(path): repo.verify.\(name) must be a string", exitCode: 2)
            }
        }
        return keys
    }
}

extension SignatureCheck {
    /// One short word or phrase for text output: `signed by ada@example.com`, `unsigned`, `unknown key …`, `BAD SIGNATURE`.
    var summary: String {
        switch self {
        case .verified(let signer): return "signed by \(signer.name)"
        case .failed(let failure):
            switch failure.reason {
            case .unsigned: return "unsigned"
            case .unknownKey: return "unknown key" + (failure.key.map { " \($0)" } ?? "")
            case .badSignature: return "BAD SIGNATURE" + (failure.signer.map { " by \($0)" } ?? "")
            }
        }
    }

    /// `{"status": "verified"|code, "name"?, "key"?, "method"?}`.
    func write(to json: inout JSONWriter) {
        json.objectStart()
        switch self {
        case .verified(let signer):
            json.key("status")
            json.string("verified")
            json.key("method")
            json.string(signer.method.rawValue)
            json.key("name")
            json.string(signer.name)
            json.key("key")
            json.string(signer.key)
        case .failed(let failure):
            json.key("status")
            json.string(failure.code)
            if let signer = failure.signer {
                json.key("name")
                json.string(signer)
            }
            if let key = failure.key {
                json.key("key")
                json.string(key)
            }
            json.key("message")
            json.string(failure.message)
        }
        json.objectEnd()
    }
}
