/// Parses, validates and normalises flag files.
///
/// The decoder is the gate between a repository and the service: it reports every problem of a file at once (DESIGN
/// §3), each with its JSON pointer and a hint, and produces a ``Flag`` only from a file without errors. It accepts the
/// Semaphore 1.0 format and normalises the deprecated 0.2 form (a flat `rules` array with `matchRules`).
public enum FlagDecoder {
    /// Parses, validates and normalises one flag file. `flag` is nil iff there is an error diagnostic.
    ///
    /// ```swift
    /// let result = FlagDecoder.decode(bytes, id: "new-checkout", file: "flags/production/new-checkout.json")
    /// for diagnostic in result.diagnostics { print(diagnostic) }
    /// ```
    ///
    /// - Parameters:
    ///   - bytes: The file's content.
    ///   - id: The flag id, from the file name (see ``FlagPath/classify(_:)``).
    ///   - file: The path that diagnostics name.
    public static func decode(_ bytes: some Collection<UInt8>, id: String, file: String) -> FlagDecodingResult {
        if let tooLarge = RepositoryLimits.standard.fileSizeError(bytes.count, file: file) {
            return FlagDecodingResult(flag: nil, diagnostics: [tooLarge])
        }
        let contiguous = bytes.withContiguousStorageIfAvailable { decodeContiguous($0, id: id, file: file) }
        if let contiguous { return contiguous }
        return Array(bytes).withUnsafeBufferPointer { decodeContiguous($0, id: id, file: file) }
    }

    /// Decodes a flag file held in a string; see ``decode(_:id:file:)``.
    public static func decode(_ text: String, id: String, file: String) -> FlagDecodingResult {
        decode(Array(text.utf8), id: id, file: file)
    }

    /// Decodes a flag in the normalised form of the HTTP API (``Flag/normalizedJSON``), as a client reads it from
    /// `GET /v1/environments/{env}/flags`: the file format plus its `"id"`. The id comes from `"id"`, or from `id`
    /// when the object has none; validation is the same as for a file.
    ///
    /// - Parameters:
    ///   - value: The flag object.
    ///   - id: The id to use when `value` has no `"id"` member (the key of the `flags` object).
    ///   - source: What diagnostics name, e.g. the URL the flags came from.
    public static func decode(normalized value: JSONValue, id: String, source: String) -> FlagDecodingResult {
        guard case .object(var members) = value else {
            return failure(file: source, message: "a flag must be a JSON object, not \(value.typeDescription)", hint: nil)
        }
        var flagID = id
        if let member = members.removeValue(forKey: "id") {
            guard case .string(let text) = member else {
                return failure(file: source, message: "\"id\" must be a string, not \(member.typeDescription)", hint: nil)
            }
            flagID = text
        }
        var validator = FlagValidator(file: source)
        let flag = validator.flag(from: .object(members), id: flagID)
        return FlagDecodingResult(flag: validator.hasErrors ? nil : flag, diagnostics: validator.diagnostics)
    }

    private static func decodeContiguous(_ bytes: UnsafeBufferPointer<UInt8>, id: String, file: String) -> FlagDecodingResult {
        let start = UTF8Validation.byteOrderMarkLength(bytes)
        if let invalid = UTF8Validation.firstInvalidOffset(bytes, from: start) {
            let position = TextPosition(of: invalid, in: bytes, from: start)
            return failure(
                file: file,
                message: "the file is not valid UTF-8: byte 0x\(hexByte(bytes[invalid])) at line \(position.line), column \(position.column)",
                hint: "save the file as UTF-8"
            )
        }
        let document: JSONValue
        switch JSONParser.parse(validUTF8: bytes, from: start) {
        case .success(let value):
            document = value
        case .failure(let error):
            return failure(file: file, message: "invalid JSON at line \(error.line), column \(error.column): \(error.message)", hint: nil)
        }
        var validator = FlagValidator(file: file)
        let flag = validator.flag(from: document, id: id)
        return FlagDecodingResult(flag: validator.hasErrors ? nil : flag, diagnostics: validator.diagnostics)
    }

    private static func failure(file: String, message: String, hint: String?) -> FlagDecodingResult {
        FlagDecodingResult(flag: nil, diagnostics: [Diagnostic(severity: .error, file: file, pointer: "", message: message, hint: hint)])
    }
}
