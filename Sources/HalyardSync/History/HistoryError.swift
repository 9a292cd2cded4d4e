/// A history question that has no answer, such as a flag that never existed.
public struct HistoryError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
