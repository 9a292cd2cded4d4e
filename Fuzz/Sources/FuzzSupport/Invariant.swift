//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// Stops the fuzzer when an invariant does not hold; libFuzzer then saves the input as a crash.
///
/// `precondition` would do the same in a debug build but says less; this prints what was expected and where.
///
/// - Parameters:
///   - condition: What must hold for every input.
///   - message: What went wrong, evaluated only on failure.
public func invariant(
    _ condition: @autoclosure () -> Bool,
    _ message: @autoclosure () -> String,
    file: StaticString = #fileID,
    line: UInt = #line
) {
    if !condition() {
        fatalError("invariant failed: \(message())", file: file, line: line)
    }
}

/// The bytes libFuzzer hands to `LLVMFuzzerTestOneInput`, as a buffer (empty when `data` is null).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: size > 0 ? data : nil, count: size > 0 ? size : 0)
}
