//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// Why a ``HalyardClient`` could not be made, could not read a flag set or is not ready; each error names what it
/// concerns (a URL, a file, a secret's position).
///
/// Evaluation never throws: these errors only reach the application from
/// ``HalyardClient/init(configuration:httpClient:logger:)`` and ``HalyardClient/waitUntilReady(timeout:)``; the
/// others are logged and counted.
public struct HalyardClientError: Error, Sendable, CustomStringConvertible {
    /// The kinds of error; more may be added.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String {
            case invalidConfiguration, invalidSecret, badFlagSet, badResponse, notReady, cacheFile
        }

        private let value: Value

        /// A configuration value is unusable (base URL, environment, update mode without secrets).
        public static let invalidConfiguration = Kind(value: .invalidConfiguration)
        /// A webhook secret is not `whsec_` followed by base64.
        public static let invalidSecret = Kind(value: .invalidSecret)
        /// A flag set (from Halyard or from the cache file) is not a valid one.
        public static let badFlagSet = Kind(value: .badFlagSet)
        /// Halyard answered with an unexpected status.
        public static let badResponse = Kind(value: .badResponse)
        /// The client had no flags when ``HalyardClient/waitUntilReady(timeout:)`` gave up.
        public static let notReady = Kind(value: .notReady)
        /// The cache file cannot be written.
        public static let cacheFile = Kind(value: .cacheFile)

        /// The kind's name.
        public var description: String { value.rawValue }
    }

    /// What went wrong.
    public let kind: Kind
    /// What the error concerns: a URL, a file path, a configuration key.
    public let subject: String
    /// A sentence that says what is wrong.
    public let message: String

    /// Creates an error.
    public init(_ kind: Kind, subject: String, message: String) {
        self.kind = kind
        self.subject = subject
        self.message = message
    }

    /// `<subject>: <message>`.
    public var description: String { "\(subject): \(message)" }
}
