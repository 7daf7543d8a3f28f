import CDNS
import NIOCore
import NIOPosix

/// DNS through c-ares, each query run to its end on a thread of `pool`: an event loop only ever waits for the
/// future. `servers` ("127.0.0.1:5353") replaces /etc/resolv.conf's when given.
package final class CAresResolver: DNSResolver {
    private let pool: NIOThreadPool
    private let servers: String?
    private let timeoutMilliseconds: Int32
    private let tries: Int32

    package init(pool: NIOThreadPool, servers: [String], timeoutMilliseconds: Int = 2000, tries: Int = 2) {
        self.pool = pool
        self.servers = servers.isEmpty ? nil : servers.joined(separator: ",")
        self.timeoutMilliseconds = Int32(timeoutMilliseconds)
        self.tries = Int32(tries)
    }

    package func query(_ query: DNSQuery, on loop: any EventLoop) -> EventLoopFuture<DNSAnswer> {
        let (servers, timeout, tries) = (self.servers, timeoutMilliseconds, self.tries)
        return pool.runIfActive(eventLoop: loop) { Self.run(query, servers: servers, timeout: timeout, tries: tries) }
    }

    /// The query, synchronously: only ever on a pool thread.
    package static func run(_ query: DNSQuery, servers: String?, timeout: Int32, tries: Int32) -> DNSAnswer {
        var result = pb_dns_result()
        query.name.withCString { name in
            if let servers {
                servers.withCString { pb_dns_query($0, name, query.type.rawValue, timeout, tries, &result) }
            } else {
                pb_dns_query(nil, name, query.type.rawValue, timeout, tries, &result)
            }
        }
        switch Int(result.status) {
        case PB_DNS_OK:
            return .records(
                withUnsafeBytes(of: &result.records) { raw in
                    let records = raw.bindMemory(to: pb_dns_record.self)
                    return (0..<Int(result.count)).map { Self.record(records[$0]) }
                })
        case PB_DNS_NO_DATA: return .noData
        case PB_DNS_NOT_FOUND: return .notFound
        default:
            let why = withUnsafeBytes(of: &result.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return .failed(why)
        }
    }

    private static func record(_ r: pb_dns_record) -> DNSRecord {
        var r = r
        func text<T>(_ field: inout T) -> String {
            withUnsafeBytes(of: &field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return DNSRecord(
            ttl: r.ttl, address: text(&r.address), priority: Int(r.priority), weight: Int(r.weight),
            port: Int(r.port), order: Int(r.order), preference: Int(r.preference), flags: text(&r.flags),
            service: text(&r.service), target: text(&r.target))
    }
}
