extension Duration {
    /// The duration in seconds, as a `Double` (`.milliseconds(1500).seconds == 1.5`).
    ///
    /// For metrics, ``Backoff`` arithmetic and `Date` offsets, which all count in seconds. It lives in HalyardRules
    /// because that is the lowest module that both the watcher (HalyardSync) and the deliverer (HalyardNotify) import.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
