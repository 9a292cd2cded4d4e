//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Logging
import Metrics
import Synchronization

/// A metrics backend that keeps counter values in memory, given to one deliverer (no global bootstrap).
final class RecordingMetrics: MetricsFactory, Sendable {
    private let counters = Mutex<[String: Int64]>([:])

    /// The value of the counter `label{name="value",…}`, as `label` and its dimensions.
    func counter(_ label: String, _ dimensions: [(String, String)]) -> Int64 {
        self.counters.withLock { $0[Self.key(label, dimensions)] ?? 0 }
    }

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + "{" + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        RecordingCounter(key: Self.key(label, dimensions), metrics: self)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Ignored() }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Ignored() }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    fileprivate func add(_ amount: Int64, to key: String) {
        self.counters.withLock { $0[key, default: 0] += amount }
    }

    private final class RecordingCounter: CounterHandler, Sendable {
        let key: String
        let metrics: RecordingMetrics
        init(key: String, metrics: RecordingMetrics) {
            self.key = key
            self.metrics = metrics
        }
        func increment(by amount: Int64) { self.metrics.add(amount, to: self.key) }
        func reset() {}
    }

    private final class Ignored: RecorderHandler, TimerHandler, Sendable {
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
        func recordNanoseconds(_ duration: Int64) {}
    }
}

/// A log backend that keeps every line, with its metadata, in memory.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    /// Every line so far: level, message and metadata.
    var all: [String] { self.lines.withLock { $0 } }

    /// A logger that writes here, at every level.
    func logger(label: String = "captured") -> Logger {
        var logger = Logger(label: label) { _ in Handler(log: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) {
        self.lines.withLock { $0.append(line) }
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            self.log.append("\(event.level) \(event.message) \(fields) \(event.error.map { "\($0)" } ?? "")")
        }
    }
}
