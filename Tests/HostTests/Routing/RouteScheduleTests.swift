import Foundation
import PluginAPI
import Testing

@testable import Routing

/// Routes limited in time (`when:`): matched only inside their windows, in their time zone; route tests set the
/// time; a route limited in time shadows nothing.
@Suite struct RouteScheduleTests {
    static let routes = """
        routes:
          - name: office-hours
            match: {from: pbx, to: "+49"}
            when: {days: [mon-fri], hours: "08:00-18:00", timezone: Europe/Berlin}
            targets: [gw]
          - name: night
            match: {from: pbx, to: "+49"}
            when: [{days: [mon-fri], hours: "22:00-06:00", timezone: Europe/Berlin}]
            reject: 480
            reason: Closed
          - name: after-hours
            match: {from: pbx, to: "+49"}
            targets: [pbx]
        tests:
          - name: Monday 10:00 in Berlin goes to the gateway
            from: pbx
            to: "030987654"
            at: "2026-12-07T10:00:00+01:00"
            expect: {route: office-hours, targets: [gw]}
          - name: Monday 10:00 UTC is 11:00 in Berlin, still office hours
            from: pbx
            to: "030987654"
            at: "2026-12-07T10:00:00Z"
            expect: {route: office-hours}
          - name: Monday 19:00 in Berlin is after hours
            from: pbx
            to: "030987654"
            at: "2026-12-07T19:00:00+01:00"
            expect: {route: after-hours}
          - name: Tuesday 02:00 is past midnight in the night window
            from: pbx
            to: "030987654"
            at: "2026-12-08T02:00:00+01:00"
            expect: {reject: 480}
          - name: Saturday noon is after hours
            from: pbx
            to: "030987654"
            at: "2026-12-12T12:00:00+01:00"
            expect: {route: after-hours}

        """

    static func load(_ routes: String) throws -> (Site?, Diagnostics, String) {
        try ConfigurationTests.load(routes: routes)
    }

    @Test func routeTestsAtTwoTimesTakeDifferentRoutes() throws {
        let (site, d, _) = try Self.load(Self.routes)
        #expect(d.errors.isEmpty, "\(d.errors)")
        let loaded = try #require(site)
        #expect(RouteTestRunner(site: loaded).run().map(\.description) == [])
        #expect(d.warnings.isEmpty, "a route limited in time shadows nothing: \(d.warnings)")
    }

    @Test func aRouteTestExpectingTheOtherWindowFails() throws {
        let wrong = Self.routes.replacingOccurrences(
            of: "at: \"2026-12-07T19:00:00+01:00\"\n    expect: {route: after-hours}",
            with: "at: \"2026-12-07T19:00:00+01:00\"\n    expect: {route: office-hours}")
        let (site, _, _) = try Self.load(wrong)
        let failures = RouteTestRunner(site: try #require(site)).run()
        #expect(failures.count == 1, "\(failures)")
    }

    @Test func badWindowsArePositioned() throws {
        let routes = """
            routes:
              - name: a
                match: {to: "+49"}
                when: {days: [mon-fry], hours: "8-18", timezone: Mars/Olympus}
                targets: [gw]
            tests:
              - {from: pbx, to: "030987654", at: "Monday", expect: {route: a}}
            """
        let (_, d, dir) = try Self.load(routes)
        let file = "\(dir)/routes.yaml"
        #expect(
            d.errors.map(\.description) == [
                "\(file):4:19: error: 'mon-fry' is not a day or a range of days (mon, mon-fri, sat-sun)",
                "\(file):4:29: error: 'hours' must be HH:MM-HH:MM (08:00-18:00, 22:00-06:00), found '8-18'",
                "\(file):4:44: error: unknown time zone 'Mars/Olympus' (an IANA name: Europe/Berlin, UTC)",
                "\(file):7:34: error: 'at' must be an ISO 8601 time with its offset (2026-12-07T10:00:00+01:00)",
            ])
    }

    @Test func theTableDecidesByTheTimeItIsGiven() throws {
        let (site, _, _) = try Self.load(Self.routes)
        let table = try #require(site).routes
        let message = SIPMessage(startLine: .request(method: "INVITE", uri: "sip:x@y", version: "SIP/2.0"))
        let monday = try #require(ISO8601DateFormatter().date(from: "2026-12-07T10:00:00+01:00"))
        let saturday = monday.addingTimeInterval(5 * 86_400)
        var names: [String] = []
        for date in [monday, saturday] {
            if case .route(let r) = table.decide(
                source: "pbx", called: "+4930987654", caller: nil, message: message, at: date)
            {
                names.append(r.name)
            }
        }
        #expect(names == ["office-hours", "after-hours"])
    }
}
