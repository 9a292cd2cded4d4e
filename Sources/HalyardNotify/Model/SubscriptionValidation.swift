//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// The checks every subscription passes before it is stored.
enum SubscriptionValidation {
    /// The longest URL accepted.
    static let maxURLLength = 2048

    /// Checks a webhook URL: http or https, a host, no user info, and a host the policy allows.
    static func validateURL(_ url: String, policy: SubscriptionPolicy) throws(NotifyError) {
        guard !url.isEmpty, url.utf8.count <= Self.maxURLLength else {
            throw .invalidURL(url, reason: "it must be 1 to \(Self.maxURLLength) bytes long")
        }
        guard URL(string: url) != nil, let components = URLComponents(string: url) else {
            throw .invalidURL(url, reason: "it is not a valid URL")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw .invalidURL(url, reason: "the scheme must be http or https")
        }
        guard let rawHost = components.host, !rawHost.isEmpty else {
            throw .invalidURL(url, reason: "it has no host")
        }
        guard components.user == nil, components.password == nil else {
            throw .invalidURL(url, reason: "it must not contain a user name or password")
        }
        if let allowedHosts = policy.allowedHosts, !Self.isHost(rawHost, allowedBy: allowedHosts) {
            throw .hostNotAllowed(url)
        }
    }

    /// Whether `host` matches one of `allowedHosts`, case-insensitively; an entry `*.example.com` matches every
    /// subdomain of `example.com`. The deliverer asks again at every attempt (DESIGN §13).
    static func isHost(_ host: String, allowedBy allowedHosts: [String]) -> Bool {
        let host = Self.normalizedHost(host)
        return allowedHosts.contains { pattern in
            let pattern = Self.normalizedHost(pattern)
            if pattern.hasPrefix("*.") {
                return host.hasSuffix(pattern.dropFirst(1))
            }
            return host == pattern
        }
    }

    /// Checks and deduplicates (keeping order) a subscription's environments.
    static func validateEnvironments(_ environments: [String]) throws(NotifyError) -> [String] {
        guard !environments.isEmpty else {
            throw .invalidEnvironments(environments, reason: "at least one environment is required")
        }
        var seen = Set<String>()
        var result: [String] = []
        for environment in environments {
            guard Self.isValidEnvironmentName(environment) else {
                throw .invalidEnvironments(
                    environments,
                    reason: "\"\(environment)\" must match ^[a-z0-9][a-z0-9_-]{0,62}$"
                )
            }
            if seen.insert(environment).inserted {
                result.append(environment)
            }
        }
        return result
    }

    /// Whether a name matches `^[a-z0-9][a-z0-9_-]{0,62}$` (DESIGN §1).
    static func isValidEnvironmentName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        for (index, byte) in bytes.enumerated() {
            let isAlphanumeric = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            if index == 0 {
                guard isAlphanumeric else { return false }
            } else {
                guard isAlphanumeric || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") else { return false }
            }
        }
        return true
    }

    private static func normalizedHost(_ host: String) -> String {
        var host = host.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        if host.hasSuffix(".") {
            host.removeLast()
        }
        return host
    }
}

/// Random identifiers for subscriptions and messages.
enum RandomID {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `prefix` followed by `length` random base-62 characters (24 characters carry about 143 bits).
    static func make(prefix: String, length: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<length).map { _ in Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &generator)] }
        return prefix + String(decoding: characters, as: UTF8.self)
    }
}
