//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// One server-sent event.
struct ServerSentEvent: Sendable, Equatable {
    /// The `id:` field, when the event had one.
    var id: String?
    /// The `event:` field; `message` when absent.
    var type: String
    /// The `data:` lines, joined with newlines.
    var data: String
}

/// Splits a `text/event-stream` body into events, chunk by chunk, as the HTML standard's parser does: lines end with
/// CR LF, LF or CR; a blank line dispatches the event; lines starting with `:` are comments; a field name is what
/// comes before the first `:` and one space after it is dropped.
struct EventStreamParser: Sendable {
    private var line: [UInt8] = []
    private var afterCarriageReturn = false
    private var id: String?
    private var type = ""
    private var data: [String] = []
    private var hasData = false
    /// The largest line kept; a longer one is cut, so a broken server cannot fill the memory.
    let maximumLineBytes: Int

    init(maximumLineBytes: Int = 1 << 20) {
        self.maximumLineBytes = maximumLineBytes
    }

    /// Feeds bytes and returns the events they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if afterCarriageReturn {
                afterCarriageReturn = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                if let event = endLine() { events.append(event) }
            case UInt8(ascii: "\r"):
                afterCarriageReturn = true
                if let event = endLine() { events.append(event) }
            default:
                if line.count < maximumLineBytes { line.append(byte) }
            }
        }
        return events
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let name: String
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            name = String(decoding: line[..<colon], as: UTF8.self)
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            name = String(decoding: line, as: UTF8.self)
            value = []
        }
        let text = String(decoding: value, as: UTF8.self)
        switch name {
        case "id" where !value.contains(0): id = text
        case "event": type = text
        case "data":
            data.append(text)
            hasData = true
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            type = ""
            data = []
            hasData = false
        }
        guard hasData else { return nil }
        return ServerSentEvent(id: id, type: type.isEmpty ? "message" : type, data: data.joined(separator: "\n"))
    }
}
