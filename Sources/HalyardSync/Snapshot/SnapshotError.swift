import HalyardGit
import HalyardRules

/// Why a snapshot could not be built: the flag set is invalid, or git or the file system failed.
///
/// An invalid flag set carries every diagnostic, so a rejected commit can be shown whole.
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case invalid([Diagnostic])
        case git(GitError)
        case io(path: String, message: String)
    }

    private let kind: Kind

    /// The flag set has at least one error; `diagnostics` holds errors and warnings.
    public static func invalid(_ diagnostics: [Diagnostic]) -> Self { .init(kind: .invalid(diagnostics)) }
    /// libgit2 failed.
    public static func git(_ error: GitError) -> Self { .init(kind: .git(error)) }
    /// The file system failed at `path`.
    public static func io(path: String, message: String) -> Self { .init(kind: .io(path: path, message: message)) }

    /// The validation findings, when the flag set is invalid; empty otherwise.
    public var diagnostics: [Diagnostic] {
        if case .invalid(let diagnostics) = kind { return diagnostics }
        return []
    }

    /// Only the error-severity findings.
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    /// True when the flag set itself is invalid (as opposed to git or I/O failing).
    public var isInvalidFlagSet: Bool {
        if case .invalid = kind { return true }
        return false
    }

    /// The git error, if git failed.
    public var gitError: GitError? {
        if case .git(let error) = kind { return error }
        return nil
    }

    /// One line: the error count and the first error, the git error, or the path and what failed there.
    public var description: String {
        switch kind {
        case .invalid(let diagnostics):
            let errors = diagnostics.filter { $0.severity == .error }
            return "invalid flag set: \(errors.count) error\(errors.count == 1 ? "" : "s")"
                + (errors.first.map { "; first: \($0)" } ?? "")
        case .git(let error):
            return error.description
        case .io(let path, let message):
            return "\(path): \(message)"
        }
    }
}
