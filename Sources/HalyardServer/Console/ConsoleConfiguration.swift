//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// How `halyard serve` serves the web console under `/ui` (DESIGN §12).
public struct ConsoleConfiguration: Sendable, Equatable {
    /// Whether the console is served at all (`ui.enabled`, on by default). Off, every `/ui` path is 404.
    public var enabled: Bool
    /// Whether the console's cookies carry `Secure`: set it when clients reach the server over HTTPS (a configured
    /// `http.publicURL` that is `https://…`). A request that itself arrives over TLS gets `Secure` cookies anyway.
    public var secureCookies: Bool

    /// Creates the console settings; by default the console is on and its cookies follow the request's scheme.
    public init(enabled: Bool = true, secureCookies: Bool = false) {
        self.enabled = enabled
        self.secureCookies = secureCookies
    }
}
