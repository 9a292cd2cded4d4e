//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules
import HalyardSync
import NIOCore

/// The body of an OFREP evaluation request, `{"context": {...}}`, read into rule attributes.
///
/// The context is the user's attributes as they are, `targetingKey` included, so a rule can name `targetingKey`
/// like any other attribute. The reading is lenient where OFREP allows it: an empty body, a body without `context` and
/// a `null` context all mean an empty context (providers send `{}` when the application gave no context), and a
/// missing `targetingKey` is fine because no Halyard rule requires one. Other members of the body are ignored. The type is
/// public so that the fuzzers in `Fuzz/` decode bodies exactly as the routes do.
public struct OFREPRequest: Sendable {
    /// The attributes rules see.
    public let attributes: [String: JSONValue]

    /// Reads a request body.
    ///
    /// - Parameters:
    ///   - body: The whole request body.
    ///   - limits: The JSON nesting and context attribute limits (DESIGN §13).
    /// - Throws: ``OFREPError`` `PARSE_ERROR` when the body is not a JSON object or nests deeper than the limit,
    ///   `INVALID_CONTEXT` when `context` is not an object, has more attributes than the limit, or `targetingKey` is
    ///   neither a string nor `null`.
    public init(body: ByteBuffer, limits: HTTPLimits = HTTPLimits()) throws(OFREPError) {
        guard body.readableBytes > 0 else {
            attributes = [:]
            return
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(body.readableBytesView, maximumDepth: limits.jsonNesting)
        } catch {
            throw .parseError("request body is not valid JSON: \(error.description)")
        }
        guard case .object(let fields) = value else {
            throw .parseError("request body must be a JSON object like {\"context\": {...}}, not \(value.typeDescription)")
        }
        switch fields["context"] {
        case .none, .null?:
            attributes = [:]
        case .object(let context)?:
            guard context.count <= limits.contextAttributes else {
                throw .invalidContext(
                    "context has \(context.count) attributes; the limit is \(limits.contextAttributes) (limits.contextAttributes)"
                )
            }
            switch context["targetingKey"] {
            case .none, .null?, .string?:
                break
            case let other?:
                throw .invalidContext("context.targetingKey must be a string, not \(other.typeDescription)")
            }
            attributes = context
        case let other?:
            throw .invalidContext("context must be an object, not \(other.typeDescription)")
        }
    }

    /// A hash of the context in its canonical form (sorted keys, shortest numbers): equal contexts hash equal
    /// whatever their key order or spacing.
    var contextHash: String {
        Fingerprint.of(JSONValue.object(attributes).jsonText)
    }
}
