import Foundation

/// The SSH keys allowed to sign commits, read from a file in git's `allowed_signers` format (`ssh-keygen(1)`, ALLOWED
/// SIGNERS): `principals [options] keytype base64-key [comment]` per line.
///
/// Options understood: `namespaces="git,…"` (the entry only counts for the listed namespaces), `valid-after=` and
/// `valid-before=` (`YYYYMMDD[HHMM[SS]][Z]`, compared with the commit's committer time, as git does).
/// `cert-authority` lines are skipped with a warning: Halyard matches signing keys, not certificates.
///
/// ```
/// ada@example.com namespaces="git" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI… ada's laptop
/// ```
public struct AllowedSigners: Sendable {
    /// One usable line of the file.
    public struct Entry: Sendable {
        /// The principals (usually e-mail addresses) the key belongs to.
        public let principals: [String]
        /// The namespaces the entry is limited to; nil for any.
        public let namespaces: [String]?
        /// The earliest commit time the key may sign at.
        public let validAfter: Date?
        /// The latest commit time the key may sign at.
        public let validBefore: Date?
        /// The line number in the file, from 1.
        public let line: Int
        let key: SSHPublicKey

        /// `SHA256:…`, as `ssh-keygen -l` prints it.
        public var fingerprint: String { key.fingerprint }
    }

    /// The usable entries, in file order.
    public let entries: [Entry]
    /// What was skipped and why (`cert-authority` lines), each `path:line: message`.
    public let warnings: [String]

    /// Reads and parses the file at `path`.
    public init(contentsOf path: String) throws(SignatureConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SignatureConfigurationError(path: path, message: "cannot read the allowed signers file")
        }
        try self.init(parsing: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses the text of an allowed signers file; `path` names it in errors.
    public init(parsing text: String, path: String) throws(SignatureConfigurationError) {
        var entries: [Entry] = []
        var warnings: [String] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let number = index + 1
            func failure(_ message: String) -> SignatureConfigurationError {
                SignatureConfigurationError(path: path, line: number, message: message)
            }
            let tokens = Self.tokens(line)
            guard tokens.count >= 3 else { throw failure("expected 'principals [options] keytype base64-key'") }
            let principals = Self.unquoted(tokens[0]).split(separator: ",").map(String.init).filter { !$0.isEmpty }
            guard !principals.isEmpty else { throw failure("no principal") }
            var position = 1
            var options: [(name: String, value: String?)] = []
            if !Self.isKeyType(tokens[1]) {
                options = Self.options(tokens[1])
                position = 2
            }
            guard tokens.count > position + 1 else { throw failure("expected a key type and a base64 key after the options") }
            let type = tokens[position]
            guard let blob = Data(base64Encoded: tokens[position + 1]), let key = SSHPublicKey(blob: Array(blob)) else {
                throw failure("the key is not valid base64")
            }
            guard key.type == type else { throw failure("the key is of type \(key.type), not \(type)") }
            var namespaces: [String]?
            var validAfter: Date?
            var validBefore: Date?
            var certificateAuthority = false
            for option in options {
                switch option.name.lowercased() {
                case "cert-authority":
                    certificateAuthority = true
                case "namespaces":
                    namespaces = (option.value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                case "valid-after":
                    guard let value = option.value, let date = Self.timestamp(value) else {
                        throw failure("valid-after is not YYYYMMDD[HHMM[SS]][Z]")
                    }
                    validAfter = date
                case "valid-before":
                    guard let value = option.value, let date = Self.timestamp(value) else {
                        throw failure("valid-before is not YYYYMMDD[HHMM[SS]][Z]")
                    }
                    validBefore = date
                default:
                    throw failure("unknown option '\(option.name)'")
                }
            }
            if certificateAuthority {
                warnings.append("\(path):\(number): cert-authority lines are ignored: list the signing keys themselves")
                continue
            }
            entries.append(
                Entry(principals: principals, namespaces: namespaces, validAfter: validAfter, validBefore: validBefore, line: number, key: key)
            )
        }
        self.entries = entries
        self.warnings = warnings
    }

    /// The entries for `key`, whatever their namespaces and validity.
    func entries(for key: SSHPublicKey) -> [Entry] {
        entries.filter { $0.key.blob == key.blob }
    }

    // MARK: - Parsing

    /// Splits at whitespace outside double quotes.
    private static func tokens(_ line: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var quoted = false
        for character in line {
            if character == "\"" { quoted.toggle() }
            if character.isWhitespace && !quoted {
                if !current.isEmpty { tokens.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    private static func unquoted(_ token: String) -> String {
        token.count >= 2 && token.hasPrefix("\"") && token.hasSuffix("\"") ? String(token.dropFirst().dropLast()) : token
    }

    private static func isKeyType(_ token: String) -> Bool {
        token.hasPrefix("ssh-") || token.hasPrefix("ecdsa-sha2-") || token.hasPrefix("sk-")
    }

    /// `name[="value"]` pairs separated by commas outside quotes.
    private static func options(_ token: String) -> [(name: String, value: String?)] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        for character in token {
            if character == "\"" { quoted.toggle() }
            if character == "," && !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts.filter { !$0.isEmpty }.map { part in
            guard let equals = part.firstIndex(of: "=") else { return (part, nil) }
            return (String(part[..<equals]), unquoted(String(part[part.index(after: equals)...])))
        }
    }

    /// `YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, in UTC with a trailing `Z`, else in local time (as ssh-keygen).
    static func timestamp(_ text: String) -> Date? {
        var digits = text
        var timeZone = TimeZone.current
        if digits.hasSuffix("Z") || digits.hasSuffix("z") {
            digits.removeLast()
            timeZone = TimeZone(identifier: "UTC")!
        }
        guard [8, 12, 14].contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        let numbers = Array(digits).map { Int(String($0))! }
        func value(_ range: Range<Int>) -> Int { numbers[range].reduce(0) { $0 * 10 + $1 } }
        var components = DateComponents()
        components.year = value(0..<4)
        components.month = value(4..<6)
        components.day = value(6..<8)
        components.hour = digits.count >= 12 ? value(8..<10) : 0
        components.minute = digits.count >= 12 ? value(10..<12) : 0
        components.second = digits.count == 14 ? value(12..<14) : 0
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(from: components)
    }
}

/// A signature verification setting that cannot be used: an unreadable or malformed allowed signers file or keyring,
/// or a missing `gpgv`. It names the file (and line).
public struct SignatureConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The file concerned.
    public let path: String
    /// The line, from 1, when the problem is on one line.
    public let line: Int?
    /// What is wrong.
    public let message: String

    /// Creates an error about `path` (and `line`).
    public init(path: String, line: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    /// `path:line: message`.
    public var description: String {
        "\(path)\(line.map { ":\($0)" } ?? ""): \(message)"
    }
}
