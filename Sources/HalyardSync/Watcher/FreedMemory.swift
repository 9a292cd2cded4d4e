#if canImport(Glibc)
    import Glibc
#endif

/// Gives memory that was freed back to the operating system.
///
/// A full snapshot load decodes every flag file on every core; the parse trees and buffers it frees stay in the
/// allocator's per-thread arenas and so in the service's resident size, which operators watch and limit. After such a
/// load they are handed back with glibc's `malloc_trim` (looked up at run time: Swift's Glibc module does not declare
/// it); elsewhere this does nothing.
enum FreedMemory {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim: Trim? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
            return unsafeBitCast(symbol, to: Trim.self)
        #else
            return nil
        #endif
    }()

    /// Returns the free memory of every allocator arena to the system.
    static func release() {
        _ = trim?(0)
    }
}
