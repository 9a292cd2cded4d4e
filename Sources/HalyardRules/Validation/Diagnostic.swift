/// How serious a validation finding is.
///
/// Errors make a file (and so the whole commit) invalid; warnings are reported but never block a deploy.
public enum Severity: String, Sendable, Codable {
    /// The file is invalid; the commit is rejected.
    case error
    /// The file is valid, but something deserves attention (a deprecated form, unstable buckets).
    case warning
}

/// One validation finding: `file: /json/pointer: message` (+ hint).
///
/// Validation reports every problem at once (DESIGN §3), so a finding names the file, the exact place inside it as an
/// RFC 6901 JSON pointer, what is wrong, and, where it helps, how to fix it.
///
/// ```swift
/// let diagnostic = Diagnostic(
///     severity: .error, file: "flags/production/x.json", pointer: "/rules/0/1/operator",
///     message: #"unknown operator "=""#, hint: #"use "==""#
/// )
/// print(diagnostic)  // flags/production/x.json: /rules/0/1/operator: unknown operator "=" (hint: use "==")
/// ```
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Whether the finding blocks the commit.
    public var severity: Severity
    /// The file, as given to the decoder (usually relative to the repository root).
    public var file: String
    /// The RFC 6901 pointer to the offending value; `""` is the whole document.
    public var pointer: String
    /// What is wrong, in lower case and without a trailing period.
    public var message: String
    /// How to fix it, when there is something useful to say.
    public var hint: String?
    /// A stable code for findings that tools match on (`unsigned-commit`, `unknown-signing-key`, `bad-signature`);
    /// nil for flag validation findings.
    public var code: String?

    /// Creates a finding.
    public init(severity: Severity, file: String, pointer: String, message: String, hint: String? = nil, code: String? = nil) {
        self.severity = severity
        self.file = file
        self.pointer = pointer
        self.message = message
        self.hint = hint
        self.code = code
    }

    /// `file: /pointer: message (hint: …)`, where the whole-document pointer `""` prints as `/`.
    public var description: String {
        var text = "\(file): \(pointer.isEmpty ? "/" : pointer): \(message)"
        if let hint { text += " (hint: \(hint))" }
        return text
    }
}
