import Configuration
import Foundation
import HalyardGit
import HalyardNotify
import HalyardRules
import HalyardServer
import HalyardService
import HalyardSync

/// Everything `halyard serve` reads at start-up, from CLI flags over `HALYARD_*` environment variables over the JSON
/// config file (DESIGN §8).
struct ServeConfiguration: Sendable {
    var repoURL = "."
    var branch: String?
    var flagsDirectory = "flags"
    var pollInterval: Duration = .seconds(30)
    var repoToken: String?
    var repoUsername: String?
    var sshPrivateKey: String?
    var sshPublicKey: String?
    var sshPassphrase: String?
    /// `repo.tls.caFile`: extra CA certificates (PEM) for an HTTPS remote.
    var tlsCAFile: String?
    /// `repo.auth.knownHosts`: the known_hosts file an SSH remote's host key must be listed in.
    var knownHostsFile: String?
    /// `repo.verify.allowedSigners`, `repo.verify.gpgKeyring`: the keys every applied commit must be signed by.
    var signatures = SignaturePolicy()
    /// What reading the signature settings skipped (`cert-authority` lines), logged at start-up.
    var signatureWarnings: [String] = []
    var host = "127.0.0.1"
    var port = 8080
    var publicURL: String?
    var dataDirectory = ".halyard"
    var adminToken: String?
    var readTokens: [String] = []
    var gitHookSecret: String?
    var allowedHosts: [String]?
    var allowPrivateNetworks = false
    var subscriptions: [StaticSubscription] = []
    var logLevel = "info"
    var limits = HTTPLimits()
    /// `state.url`: the PostgreSQL database shared by replicas; `nil` keeps the state in SQLite.
    var stateURL: String?
    /// The PostgreSQL password, from `state.passwordFile` or `HALYARD_STATE_PASSWORD`.
    var statePassword: String?
    /// `state.claimLease`: how long a replica's claim on a message it sends lasts (5 s to 1 h).
    var claimLease: Duration = ServiceConfiguration.State.defaultClaimLease
    /// `ui.enabled`: whether the web console is served under `/ui`.
    var uiEnabled = true

    /// Every key Halyard understands, with its kind, in the dotted form of the config file.
    static let keys: [String: Kind] = [
        "repo.url": .string, "repo.branch": .string, "repo.flagsDir": .string, "repo.pollInterval": .duration,
        "repo.auth.token": .string, "repo.auth.tokenFile": .string, "repo.auth.username": .string,
        "repo.auth.sshKey": .string, "repo.auth.sshPublicKey": .string, "repo.auth.sshPassphrase": .string,
        "repo.auth.knownHosts": .string, "repo.tls.caFile": .string,
        "repo.verify.allowedSigners": .string, "repo.verify.gpgKeyring": .string,
        "http.host": .string, "http.port": .int, "http.publicURL": .string,
        "dataDir": .string,
        "auth.adminToken": .string, "auth.readTokens": .stringArray, "auth.gitHookSecret": .string,
        "notify.allowedHosts": .stringArray, "notify.allowPrivateNetworks": .bool,
        "subscriptions": .subscriptions,
        "log.level": .string,
        "limits.requestBody": .size, "limits.contextBody": .size, "limits.contextAttributes": .int,
        "limits.idleTimeout": .duration, "limits.maxConnections": .int, "limits.maxStreams": .int,
        "state.url": .string, "state.passwordFile": .string, "state.claimLease": .duration,
        "ui.enabled": .bool,
    ]

    enum Kind { case string, int, duration, stringArray, subscriptions, bool, size }

