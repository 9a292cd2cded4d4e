//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// Where a ``PostgresStateStore`` connects: `state.url`, `postgres://user@host:port/database`.
///
/// The URL never holds the password (it would end up in logs, process listings and error messages): it comes from
/// `state.passwordFile` or `HALYARD_STATE_PASSWORD`. `?sslmode=disable|prefer|require` chooses TLS (`prefer` by
/// default: TLS when the server offers it).
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// Whether the connection uses TLS.
    public enum TLSMode: String, Sendable {
        /// Never.
        case disable
        /// When the server offers it.
        case prefer
        /// Always; the connection fails without it.
        case require
    }

    /// The host name or address.
    public var host: String
    /// The port, 5432 by default.
    public var port: Int
    /// The user name.
    public var user: String
    /// The database name.
    public var database: String
    /// Whether TLS is used.
    public var tls: TLSMode

    /// Parses `postgres://user@host[:port]/database[?sslmode=…]` (or `postgresql://`).
    ///
    /// - Throws: ``PostgresLocationError`` naming what is wrong; a URL with a password is refused.
    public init(url: String) throws(PostgresLocationError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw PostgresLocationError(url: url, reason: "it is not a URL of the form postgres://user@host:port/database")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw PostgresLocationError(url: url, reason: "the scheme must be postgres:// (or postgresql://)")
        }
        guard components.password == nil else {
            throw PostgresLocationError(
                url: url,
                reason: "it carries a password; remove it from the URL and set state.passwordFile or HALYARD_STATE_PASSWORD instead",
                hidesPassword: true
            )
        }
        guard let user = components.user, !user.isEmpty else {
            throw PostgresLocationError(url: url, reason: "it names no user (postgres://user@host:port/database)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresLocationError(url: url, reason: "it names no host")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresLocationError(url: url, reason: "it names no database (postgres://user@host:port/database)")
        }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode", let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                throw PostgresLocationError(url: url, reason: "the only query parameter understood is sslmode=disable|prefer|require")
            }
            tls = mode
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.database = database.removingPercentEncoding ?? database
        self.tls = tls
    }

    /// `postgres://user@host:port/database`, without password.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "postgres://\(self.user)@\(host):\(self.port)/\(self.database)"
    }
}

/// A `state.url` that cannot be used; the URL is shown without its password.
public struct PostgresLocationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL, its password masked.
    public let url: String
    /// What is wrong with it.
    public let reason: String

    init(url: String, reason: String, hidesPassword: Bool = false) {
        self.url = hidesPassword ? Self.maskingPassword(url) : url
        self.reason = reason
    }

    /// `state.url <url>: <reason>`.
    public var description: String { "state.url \(self.url): \(self.reason)" }

    private static func maskingPassword(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "postgres://***"
    }
}
