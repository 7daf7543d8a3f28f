// Patchbay's per-message hot path beside libosip2's parse + serialise of the same bytes (the floor), one message
// per inner iteration (scalingFactor .kilo: every figure is per 1,000 messages; the tables print it per message).
//
//   INVITE   Messages/invite.sip (what the load bench's UAC sends: five codecs, User-Agent) from peer `uac`:
//            parse, classify, IPPBX inbound adapter, route, ITSPTrunk outbound adapter, serialise the B-leg INVITE
//   200 OK   Messages/200-ok.sip (the UAS's answer with SDP) from `uas`: parse, both adapters, the A-leg 200
//   BYE      Messages/bye.sip from `uac`: parse, both adapters, the B-leg BYE
//
// The site is Examples/bench (the load bench's). Run: `make bench-micro` from the project root.
import BenchFixtures
import Benchmark
import Harness
import PluginAPI
import SIPCore

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )

    let invite = benchMessage("invite.sip")
    let ok = benchMessage("200-ok.sip")
    let bye = benchMessage("bye.sip")
    let site = loadBenchSite()
    let path = HotPath(site: site, inDialogPeer: "uas")
    // The A-leg INVITE the 200 OK answers, as the engine keeps it.
    let inviteA = try! SIPParser().parse(invite)
    // Every path must produce a message, or the figures would measure an early exit.
    precondition(!(try! path.initialRequest(invite, from: "uac")).isEmpty, "INVITE produced no B-leg request")
    precondition(
        !(try! path.response(ok, from: "uas", to: "uac", answering: inviteA)).isEmpty, "200 OK produced nothing")
    precondition(!(try! path.inDialogRequest(bye, from: "uac")).isEmpty, "BYE produced nothing")
    for m in [invite, ok, bye] { precondition(HotPath.osipParseAndSerialise(m) > 0, "osip refused a message") }

    Benchmark("osip parse+serialise INVITE") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(HotPath.osipParseAndSerialise(invite)) }
    }
    Benchmark("patchbay INVITE hot path") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try path.initialRequest(invite, from: "uac")) }
    }
    Benchmark("patchbay INVITE parse only") { benchmark in
        let parser = SIPParser()
        for _ in benchmark.scaledIterations { blackHole(try parser.parse(invite)) }
    }
    Benchmark("osip parse+serialise 200 OK") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(HotPath.osipParseAndSerialise(ok)) }
    }
    Benchmark("patchbay 200 OK hot path") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try path.response(ok, from: "uas", to: "uac", answering: inviteA))
        }
    }
    Benchmark("osip parse+serialise BYE") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(HotPath.osipParseAndSerialise(bye)) }
    }
    Benchmark("patchbay BYE hot path") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try path.inDialogRequest(bye, from: "uac")) }
    }
}
