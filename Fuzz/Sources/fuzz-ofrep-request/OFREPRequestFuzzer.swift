//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import FuzzSupport
import HalyardRules
import HalyardServer
import NIOCore

/// Fuzzes ``OFREPRequest/init(body:)``, the body of the OFREP evaluation routes, and evaluates what it accepts.
///
/// For every input: decoding returns or throws an error that is a 4xx answer (bad input is never a 5xx). An accepted
/// context has a string or no `targetingKey`, evaluates the sample flags deterministically, and evaluates the same
/// as its canonical text, which is what OFREP ETags hash.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = ByteBuffer(bytes: fuzzBytes(data, size))
    let request: OFREPRequest
    do {
        request = try OFREPRequest(body: body)
    } catch {
        invariant(error.description.hasPrefix("4"), "bad input answered with \(error)")
        return 0
    }
    switch request.attributes["targetingKey"] {
    case .none, .null?, .string?: break
    case let other?: invariant(false, "accepted a targetingKey that is \(other.typeDescription)")
    }
    SampleFlags.checkEvaluation(of: request.attributes)
    return 0
}
