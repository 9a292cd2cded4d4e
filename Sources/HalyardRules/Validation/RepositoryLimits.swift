/// The aggregate limits of a flag repository (DESIGN §13), each reported as a validation error with its path.
///
/// Every limit lives here: the decoder and the snapshot loader both ask this type, so there is one implementation of
/// each check. Tests pass smaller limits to exercise them cheaply.
///
/// ```swift
/// if let error = RepositoryLimits.standard.fileSizeError(size, file: "flags/production/a.json") { print(error) }
/// ```
public struct RepositoryLimits: Sendable, Hashable {
    /// At most this many files under the flags directory (flag files and ignored ones): 100,000.
    public var files: Int
    /// At most this many environments: 1,000.
    public var environments: Int
    /// At most this many bytes per flag file: 1 MiB.
    public var fileSize: Int

    public init(files: Int = 100_000, environments: Int = 1_000, fileSize: Int = 1_048_576) {
        self.files = files
        self.environments = environments
        self.fileSize = fileSize
    }

    /// The limits Halyard enforces.
    public static let standard = RepositoryLimits()

    /// The error for a flag file of `size` bytes, or nil when it is within the limit.
    public func fileSizeError(_ size: Int, file: String) -> Diagnostic? {
        guard size > fileSize else { return nil }
        return Diagnostic(
            severity: .error,
            file: file,
            pointer: "",
            message: "the file is \(size) bytes; a flag file may be at most \(fileSize) bytes (\(Self.byteDescription(fileSize)))",
            hint: "split the flag or remove unused rules"
        )
    }

    /// The error for a flags directory holding `count` files, or nil when it is within the limit.
    public func fileCountError(_ count: Int, flagsDirectory: String) -> Diagnostic? {
        guard count > files else { return nil }
        return Diagnostic(
            severity: .error,
            file: flagsDirectory,
            pointer: "",
            message: "the flags directory holds \(count) files; at most \(files) are allowed",
            hint: "remove unused flags, or files that are not flags, from \(flagsDirectory)/"
        )
    }

    /// The error for a flags directory holding `count` environments, or nil when it is within the limit.
    public func environmentCountError(_ count: Int, flagsDirectory: String) -> Diagnostic? {
        guard count > environments else { return nil }
        return Diagnostic(
            severity: .error,
            file: flagsDirectory,
            pointer: "",
            message: "the flags directory holds \(count) environments; at most \(environments) are allowed",
            hint: "remove unused environment directories from \(flagsDirectory)/"
        )
    }

    private static func byteDescription(_ bytes: Int) -> String {
        if bytes % 1_048_576 == 0 { return "\(bytes / 1_048_576) MiB" }
        if bytes % 1_024 == 0 { return "\(bytes / 1_024) KiB" }
        return "\(bytes) bytes"
    }
}
