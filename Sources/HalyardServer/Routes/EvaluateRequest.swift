//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules
import NIOCore

/// The body of `POST /v1/environments/{env}/evaluate`, `{"context": {...}, "flags": [ids]?, "details": bool?}`, decoded.
///
/// The route decodes every body with this type, and it is public so that the fuzzers in `Fuzz/` run the same decoding
/// on arbitrary bytes without a server. A missing or `null` context is an empty one; a missing or `null` `flags`
/// means every flag of the environment; a missing or `null` `details` is `false` (values only). Other members of the
/// body are ignored.
///
/// ```swift
/// let request = try EvaluateRequest(body: ByteBuffer(string: #"{"context": {"plan": "pro"}, "flags": ["dark-mode"]}"#))
/// // request.attributes == ["plan": "pro"], request.flagIDs == ["dark-mode"]
/// ```
public struct EvaluateRequest: Sendable {
    /// The user's attributes, as rules see them.
    public let attributes: [String: JSONValue]
    /// The requested flag ids in the order given, or `nil` for every flag.
    public let flagIDs: [String]?
    /// True when each flag's answer is `{value, variant, reason}` rather than its value alone.
    public let details: Bool

    /// Decodes a whole request body.
    ///
    /// - Parameters:
    ///   - body: The whole request body.
    ///   - limits: The JSON nesting and context attribute limits (DESIGN §13).
    /// - Throws: ``APIError`` 400 naming what is wrong: an empty body, invalid JSON or JSON nested deeper than the
    ///   limit, a body that is not an object, a `context` that is not an object or has more attributes than the
    ///   limit, `flags` that is not an array of strings, or `details` that is not a boolean.
    public init(body: ByteBuffer, limits: HTTPLimits = HTTPLimits()) throws(APIError) {
        try self.init(fields: HTTPAPI.jsonObject(body, maximumDepth: limits.jsonNesting), limits: limits)
    }

    /// Decodes the members of a body already parsed as a JSON object.
    init(fields: [String: JSONValue], limits: HTTPLimits) throws(APIError) {
        switch fields["context"] {
        case .none, .null?:
            attributes = [:]
        case .object(let context)?:
            try HTTPAPI.checkAttributeCount(context, limit: limits.contextAttributes)
            attributes = context
        case let other?:
            throw .badRequest("context must be an object, not \(other.typeDescription)")
        }
        switch fields["flags"] {
        case .none, .null?:
            flagIDs = nil
        case .array(let items)?:
            var ids: [String] = []
            ids.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                guard case .string(let id) = item else {
                    throw .badRequest("flags must be an array of flag ids: flags[\(index)] is \(item.typeDescription)")
                }
                ids.append(id)
            }
            flagIDs = ids
        case let other?:
            throw .badRequest("flags must be an array of flag ids, not \(other.typeDescription)")
        }
        switch fields["details"] {
        case .none, .null?:
            details = false
        case .bool(let wanted)?:
            details = wanted
        case let other?:
            throw .badRequest("details must be a boolean (true or false), not \(other.typeDescription)")
        }
    }
}
