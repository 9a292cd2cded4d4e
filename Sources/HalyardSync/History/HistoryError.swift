/// A history question that has no answer, such as a flag that never existed on the branch.
///
/// It names the repository path it concerns, and its ``kind`` lets a caller tell the cases apart without parsing
/// ``message``:
///
/// ```swift
/// do {
///     entries = try history.entries(from: tip, selection: .flag(environment: "production", id: "nope"))
/// } catch let error as HistoryError {
///     if case .flagNeverExisted(let environment, let flag) = error.kind { … }
/// }
/// ```
public struct HistoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why the history has no answer.
    public enum Kind: Sendable, Equatable {
        /// The flag's file never existed on the branch, in any commit walked.
        case flagNeverExisted(environment: String, flag: String)
        /// The environment's directory never existed on the branch, in any commit walked.
        case environmentNeverExisted(environment: String)
    }

    /// Why the history has no answer.
    public let kind: Kind
    /// The path the question was about, relative to the repository root: the flag file
    /// (`flags/production/new-checkout.json`) or the environment's directory, with a trailing slash (`flags/qa/`).
    public let path: String

    /// The flag file `flagsDirectory/environment/flag.json` never existed.
    static func flagNeverExisted(environment: String, flag: String, flagsDirectory: String) -> Self {
        Self(kind: .flagNeverExisted(environment: environment, flag: flag), path: "\(flagsDirectory)/\(environment)/\(flag).json")
    }

    /// The directory `flagsDirectory/environment/` never existed.
    static func environmentNeverExisted(environment: String, flagsDirectory: String) -> Self {
        Self(kind: .environmentNeverExisted(environment: environment), path: "\(flagsDirectory)/\(environment)/")
    }

    /// A sentence for people, naming ``path``.
    public var message: String {
        switch kind {
        case .flagNeverExisted:
            return "\(path) never existed on this branch"
        case .environmentNeverExisted(let environment):
            return "environment '\(environment)' (\(path)) never existed on this branch"
        }
    }

    /// The same as ``message``.
    public var description: String { message }
}
