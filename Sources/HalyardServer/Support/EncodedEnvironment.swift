//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules
import HalyardSync
import NIOCore

/// The bulk answers of one environment at one commit, with every part that does not depend on the user encoded once.
///
/// `POST …/evaluate` without `flags` and OFREP bulk evaluation answer for every flag of an environment. Encoding each
/// flag's id, value, variant name and metadata on every request costs many times more than evaluating it. Everything
/// but the evaluation itself is the same for every request at one commit, so it is written here once, into one byte
/// array: each flag's quoted id, its OFREP scalar metadata, and each of its variants' value and name
/// (``EncodedVariants``). A request then evaluates each flag and copies the pieces its resolution picks, straight into
/// the response buffer, sized beforehand so that it never grows.
///
/// The answers are byte for byte those that ``JSONWriter`` writes value by value (tests compare them).
final class EncodedEnvironment: Sendable {
    /// A run of bytes in ``storage``.
    struct Piece: Sendable {
        var start: Int32
        var count: Int32

        var length: Int { Int(count) }
    }

    /// What one flag contributes.
    struct Entry: Sendable {
        /// `"<id>"`.
        var id: Piece
        /// The OFREP scalar metadata members, each followed by a comma: `"owner":"team",`; empty when none.
        var metadata: Piece
        /// The flag's first variant in ``variants``.
        var firstVariant: Int32
    }

    /// One variant of one flag.
    struct Variant: Sendable {
        /// The value's canonical JSON text.
        var value: Piece
        /// The name as a JSON string literal.
        var name: Piece
    }

    /// One flag, held by a class instance so that the answer loops read it in place.
    ///
    /// A `let` of a class instance cannot change, so evaluating `holder.flag` copies nothing. A flag read out of an
    /// array or through a pointer is copied for the call, each of its references retained and released; with two
    /// threads answering at once, those retains of the same objects contend for their cache lines and cost more than
    /// the evaluation itself.
    final class FlagHolder: Sendable {
        let flag: Flag

        init(_ flag: Flag) {
            self.flag = flag
        }
    }

    /// The flags in id order, as ``EnvironmentSnapshot/sortedIDs`` lists them.
    let flags: [FlagHolder]
    /// The same, unretained, for the loops (``flags`` keeps them alive).
    private let unretainedFlags: [Unmanaged<FlagHolder>]
    let entries: [Entry]
    let variants: [Variant]
    /// Every piece, back to back.
    let storage: [UInt8]
    /// The quoted reason of each ``Evaluation/Reason``, by ``reasonSlot(_:)``.
    let reasons: [Piece]
    /// `"<commit>"`.
    let commit: Piece
    /// The literal text between the pieces.
    let text: Literals

    /// `/evaluate`'s answer around the flags: `{"flags":{` and `}}`.
    let evaluatePrefix: [UInt8]
    let evaluateSuffix: [UInt8]
    /// OFREP bulk's answer around the evaluations: `{"flags":[` and `],"metadata":…,"eventStreams":…}`.
    let ofrepPrefix: [UInt8]
    let ofrepSuffix: [UInt8]

    /// The most bytes the flags of each kind of answer can take, whatever each flag resolves to.
    let valuesBound: Int
    let detailsBound: Int
    let ofrepBound: Int

