/// What DNS said to a `DNSQuery`.
package enum DNSAnswer: Sendable, Equatable {
    case records([DNSRecord])
    /// The name exists but has no records of the type asked (NOERROR, empty answer).
    case noData
    /// NXDOMAIN: no such name.
    case notFound
    /// No usable answer: the server timed out, refused, failed, or answered something unreadable.
    case failed(String)

    package var records: [DNSRecord] {
        if case .records(let r) = self { r } else { [] }
    }

    /// For a log line: what the lookup found, or why it found nothing.
    package var summary: String {
        switch self {
        case .records(let r): "\(r.count) record\(r.count == 1 ? "" : "s")"
        case .noData: "no records of that type"
        case .notFound: "no such name (NXDOMAIN)"
        case .failed(let why): why
        }
    }
}

/// One record of an answer; which fields mean something depends on the query's type.
package struct DNSRecord: Sendable, Equatable {
    package var ttl: UInt32
    /// A, AAAA.
    package var address = ""
    /// SRV.
    package var priority = 0
    package var weight = 0
    package var port = 0
    /// NAPTR.
    package var order = 0
    package var preference = 0
    package var flags = ""
    package var service = ""
    /// SRV's target, NAPTR's replacement.
    package var target = ""

    package init(
        ttl: UInt32, address: String = "", priority: Int = 0, weight: Int = 0, port: Int = 0, order: Int = 0,
        preference: Int = 0, flags: String = "", service: String = "", target: String = ""
    ) {
        self.ttl = ttl
        self.address = address
        self.priority = priority
        self.weight = weight
        self.port = port
        self.order = order
        self.preference = preference
        self.flags = flags
        self.service = service
        self.target = target
    }
}
