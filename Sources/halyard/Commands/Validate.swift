import ArgumentParser
import Foundation
import HalyardGit
import HalyardRules
import HalyardSync

/// `halyard validate`: checks every flag file, all or nothing, like the watcher does before applying a commit.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate every flag file of the working tree, or of the tree at a revision.",
        discussion: """
            With --verify-signatures (and --rev), the commit must also carry a valid signature by a key of \
            --allowed-signers or --gpg-keyring (or repo.verify.* from --config or HALYARD_REPO_VERIFY_*), as serve requires.
            Exit status: 0 valid (warnings allowed), 1 invalid, 2 repository or I/O error, 64 usage error.
            """
    )

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "Validate the tree at this revision (sha, branch, tag, HEAD~2) instead of the working tree.")
    var rev: String?

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    @ArgumentParser.Flag(name: .customLong("verify-signatures"), help: "Also require a valid signature by a listed key on the commit (--rev).")
    var verifySignatures = false

    @OptionGroup var signing: SignatureOptions

    func validate() throws {
        if verifySignatures && rev == nil {
            throw ValidationError("--verify-signatures checks a commit: give --rev REV")
        }
    }

    func run() throws {
        try reportingErrors {
            let outcome: (diagnostics: [Diagnostic], flags: Int, environments: Int)
            var signature: SignatureCheck?
            var signatureDiagnostics: [Diagnostic] = []
            do {
                let snapshot: Snapshot
                if let rev {
                    let repo = try repository.openRepository()
                    let commit = try repository.resolve(rev, in: repo)
                    if verifySignatures {
                        let policy = try signing.policy()
                        guard policy.isEnabled else {
                            printError(
                                "error: --verify-signatures needs --allowed-signers or --gpg-keyring (or repo.verify.* in --config)"
                            )
                            throw ExitCode.validationFailure
                        }
                        let check = try policy.check(commit: commit, in: repo)
                        signature = check
                        signatureDiagnostics = check.failure.map { [$0.diagnostic(commit: commit.hex)] } ?? []
                    }
                    snapshot = try repository.loader.load(commit: commit, from: repo)
                } else {
                    snapshot = try repository.loader.loadWorkingTree(at: try repository.workingTreeRoot())
                }
                outcome = (signatureDiagnostics + snapshot.warnings + Self.expiryWarnings(snapshot), snapshot.flagCount, snapshot.environments.count)
            } catch let error as SnapshotError where error.isInvalidFlagSet {
                outcome = (signatureDiagnostics + error.diagnostics, 0, 0)
            } catch let error as SnapshotError {
                throw CLIError(error.description, exitCode: 2)
            }
            let errors = outcome.diagnostics.filter { $0.severity == .error }
            let warnings = outcome.diagnostics.filter { $0.severity == .warning }
            switch format {
            case .json:
                var json = JSONWriter()
                json.objectStart()
                json.key("valid")
                json.bool(errors.isEmpty)
                json.key("errors")
                Self.write(errors, to: &json)
                json.key("warnings")
                Self.write(warnings, to: &json)
                if let signature {
                    json.key("signer")
                    signature.write(to: &json)
                }
                json.objectEnd()
                print(json.text)
            case .text:
                for diagnostic in errors { print("error: " + (diagnostic.code.map { "\($0): " } ?? "") + "\(diagnostic)") }
                for diagnostic in warnings { print("warning: \(diagnostic)") }
                if errors.isEmpty {
                    let source = rev.map { "at \($0)" } ?? "in the working tree"
                    print(
                        "valid: \(outcome.flags) flag\(outcome.flags == 1 ? "" : "s") in \(outcome.environments) environment\(outcome.environments == 1 ? "" : "s") \(source)"
                            + (warnings.isEmpty ? "" : ", \(warnings.count) warning\(warnings.count == 1 ? "" : "s")")
                            + (signature?.signer.map { ", signed by \($0)" } ?? "")
                    )
                } else {
                    print("invalid: \(errors.count) error\(errors.count == 1 ? "" : "s"), \(warnings.count) warning\(warnings.count == 1 ? "" : "s")")
                }
            }
            if !errors.isEmpty { throw ExitCode(1) }
        }
    }

    /// A warning for every flag past `metadata.expires` or with a malformed one (DESIGN §14); the exit status stays.
    private static func expiryWarnings(_ snapshot: Snapshot) -> [Diagnostic] {
        let now = Date()
        return snapshot.environmentNames.flatMap { name -> [Diagnostic] in
            guard let environment = snapshot.environments[name] else { return [] }
            return environment.sortedIDs.compactMap { id -> Diagnostic? in
                environment.flags[id].flatMap { loaded in FlagExpiry(of: loaded.flag)?.warning(file: loaded.file, at: now) }
            }
        }
    }

    /// `[{"file", "pointer", "message", "hint"?, "code"?}, …]`.
    private static func write(_ diagnostics: [Diagnostic], to json: inout JSONWriter) {
        json.arrayStart()
        for diagnostic in diagnostics {
            json.objectStart()
            json.key("file")
            json.string(diagnostic.file)
            json.key("pointer")
            json.string(diagnostic.pointer)
            json.key("message")
            json.string(diagnostic.message)
            if let hint = diagnostic.hint {
                json.key("hint")
                json.string(hint)
            }
            if let code = diagnostic.code {
                json.key("code")
                json.string(code)
            }
            json.objectEnd()
        }
        json.arrayEnd()
    }
}
