//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

// The HalyardRules types that the client's API takes and returns, so that `import HalyardClient` is enough to build a
// context and read an object flag.
@_exported import struct HalyardRules.EvaluationContext
@_exported import struct HalyardRules.Flag
@_exported import struct HalyardRules.JSONNumber
@_exported import enum HalyardRules.JSONValue
