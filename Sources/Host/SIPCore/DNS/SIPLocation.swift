/// Where RFC 3263 says a peer's requests go: its servers with their SRV priority and weight, each with its
/// addresses, and how long the answer may be kept.
package struct SIPLocation: Sendable, Equatable {
    package struct Server: Sendable, Equatable {
        package var host: String
        package var port: Int
        package var transport: TransportKind
        package var priority = 0
        package var weight = 0
        package var addresses: [String] = []

        package init(
            host: String, port: Int, transport: TransportKind, priority: Int = 0, weight: Int = 0,
            addresses: [String] = []
        ) {
            self.host = host
            self.port = port
            self.transport = transport
            self.priority = priority
            self.weight = weight
            self.addresses = addresses
        }
    }

    package var servers: [Server]
    /// The lowest TTL of the records the answer was built from, in seconds.
    package var ttl: UInt32
    /// Each query and what it found, for the log and `--explain`.
    package var trace: [String] = []

    package init(servers: [Server], ttl: UInt32, trace: [String] = []) {
        self.servers = servers
        self.ttl = ttl
        self.trace = trace
    }

    /// The servers in the order one request tries them (RFC 2782): lowest priority first, and within a priority a
    /// weighted random order, each server drawn with a chance proportional to its weight among those left. Servers
    /// of weight 0 come after the others of their priority, in the order DNS gave them (the RFC gives them "a very
    /// small chance" of going first; none is simpler to reason about).
    package func ordered(using random: inout some RandomNumberGenerator) -> [Server] {
        var result: [Server] = []
        result.reserveCapacity(servers.count)
        for priority in Set(servers.map(\.priority)).sorted() {
            let group = servers.filter { $0.priority == priority }
            var left = group.filter { $0.weight > 0 }
            while !left.isEmpty {
                let draw = Int.random(in: 1...left.reduce(0) { $0 + $1.weight }, using: &random)
                var sum = 0
                let chosen =
                    left.firstIndex {
                        sum += $0.weight
                        return sum >= draw
                    } ?? left.count - 1
                result.append(left.remove(at: chosen))
            }
            result += group.filter { $0.weight == 0 }
        }
        return result
    }
}
