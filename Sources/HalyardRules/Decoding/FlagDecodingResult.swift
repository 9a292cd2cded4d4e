/// What decoding one flag file produced: the flag, if the file is valid, and every finding.
///
/// Warnings never prevent a flag; any error does, so `flag` is `nil` exactly when ``hasErrors`` is `true`.
public struct FlagDecodingResult: Sendable {
    /// The validated, normalised flag; `nil` iff there is an error diagnostic.
    public var flag: Flag?
    /// Every error and warning, in document order.
    public var diagnostics: [Diagnostic]

    /// Creates a result.
    public init(flag: Flag?, diagnostics: [Diagnostic]) {
        self.flag = flag
        self.diagnostics = diagnostics
    }

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// The error diagnostics.
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    /// The warning diagnostics.
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
}
