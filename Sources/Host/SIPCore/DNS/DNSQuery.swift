/// One question to DNS: a name and the record type wanted.
package struct DNSQuery: Sendable, Hashable, CustomStringConvertible {
    package enum RecordType: Int32, Sendable, CaseIterable {
        case a = 1
        case aaaa = 28
        case srv = 33
        case naptr = 35

        package var name: String {
            switch self {
            case .a: "A"
            case .aaaa: "AAAA"
            case .srv: "SRV"
            case .naptr: "NAPTR"
            }
        }
    }

    package var name: String
    package var type: RecordType

    package init(_ name: String, _ type: RecordType) {
        self.name = name
        self.type = type
    }

    package var description: String { "\(type.name) \(name)" }
}