    /// Encodes every flag of `environment` at `commit`; `eventsPath` is the OFREP event stream path of the environment.
    init(_ environment: EnvironmentSnapshot, commit: String, eventsPath: String) {
        var storage: [UInt8] = []
        storage.reserveCapacity(environment.flags.count * 48)
        func append(_ bytes: [UInt8]) -> Piece {
            let piece = Piece(start: Int32(storage.count), count: Int32(bytes.count))
            storage.append(contentsOf: bytes)
            return piece
        }
        func quoted(_ text: String) -> [UInt8] {
            var bytes: [UInt8] = []
            JSONWriter.appendQuoted(text, to: &bytes)
            return bytes
        }

        let allReasons: [Evaluation.Reason] = [.disabled, .staticValue, .targetingMatch, .split, .default, .flagNotFound]
        var reasons = [Piece](repeating: Piece(start: 0, count: 0), count: allReasons.count)
        for reason in allReasons { reasons[Self.reasonSlot(reason)] = append(quoted(reason.rawValue)) }
        let longestReason = reasons.map { Int($0.count) }.max() ?? 0
        let commitPiece = append(quoted(commit))
        let text = Literals(
            value: append(Array(#"{"value":"#.utf8)),
            variant: append(Array(#","variant":"#.utf8)),
            reason: append(Array(#","reason":"#.utf8)),
            key: append(Array(#"{"key":"#.utf8)),
            ofrepValue: append(Array(#","value":"#.utf8)),
            metadata: append(Array(#","metadata":{"#.utf8)),
            commit: append(Array(#""commit":"#.utf8))
        )

        var flags: [FlagHolder] = []
        var entries: [Entry] = []
        var variants: [Variant] = []
        flags.reserveCapacity(environment.flags.count)
        entries.reserveCapacity(environment.flags.count)
        variants.reserveCapacity(environment.flags.count * 2)
        var valuesBound = 0
        var detailsBound = 0
        var ofrepBound = 0
        for id in environment.sortedIDs {
            guard let flag = environment.flags[id]?.flag else { continue }
            let idPiece = append(quoted(id))
            var metadata = JSONWriter(capacity: 0)
            metadata.ofrepScalarMetadata(flag.metadata)
            let metadataPiece = append(metadata.bytes.isEmpty ? [] : metadata.bytes + [UInt8(ascii: ",")])
            let encoded = EncodedVariants(flag)
            let firstVariant = Int32(variants.count)
            var longestValue = 0
            var longestName = 0
            for (value, name) in zip(encoded.values, encoded.names) {
                variants.append(Variant(value: append(value), name: append(name)))
                longestValue = max(longestValue, value.count)
                longestName = max(longestName, name.count)
            }
            flags.append(FlagHolder(flag))
            entries.append(Entry(id: idPiece, metadata: metadataPiece, firstVariant: firstVariant))
            let id = idPiece.length
            valuesBound += 1 + id + 1 + longestValue
            detailsBound +=
                1 + id + 1 + text.value.length + longestValue + text.variant.length + longestName
                + text.reason.length + longestReason + 1
            ofrepBound +=
                1 + text.key.length + id + text.ofrepValue.length + longestValue + text.reason.length
                + longestReason + text.variant.length + longestName + text.metadata.length + metadataPiece.length
                + text.commit.length + commitPiece.length + 2
        }

        var evaluate = JSONWriter(capacity: 16)
        evaluate.objectStart()
        evaluate.key("flags")
        evaluate.objectStart()
        evaluate.objectEnd()
        evaluate.objectEnd()
        (evaluatePrefix, evaluateSuffix) = Self.split(evaluate.bytes, after: UInt8(ascii: "{"), occurrence: 2)

        var ofrep = JSONWriter(capacity: 256)
        ofrep.objectStart()
        ofrep.key("flags")
        ofrep.arrayStart()
        ofrep.arrayEnd()
        ofrep.ofrepBulkTrailer(environment: environment.name, commit: commit, eventsPath: eventsPath)
        ofrep.objectEnd()
        (ofrepPrefix, ofrepSuffix) = Self.split(ofrep.bytes, after: UInt8(ascii: "["), occurrence: 1)

        self.flags = flags
        self.unretainedFlags = flags.map { Unmanaged.passUnretained($0) }
        self.entries = entries
        self.variants = variants
        self.storage = storage
        self.reasons = reasons
        self.commit = commitPiece
        self.text = text
        self.valuesBound = valuesBound
        self.detailsBound = detailsBound
        self.ofrepBound = ofrepBound
    }

    /// The literal text between the pieces, stored with them.
    struct Literals: Sendable {
        /// `{"value":`
        var value: Piece
        /// `,"variant":`
        var variant: Piece
        /// `,"reason":`
        var reason: Piece
        /// `{"key":`
        var key: Piece
        /// `,"value":`
        var ofrepValue: Piece
        /// `,"metadata":{`
        var metadata: Piece
        /// `"commit":`
        var commit: Piece
    }

    /// Splits `bytes` just after the `occurrence`-th `byte`.
    private static func split(_ bytes: [UInt8], after byte: UInt8, occurrence: Int) -> ([UInt8], [UInt8]) {
        var seen = 0
        for index in bytes.indices where bytes[index] == byte {
            seen += 1
            if seen == occurrence { return (Array(bytes[...index]), Array(bytes[(index + 1)...])) }
        }
        preconditionFailure("the envelope has the byte it is split at")
    }

    /// A small number for each reason, to index ``reasons``.
    @inline(__always)
    static func reasonSlot(_ reason: Evaluation.Reason) -> Int {
        switch reason {
        case .disabled: 0
        case .staticValue: 1
        case .targetingMatch: 2
        case .split: 3
        case .default: 4
        case .flagNotFound: 5
        }
    }

    // MARK: - Answers

    /// The whole `/evaluate` answer for every flag: `{"flags":{"<id>":<value>,…}}`, or with `details`
    /// `{"flags":{"<id>":{"value":…,"variant":…,"reason":…},…}}`.
    func evaluateAnswer(_ context: EvaluationContext, details: Bool) -> ByteBuffer {
        let bound = details ? detailsBound : valuesBound
        var buffer = ByteBufferAllocator().buffer(capacity: evaluatePrefix.count + bound + evaluateSuffix.count)
        buffer.writeBytes(evaluatePrefix)
        let text = self.text
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { output in
            guard let start = output.baseAddress else { return 0 }
            return withPieces { pieces in
                var out = RawOutput(start)
                for index in pieces.flags.indices {
                    let resolution = pieces.flags[index]._withUnsafeGuaranteedRef { $0.flag.resolve(context) }
                    let entry = pieces.entries[index]
                    let variant = pieces.variants[Int(entry.firstVariant) + EncodedVariants.index(of: resolution)]
                    if index > 0 { out.byte(UInt8(ascii: ",")) }
                    out.copy(entry.id, from: pieces.storage)
                    out.byte(UInt8(ascii: ":"))
                    if details {
                        out.copy(text.value, from: pieces.storage)
                        out.copy(variant.value, from: pieces.storage)
                        out.copy(text.variant, from: pieces.storage)
                        out.copy(variant.name, from: pieces.storage)
                        out.copy(text.reason, from: pieces.storage)
                        out.copy(pieces.reasons[Self.reasonSlot(resolution.reason)], from: pieces.storage)
                        out.byte(UInt8(ascii: "}"))
                    } else {
                        out.copy(variant.value, from: pieces.storage)
                    }
                }
                return out.written(since: start)
            }
        }
        buffer.writeBytes(evaluateSuffix)
        return buffer
    }

    /// The whole OFREP bulk answer: `{"flags":[{"key","value","reason","variant","metadata"},…],"metadata":…,
    /// "eventStreams":…}`, each evaluation as ``JSONWriter/ofrepEvaluation(flagKey:_:flag:commit:)`` writes it.
    func ofrepAnswer(_ context: EvaluationContext) -> ByteBuffer {
        let bound = ofrepBound
        var buffer = ByteBufferAllocator().buffer(capacity: ofrepPrefix.count + bound + ofrepSuffix.count)
        buffer.writeBytes(ofrepPrefix)
        let commit = self.commit
        let text = self.text
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { output in
            guard let start = output.baseAddress else { return 0 }
            return withPieces { pieces in
                var out = RawOutput(start)
                for index in pieces.flags.indices {
                    let resolution = pieces.flags[index]._withUnsafeGuaranteedRef { $0.flag.resolve(context) }
                    let entry = pieces.entries[index]
                    let variant = pieces.variants[Int(entry.firstVariant) + EncodedVariants.index(of: resolution)]
                    if index > 0 { out.byte(UInt8(ascii: ",")) }
                    out.copy(text.key, from: pieces.storage)
                    out.copy(entry.id, from: pieces.storage)
                    out.copy(text.ofrepValue, from: pieces.storage)
                    out.copy(variant.value, from: pieces.storage)
                    out.copy(text.reason, from: pieces.storage)
                    out.copy(pieces.reasons[Self.reasonSlot(resolution.reason)], from: pieces.storage)
                    out.copy(text.variant, from: pieces.storage)
                    out.copy(variant.name, from: pieces.storage)
                    out.copy(text.metadata, from: pieces.storage)
                    out.copy(entry.metadata, from: pieces.storage)
                    out.copy(text.commit, from: pieces.storage)
                    out.copy(commit, from: pieces.storage)
                    out.byte(UInt8(ascii: "}"))
                    out.byte(UInt8(ascii: "}"))
                }
                return out.written(since: start)
            }
        }
        buffer.writeBytes(ofrepSuffix)
        return buffer
    }

    /// The tables as buffer pointers, so the loops read them without bounds checks or reference counting.
    private struct Pieces {
        let flags: UnsafeBufferPointer<Unmanaged<FlagHolder>>
        let entries: UnsafeBufferPointer<Entry>
        let variants: UnsafeBufferPointer<Variant>
        let reasons: UnsafeBufferPointer<Piece>
        let storage: UnsafePointer<UInt8>
    }

    private func withPieces<Result>(_ body: (Pieces) -> Result) -> Result {
        unretainedFlags.withUnsafeBufferPointer { flags in
            entries.withUnsafeBufferPointer { entries in
                variants.withUnsafeBufferPointer { variants in
                    reasons.withUnsafeBufferPointer { reasons in
                        storage.withUnsafeBufferPointer { storage in
                            body(
                                Pieces(
                                    flags: flags,
                                    entries: entries,
                                    variants: variants,
                                    reasons: reasons,
                                    storage: storage.baseAddress ?? UnsafePointer(bitPattern: 1)!
                                )
                            )
                        }
                    }
                }
            }
        }
    }
}

/// Appends bytes at a pointer into memory that is known to be large enough (the answers' bounds).
private struct RawOutput {
    private var pointer: UnsafeMutableRawPointer

    init(_ start: UnsafeMutableRawPointer) {
        pointer = start
    }

    @inline(__always)
    mutating func byte(_ byte: UInt8) {
        pointer.storeBytes(of: byte, as: UInt8.self)
        pointer += 1
    }

    @inline(__always)
    mutating func copy(_ piece: EncodedEnvironment.Piece, from storage: UnsafePointer<UInt8>) {
        let count = Int(piece.count)
        pointer.copyMemory(from: storage + Int(piece.start), byteCount: count)
        pointer += count
    }

    func written(since start: UnsafeMutableRawPointer) -> Int { pointer - start }
}
