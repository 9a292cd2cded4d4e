/// Where a path inside the flags directory sits in the layout of DESIGN §1.
///
/// `flags/<environment>/<flag-id>.json` is a flag; other files are ignored, except `.json` files in the wrong place or
/// with invalid names, which are errors, so that a misplaced flag never silently goes missing.
public enum FlagPath {
    /// The largest flag file accepted: 1 MiB (``RepositoryLimits/fileSize``).
    public static var maximumFileSize: Int { RepositoryLimits.standard.fileSize }

    /// Whether `name` is a valid environment name: `^[a-z0-9][a-z0-9_-]{0,62}$`.
    public static func isValidEnvironment(_ name: String) -> Bool {
        isValidEnvironment(name.utf8)
    }

    private static func isValidEnvironment(_ bytes: some Collection<UInt8>) -> Bool {
        guard (1...63).contains(bytes.count), let first = bytes.first, isLowerAlphanumeric(first) else { return false }
        return bytes.dropFirst().allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// Whether `id` is a valid flag id: `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`.
    public static func isValidFlagID(_ id: String) -> Bool {
        isValidFlagID(id.utf8)
    }

    private static func isValidFlagID(_ bytes: some Collection<UInt8>) -> Bool {
        guard (1...128).contains(bytes.count), let first = bytes.first, isAlphanumeric(first) else { return false }
        return bytes.dropFirst().allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    /// How a file inside the flags directory is treated.
    public enum Classification: Sendable, Equatable {
        /// A flag file: `<environment>/<id>.json`.
        case flag(environment: String, id: String)
        /// Not a flag file and not a mistake (a README, `.gitkeep`, anything that is not `.json`).
        case ignored
        /// A `.json` file that cannot be a flag: in the wrong place or badly named.
        case invalid(message: String, hint: String?)
    }

    /// Classifies a path relative to the flags directory, e.g. `"production/new-checkout.json"`.
    ///
    /// Non-`.json` files anywhere are ``Classification/ignored``; a `.json` file directly in the flags directory or
    /// deeper than `<env>/`, or with an invalid environment or id, is ``Classification/invalid(message:hint:)``.
    public static func classify(_ relativePath: String) -> Classification {
        classify(relativePath[...])
    }

    /// ``classify(_:)`` of part of a string, such as a path after its flags directory: a full load classifies every
    /// file of the repository, so the usual ASCII `<environment>/<file>` is split without making an array of
    /// components. (Other paths take the general way: there a slash can be part of a larger character, and splitting
    /// is by characters.)
    public static func classify(_ relativePath: Substring) -> Classification {
        let utf8 = relativePath.utf8
        if let slash = utf8.firstIndex(of: UInt8(ascii: "/")), slash != utf8.startIndex, utf8.allSatisfy({ $0 < 0x80 }) {
            let nameStart = utf8.index(after: slash)
            if nameStart != utf8.endIndex, !utf8[nameStart...].contains(UInt8(ascii: "/")) {
                let fileName = relativePath[nameStart...]
                guard fileName.hasSuffix(".json") else { return .ignored }
                return validated(environment: relativePath[..<slash], id: fileName.dropLast(".json".count))
            }
        }
        let components = relativePath.split(separator: "/", omittingEmptySubsequences: true)
        guard let fileName = components.last, fileName.hasSuffix(".json") else { return .ignored }
        switch components.count {
        case 1:
            return .invalid(
                message: "\"\(fileName)\" is directly in the flags directory; a flag file belongs in an environment directory",
                hint: "move it to <environment>/\(fileName), e.g. production/\(fileName)"
            )
        case 2:
            return validated(environment: components[0], id: fileName.dropLast(".json".count))
        default:
            return .invalid(
                message: "\"\(relativePath)\" is nested too deep; flag files sit directly in <environment>/",
                hint: "move it to \(components[0])/\(fileName)"
            )
        }
    }

    /// A `<environment>/<id>.json` file: a flag, or invalid when either name is.
    private static func validated(environment: Substring, id: Substring) -> Classification {
        guard isValidEnvironment(environment.utf8) else {
            return .invalid(
                message: "invalid environment name \"\(environment)\"",
                hint: "environment names are 1 to 63 lower-case letters, digits, \"_\" and \"-\", starting with a letter or digit"
            )
        }
        guard isValidFlagID(id.utf8) else {
            return .invalid(
                message: "invalid flag id \"\(id)\"",
                hint: "flag ids are 1 to 128 letters, digits, \".\", \"_\" and \"-\", starting with a letter or digit"
            )
        }
        return .flag(environment: String(environment), id: String(id))
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}
