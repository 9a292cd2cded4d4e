//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// Why an override request was refused, with what it concerns; the HTTP API maps ``kind`` to a status.
public struct OverrideError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The request is malformed or names a setting the flag cannot take (400).
        case badRequest
        /// No such environment, flag or override (404).
        case notFound
        /// Another override of the flag is open, or the override has already ended (409).
        case conflict
        /// No commit is served yet (503).
        case notReady
        /// The state store failed (500, logged).
        case store
    }

    /// What went wrong.
    public let kind: Kind
    /// A sentence naming the environment, flag or override concerned.
    public let message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
