import ArgumentParser
import HalyardRules

/// How a command prints its result.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
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
