import ArgumentParser
import HalyardRules

/// How `validate` and `history` print their result: text or JSON.
///
/// Each command's `--format` option has a type with exactly the values it accepts, so `--help` lists only those and
/// argument-parser refuses any other value as a usage error (exit 64). Only `diff` also prints markdown
/// (``DiffFormat``).
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// How `diff` prints its result: text, JSON, or markdown for a pull-request comment.
enum DiffFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, markdown
}

/// Small helpers for writing JSON by hand, so output keys keep the order DESIGN §5 gives.
enum JSONWriter {
    /// A JSON string literal.
    static func string(_ value: String) -> String {
        JSONValue.string(value).jsonText
    }

    /// A JSON array of strings.
    static func strings(_ values: [String]) -> String {
        "[" + values.map(string).joined(separator: ",") + "]"
    }

    /// A JSON object from ordered key/raw-JSON pairs.
    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }
}
