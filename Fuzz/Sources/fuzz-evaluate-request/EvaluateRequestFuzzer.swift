//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import FuzzSupport
import HalyardRules
import HalyardServer
import NIOCore

/// Fuzzes ``EvaluateRequest/init(body:)``, the body of `POST /v1/environments/{env}/evaluate`, and evaluates what it
/// accepts.
///
/// For every input: decoding returns or throws a 4xx ``APIError`` with a message. An accepted context evaluates the
/// sample flags deterministically and the same as its canonical text, and when the OFREP decoder accepts the same
/// body it reads the same context.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = ByteBuffer(bytes: fuzzBytes(data, size))
    let request: EvaluateRequest
    do {
        request = try EvaluateRequest(body: body)
    } catch {
        invariant((400..<500).contains(error.status.code), "bad input answered with \(error)")
        invariant(!error.message.isEmpty, "an error without a message")
        return 0
    }
    if let ofrep = try? OFREPRequest(body: body) {
        invariant(ofrep.attributes == request.attributes, "the OFREP and evaluate decoders read different contexts")
    }
    SampleFlags.checkEvaluation(of: request.attributes)
    return 0
}