    /// Reads the configuration.
    ///
    /// - Parameters:
    ///   - overrides: values given as CLI flags, by dotted key.
    ///   - file: the JSON config file, if any.
    ///   - environment: the process environment.
    /// - Throws: `CLIError` (exit 2) naming the key and what is wrong with it.
    static func load(overrides: [String: String], file: String?, environment: [String: String]) async throws -> ServeConfiguration {
        var providers: [any ConfigProvider] = []
        var cliValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in overrides {
            cliValues[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = ConfigValue(.string(value), isSecret: false)
        }
        providers.append(InMemoryProvider(name: "command line", values: cliValues))
        try checkEnvironment(environment)
        providers.append(
            EnvironmentVariablesProvider(
                environmentVariables: environment.filter { $0.key.hasPrefix("HALYARD_") },
                secretsSpecifier: .dynamic { key, _ in key.contains("TOKEN") || key.contains("SECRET") || key.contains("PASS") }
            ).prefixKeys(with: "halyard")
        )
        var fileSubscriptions: [StaticSubscription] = []
        if let file {
            // Read by hand rather than with FileProvider<JSONSnapshot>, which rejects the whole file because
            // `subscriptions` is an array of objects, a shape swift-configuration cannot represent.
            let contents = try checkFile(file)
            fileSubscriptions = contents.subscriptions
            providers.append(InMemoryProvider(name: "config file \(file)", values: contents.values))
        }
        let reader = ConfigReader(providers: providers)
        var config = ServeConfiguration()
        func string(_ key: String) throws -> String? {
            if let value = reader.string(forKey: ConfigKey(key)) { return value }
            if reader.int(forKey: ConfigKey(key)) != nil || reader.double(forKey: ConfigKey(key)) != nil || reader.bool(forKey: ConfigKey(key)) != nil
            {
                throw CLIError("configuration key \(key): expected a string", exitCode: 2)
            }
            return nil
        }
        func strings(_ key: String) throws -> [String]? {
            if let values = reader.stringArray(forKey: ConfigKey(key)) { return values.filter { !$0.isEmpty } }
            if let value = reader.string(forKey: ConfigKey(key)) {
                return value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            return nil
        }
        config.repoURL = try string("repo.url") ?? config.repoURL
        try checkNoCredentials(inRepoURL: config.repoURL)
        config.branch = try string("repo.branch")
        config.flagsDirectory = try string("repo.flagsDir") ?? config.flagsDirectory
        if let interval = try duration(reader, "repo.pollInterval") { config.pollInterval = interval }
        config.repoToken = try string("repo.auth.token")
        if config.repoToken == nil, let tokenFile = try string("repo.auth.tokenFile") {
            guard let contents = FileManager.default.contents(atPath: tokenFile), let token = String(data: contents, encoding: .utf8) else {
                throw CLIError("configuration key repo.auth.tokenFile: cannot read \(tokenFile)", exitCode: 2)
            }
            config.repoToken = token.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        config.repoUsername = try string("repo.auth.username")
        config.sshPrivateKey = try string("repo.auth.sshKey")
        config.sshPublicKey = try string("repo.auth.sshPublicKey")
        config.sshPassphrase = try string("repo.auth.sshPassphrase")
        config.tlsCAFile = try readableFile(string("repo.tls.caFile"), key: "repo.tls.caFile")
        config.knownHostsFile = try readableFile(string("repo.auth.knownHosts"), key: "repo.auth.knownHosts")
        config.signatures = SignaturePolicy(
            allowedSigners: try readableFile(string("repo.verify.allowedSigners"), key: "repo.verify.allowedSigners"),
            gpgKeyring: try readableFile(string("repo.verify.gpgKeyring"), key: "repo.verify.gpgKeyring")
        )
        do {
            config.signatureWarnings = try config.signatures.validate()
        } catch {
            throw CLIError("configuration key repo.verify: \(error)", exitCode: 2)
        }
        config.host = try string("http.host") ?? config.host
        if let port = reader.int(forKey: "http.port") {
            config.port = port
        } else if let raw = try string("http.port") {
            guard let port = Int(raw) else { throw CLIError("configuration key http.port: '\(raw)' is not a port number", exitCode: 2) }
            config.port = port
        }
        guard (0...65535).contains(config.port) else {
            throw CLIError("configuration key http.port: \(config.port) is not a port number (0-65535)", exitCode: 2)
        }
        config.publicURL = try string("http.publicURL")
        config.dataDirectory = try string("dataDir") ?? config.dataDirectory
        config.adminToken = try string("auth.adminToken")
        config.readTokens = try strings("auth.readTokens") ?? []
        config.gitHookSecret = try string("auth.gitHookSecret")
        config.allowedHosts = try strings("notify.allowedHosts")
        if let allow = reader.bool(forKey: "notify.allowPrivateNetworks") {
            config.allowPrivateNetworks = allow
        } else if let raw = reader.string(forKey: "notify.allowPrivateNetworks") ?? reader.int(forKey: "notify.allowPrivateNetworks").map(String.init) {
            throw CLIError("configuration key notify.allowPrivateNetworks: '\(raw)' is not true or false", exitCode: 2)
        }
        if let enabled = reader.bool(forKey: "ui.enabled") {
            config.uiEnabled = enabled
        } else if let raw = reader.string(forKey: "ui.enabled") ?? reader.int(forKey: "ui.enabled").map(String.init) {
            throw CLIError("configuration key ui.enabled: '\(raw)' is not true or false", exitCode: 2)
        }
        config.logLevel = try string("log.level") ?? config.logLevel
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(config.logLevel) else {
            throw CLIError("configuration key log.level: '\(config.logLevel)' is not a log level (trace … critical)", exitCode: 2)
        }
        config.subscriptions = fileSubscriptions
        config.limits = try limits(reader)
        try state(&config, string, environment: environment)
        config.claimLease = try claimLease(reader) ?? config.claimLease
        return config
    }

    /// The `limits.*` keys (DESIGN §13), each checked to be a positive size, count or duration.
    private static func limits(_ reader: ConfigReader) throws -> HTTPLimits {
        var limits = HTTPLimits()
        if let bytes = try size(reader, "limits.requestBody") { limits.requestBody = bytes }
        if let bytes = try size(reader, "limits.contextBody") { limits.contextBody = bytes }
        if let count = try count(reader, "limits.contextAttributes") { limits.contextAttributes = count }
        if let timeout = try duration(reader, "limits.idleTimeout") { limits.idleTimeout = timeout }
        if let count = try count(reader, "limits.maxConnections") { limits.maxConnections = count }
        if let count = try count(reader, "limits.maxStreams") { limits.maxStreams = count }
        return limits
    }

    /// `state.url` (checked: a PostgreSQL URL without password) and the password, from `state.passwordFile` or else
    /// `HALYARD_STATE_PASSWORD`.
    private static func state(
        _ config: inout ServeConfiguration,
        _ string: (String) throws -> String?,
        environment: [String: String]
    ) throws {
        guard let url = try string("state.url"), !url.isEmpty else { return }
        do {
            _ = try PostgresLocation(url: url)
        } catch {
            throw CLIError("configuration key \(error)", exitCode: 2)
        }
        config.stateURL = url
        if let file = try string("state.passwordFile") {
            guard let contents = FileManager.default.contents(atPath: file), let password = String(data: contents, encoding: .utf8) else {
                throw CLIError("configuration key state.passwordFile: cannot read \(file)", exitCode: 2)
            }
            config.statePassword = password.trimmingCharacters(in: .newlines)
        } else if let password = environment["HALYARD_STATE_PASSWORD"], !password.isEmpty {
            config.statePassword = password
        }
    }

    /// `state.claimLease`, a duration from 5 s to 1 h.
    private static func claimLease(_ reader: ConfigReader) throws -> Duration? {
        guard let lease = try duration(reader, "state.claimLease") else { return nil }
        let range = ServiceConfiguration.State.claimLeaseRange
        guard range.contains(lease) else {
            throw CLIError(
                "configuration key state.claimLease: \(Self.describe(lease)) is out of range: use 5s to 1h "
                    + "(longer than an attempt of 10 s and its recording, shorter than a replica's failover should take)",
                exitCode: 2
            )
        }
        return lease
    }

    /// `"2.5s"`: a duration in seconds, as the error messages show it.
    private static func describe(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%gs", seconds)
    }

    // MARK: - Checks swift-configuration leaves to us

    /// A file the service reads later (a CA file, a known_hosts file), checked now so that a typo fails at start-up
    /// with the key's name rather than at the first fetch.
    private static func readableFile(_ path: String?, key: String) throws -> String? {
        guard let path else { return nil }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CLIError("configuration key \(key): cannot read \(path)", exitCode: 2)
        }
        return path
    }

    /// Refuses a `repo.url` with a token or password in its user info: it would end up in the mirror's git config, in
    /// libgit2's messages and in logs. The error shows the URL with the secret masked.
    private static func checkNoCredentials(inRepoURL url: String) throws {
        guard CredentialRedaction.containsCredentials(url) else { return }
        throw CLIError(
            "configuration key repo.url: \(CredentialRedaction.redact(url)) carries credentials; remove them from the URL "
                + "and set repo.auth.token or repo.auth.tokenFile (HALYARD_REPO_AUTH_TOKEN, HALYARD_REPO_AUTH_TOKEN_FILE) "
                + "instead, with repo.auth.username for the user name",
            exitCode: 2
        )
    }

    private static func duration(_ reader: ConfigReader, _ key: String) throws -> Duration? {
        if let seconds = reader.double(forKey: ConfigKey(key)) { return try duration(seconds: seconds, key: key) }
        if let seconds = reader.int(forKey: ConfigKey(key)) { return try duration(seconds: Double(seconds), key: key) }
        guard let raw = reader.string(forKey: ConfigKey(key)) else { return nil }
        guard let parsed = parseDuration(raw) else {
            throw CLIError("configuration key \(key): '\(raw)' is not a duration (use seconds, or 500ms, 30s, 5m, 1h)", exitCode: 2)
        }
        return try duration(seconds: parsed, key: key)
    }

    /// A size in bytes: a number, or a string such as `"65536"`, `"64KiB"`, `"1MiB"` or `"1GiB"`.
    private static func size(_ reader: ConfigReader, _ key: String) throws -> Int? {
        let value: Int
        if let bytes = reader.int(forKey: ConfigKey(key)) {
            value = bytes
        } else if let raw = reader.string(forKey: ConfigKey(key)) {
            guard let bytes = parseSize(raw) else {
                throw CLIError("configuration key \(key): '\(raw)' is not a size (use bytes, or 64KiB, 1MiB, 1GiB)", exitCode: 2)
            }
            value = bytes
        } else if reader.double(forKey: ConfigKey(key)) != nil {
            throw CLIError("configuration key \(key): a size must be a whole number of bytes (or 64KiB, 1MiB, 1GiB)", exitCode: 2)
        } else {
            return nil
        }
        guard value > 0, value <= 1 << 30 else {
            throw CLIError("configuration key \(key): a size must be between 1 byte and 1GiB", exitCode: 2)
        }
        return value
    }

    /// Parses `"65536"`, `"512B"`, `"64KiB"`, `"1MiB"` or `"1GiB"`; `nil` for anything else.
    static func parseSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)] where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let count = Int(number), count >= 0 else { return nil }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: scale)
            return overflow ? nil : bytes
        }
        return Int(trimmed)
    }

    /// A positive whole number.
    private static func count(_ reader: ConfigReader, _ key: String) throws -> Int? {
        let value: Int
        if let number = reader.int(forKey: ConfigKey(key)) {
            value = number
        } else if let raw = reader.string(forKey: ConfigKey(key)) {
            guard let number = Int(raw.trimmingCharacters(in: .whitespaces)) else {
                throw CLIError("configuration key \(key): '\(raw)' is not a whole number", exitCode: 2)
            }
            value = number
        } else if reader.double(forKey: ConfigKey(key)) != nil {
            throw CLIError("configuration key \(key): expected a whole number", exitCode: 2)
        } else {
            return nil
        }
        guard value > 0 else {
            throw CLIError("configuration key \(key): must be at least 1, not \(value)", exitCode: 2)
        }
        return value
    }

    private static func duration(seconds: Double, key: String) throws -> Duration {
        guard seconds > 0, seconds.isFinite else {
            throw CLIError("configuration key \(key): a duration must be positive", exitCode: 2)
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Parses `"500ms"`, `"30s"`, `"5m"`, `"1h"` or a plain number of seconds.
    static func parseDuration(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where trimmed.hasSuffix(suffix) {
            return Double(trimmed.dropLast(suffix.count)).map { $0 * scale }
        }
        return Double(trimmed)
    }

    private static func envName(_ key: String) -> String {
        var name = "HALYARD_"
        var previousLower = false
        for character in key {
            if character == "." {
                name += "_"
                previousLower = false
                continue
            }
            if character.isUppercase && previousLower { name += "_" }
            name += character.uppercased()
            previousLower = character.isLowercase
        }
        return name
    }

    private static func checkEnvironment(_ environment: [String: String]) throws {
        let known = Set(keys.filter { $0.value != .subscriptions }.keys.map(envName))
        for name in environment.keys.sorted() where name.hasPrefix("HALYARD_") && !known.contains(name) {
            // The test harness's own variables (HALYARD_TEST_POSTGRES_URL) reach the processes the tests start.
            if name.hasPrefix("HALYARD_INTEROP") || name.hasPrefix("HALYARD_TEST_") || name == "HALYARD_HTTP_PORT_FILE" { continue }
            if name == "HALYARD_STATE_PASSWORD" { continue }
            if name == envName("subscriptions") {
                throw CLIError(
                    "\(name) is not read: subscriptions are set in the config file only (\"subscriptions\": [{url, environments, secret}])"
                        + ", or at run time with POST /v1/subscriptions",
                    exitCode: 2
                )
            }
            let suggestion = Suggestion.nearest(to: name, among: known)
            throw CLIError("unknown environment variable \(name)" + (suggestion.map { " (did you mean \($0)?)" } ?? ""), exitCode: 2)
        }
    }

    /// Checks the file for unknown keys, and reads its values by dotted key and its `subscriptions`.
    private static func checkFile(_ path: String) throws -> (values: [AbsoluteConfigKey: ConfigValue], subscriptions: [StaticSubscription]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("config file \(path): cannot read it", exitCode: 2)
        }
        let root: JSONValue
        do {
            root = try JSONValue.parse(Array(data))
        } catch {
            throw CLIError("config file \(path): invalid JSON: \(error)", exitCode: 2)
        }
        guard case .object(let object) = root else {
            throw CLIError("config file \(path): the top level must be an object", exitCode: 2)
        }
        var subscriptions: [StaticSubscription] = []
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        func walk(_ object: [String: JSONValue], prefix: String) throws {
            for (name, value) in object {
                let key = prefix.isEmpty ? name : prefix + "." + name
                if let kind = keys[key] {
                    if kind == .subscriptions {
                        subscriptions = try parseSubscriptions(value, file: path)
                    } else if let content = try configContent(value, key: key, file: path) {
                        let lowered = key.lowercased()
                        let isSecret = ["token", "secret", "passphrase"].contains { lowered.contains($0) }
                        values[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = ConfigValue(content, isSecret: isSecret)
                    }
                    continue
                }
                if case .object(let nested) = value, keys.keys.contains(where: { $0.hasPrefix(key + ".") }) {
                    try walk(nested, prefix: key)
                    continue
                }
                let suggestion = Suggestion.nearest(to: key, among: keys.keys)
                throw CLIError(
                    "config file \(path): unknown key \(key)" + (suggestion.map { " (did you mean \($0)?)" } ?? ""),
                    exitCode: 2
                )
            }
        }
        try walk(object, prefix: "")
        return (values, subscriptions)
    }

    /// A JSON value of the config file as swift-configuration content; `nil` for `null` (the key is unset).
    private static func configContent(_ value: JSONValue, key: String, file: String) throws -> ConfigContent? {
        switch value {
        case .null:
            return nil
        case .string(let string):
            return .string(string)
        case .bool(let bool):
            return .bool(bool)
        case .number(let number):
            if number.isInteger, let integer = number.int64.flatMap({ Int(exactly: $0) }) { return .int(integer) }
            return .double(number.double)
        case .array(let items):
            let strings: [String] = try items.map {
                guard case .string(let string) = $0 else {
                    throw CLIError("config file \(file): \(key) must be a string or an array of strings", exitCode: 2)
                }
                return string
            }
            return .stringArray(strings)
        case .object:
            throw CLIError("config file \(file): \(key) must not be an object", exitCode: 2)
        }
    }

    private static func parseSubscriptions(_ value: JSONValue, file: String) throws -> [StaticSubscription] {
        guard case .array(let items) = value else {
            throw CLIError("config file \(file): subscriptions must be an array of {url, environments, secret}", exitCode: 2)
        }
        return try items.enumerated().map { index, item in
            guard case .object(let fields) = item, case .string(let url)? = fields["url"], case .string(let secret)? = fields["secret"],
                case .array(let environments)? = fields["environments"]
            else {
                throw CLIError("config file \(file): subscriptions[\(index)] needs url, environments and secret", exitCode: 2)
            }
            if let unknown = fields.keys.first(where: { !["url", "environments", "secret"].contains($0) }) {
                throw CLIError("config file \(file): subscriptions[\(index)]: unknown key \(unknown)", exitCode: 2)
            }
            let names: [String] = try environments.map {
                guard case .string(let name) = $0 else {
                    throw CLIError("config file \(file): subscriptions[\(index)].environments must be strings", exitCode: 2)
                }
                return name
            }
            return StaticSubscription(url: url, environments: names, secret: secret)
        }
    }
}
