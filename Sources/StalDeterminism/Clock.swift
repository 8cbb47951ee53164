import StalCore
#if canImport(Glibc)
import Glibc
#endif

/// The only way cluster and core code learn the time. Production passes `SystemClock`;
/// tests and the simulator pass `ManualClock` and move it themselves.
public protocol WallClock: Sendable {
    func now() -> Timestamp
    /// Monotonic nanoseconds for measuring intervals; unrelated to wall time.
    func monotonicNanoseconds() -> UInt64
}

public struct SystemClock: WallClock {
    public init() {}

    public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    public func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// A clock that only moves when told to.
public final class ManualClock: WallClock, @unchecked Sendable {
    private let lock = Mutex()
    private var current: Timestamp
    private var monotonic: UInt64 = 0

    public init(_ start: Timestamp = Timestamp(millisecondsSinceEpoch: 1_764_000_000_000)) {
        current = start
    }

    public func now() -> Timestamp { lock.withLock { current } }

    public func monotonicNanoseconds() -> UInt64 { lock.withLock { monotonic } }

    public func advance(milliseconds: Int64) {
        lock.withLock {
            current = current.adding(milliseconds: milliseconds)
            monotonic += UInt64(milliseconds) * 1_000_000
        }
    }
}

/// A small pthread mutex, because pure layers must not depend on Foundation's locks.
public final class Mutex: @unchecked Sendable {
    private var m = pthread_mutex_t()

    public init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }

    @inline(__always)
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&m)
        defer { pthread_mutex_unlock(&m) }
        return try body()
    }
}
