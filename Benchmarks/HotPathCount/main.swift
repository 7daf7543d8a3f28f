// The hot path of Benchmarks/HotPath as a plain loop, for `valgrind --tool=callgrind` (scripts/bench-callgrind.sh):
// instructions per message are exact and repeatable where wall-clock time on a shared VM is not, so a change worth
// 1 % can be measured. The script runs each path twice, with N and 2N iterations, and divides the difference by N,
// so setup (site and plugin loading) drops out.
//
// `transactions` is the transaction layer's share of one call, which the message paths leave out
// (`CallTransactions`): the call's four transactions, their responses, and their timers run out on a virtual clock.
//
// `call` is one basic call through `Call` and its machine (`CallFlow`): its state and decisions, with the shard
// replaced by a host that answers at once (no transactions, no parsing: the other paths count those).
//
// Usage: HotPathCount invite|200ok|bye|transactions|call|osip-invite|osip-200ok|osip-bye [ITERATIONS]
import BenchFixtures
import Harness
import NIOCore
import NIOEmbedded
import PluginAPI
import SIPCore

let which = CommandLine.arguments.dropFirst().first ?? "invite"
let iterations = CommandLine.arguments.dropFirst(2).first.flatMap { Int($0) } ?? 1_000
let site = loadBenchSite()
let path = HotPath(site: site, inDialogPeer: "uas")
let invite = benchMessage("invite.sip")
let ok = benchMessage("200-ok.sip")
let bye = benchMessage("bye.sip")
let inviteA = try SIPParser().parse(invite)
let clock = EmbeddedEventLoop()
let transactions = try CallTransactions(invite: inviteA, bye: try SIPParser().parse(bye), loop: clock)
let answerSDP = try SIPParser().parse(ok).body
let callFlow = CallFlow(site: site, invite: inviteA, from: "uac", to: "uas", answer: answerSDP)

// One warm-up pass (first-use costs: lazy globals, osip's init), then the loop; the output's byte count is summed and
// printed so the loop cannot be optimised away and an early exit shows as 0.
let paths: [String: () throws -> Int] = [
    "invite": { try path.initialRequest(invite, from: "uac").count },
    "200ok": { try path.response(ok, from: "uas", to: "uac", answering: inviteA).count },
    "bye": { try path.inDialogRequest(bye, from: "uac").count },
    "transactions": { try transactions.run { clock.advanceTime(by: .seconds(40)) } },
    "call": { try callFlow.run() },
    "osip-invite": { HotPath.osipParseAndSerialise(invite) },
    "osip-200ok": { HotPath.osipParseAndSerialise(ok) },
    "osip-bye": { HotPath.osipParseAndSerialise(bye) },
]
guard let run = paths[which] else { fatalError("unknown path '\(which)': one of \(paths.keys.sorted())") }
guard try run() > 0 else { fatalError("\(which) produced nothing") }
var sum = 0
for _ in 0..<iterations { sum &+= try run() }
print("\(which) iterations=\(iterations) bytes=\(sum)")
