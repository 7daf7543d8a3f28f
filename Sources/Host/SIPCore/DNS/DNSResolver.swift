import NIOCore

/// Answers DNS queries without blocking the loop that asks: the answer completes a future on that loop. The
/// engine's is `CAresResolver`; a test can answer from a table.
package protocol DNSResolver: Sendable {
    func query(_ query: DNSQuery, on loop: any EventLoop) -> EventLoopFuture<DNSAnswer>
}
