/// Why a text is not valid JSON, and where.
///
/// Flag files are edited by hand, so a parse error must point at the spot: ``line`` and ``column`` are 1-based,
/// and the column counts Unicode scalars (what an editor shows), not bytes.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line of the problem.
    public let line: Int
    /// The 1-based column of the problem, in Unicode scalars.
    public let column: Int
    /// What is wrong, e.g. `expected ',' or '}' after an object member`.
    public let message: String

    /// Creates an error at a position.
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line 3, column 14: expected ',' or '}' after an object member`.
    public var description: String { "line \(line), column \(column): \(message)" }
}
