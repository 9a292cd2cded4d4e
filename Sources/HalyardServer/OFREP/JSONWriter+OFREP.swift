//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules

/// The OFREP answer bodies, written by hand: they are on the hottest route of the server.
extension JSONWriter {
    /// One evaluation: `{"key", "value", "reason", "variant", "metadata"}`.
    ///
    /// `value` is the flag's JSON value, numbers exactly as written; falsy values (`false`, `0`, `""`, `{}`) are values
    /// like any other and always written. `variant` is a boolean flag's `"on"` or `"off"`, or a typed flag's variant
    /// name, and `reason` one of DESIGN §2 (`STATIC`, `TARGETING_MATCH`, `SPLIT`, `DEFAULT`, `DISABLED`). `metadata`
    /// holds the flag's own scalar metadata (OFREP metadata values are booleans, strings or numbers; nested values are
    /// left out) and `commit`, the served commit, which wins over a flag metadata key of the same name.
    mutating func ofrepEvaluation(flagKey: String, _ resolution: Resolution, flag: Flag, commit: String) {
        objectStart()
        key("key")
        string(flagKey)
        key("value")
        if flag.isTyped { json(flag.value(of: resolution)) } else { bool(flag.bool(of: resolution)) }
        key("reason")
        string(resolution.reason.rawValue)
        key("variant")
        string(flag.variant(of: resolution))
        key("metadata")
        objectStart()
        ofrepScalarMetadata(flag.metadata)
        key("commit")
        string(commit)
        objectEnd()
        objectEnd()
    }

    /// The flag's scalar metadata members, `"name":value` in name order, without the key `commit`.
    mutating func ofrepScalarMetadata(_ metadata: [String: JSONValue]) {
        guard !metadata.isEmpty else { return }
        let names = metadata.count == 1 ? Array(metadata.keys) : metadata.keys.sorted()
        for name in names where name != "commit" {
            switch metadata[name]! {
            case .string(let text):
                key(name)
                string(text)
            case .bool(let flag):
                key(name)
                bool(flag)
            case .number(let number):
                key(name)
                json(.number(number))
            case .null, .array, .object:
                continue
            }
        }
    }

    /// What follows the evaluations in a bulk answer: `"metadata": {"environment", "commit"}` and the `eventStreams`
    /// entry that points at the environment's OFREP event stream.
    mutating func ofrepBulkTrailer(environment: String, commit: String, eventsPath: String) {
        key("metadata")
        objectStart()
        key("environment")
        string(environment)
        key("commit")
        string(commit)
        objectEnd()
        key("eventStreams")
        arrayStart()
        objectStart()
        key("type")
        string("sse")
        key("endpoint")
        objectStart()
        key("requestUri")
        string(eventsPath)
        objectEnd()
        objectEnd()
        arrayEnd()
    }
}
