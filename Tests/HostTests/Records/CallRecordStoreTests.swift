import Foundation
import GRDB
import Logging
import Testing

@testable import Engine
@testable import Harness
@testable import Records
@testable import Routing
@testable import SIPCore

/// The SQLite call records store on its own: what goes in comes out, filters, retention, and what happens when the
/// file or the disk misbehaves. Each test has its own file in its own directory.
@Suite struct CallRecordStoreTests {
    let directory: URL
    var path: String { directory.appendingPathComponent("calls.sqlite").path }

    init() throws {
        directory = URL(fileURLWithPath: try TestSupport.temporaryDirectory(suffix: "-records"))
    }

    func open(retentionDays: Int = 90, logs: LogRecorder = LogRecorder()) throws -> CallRecordStore {
        try CallRecordStore(path: path, retentionDays: retentionDays, logger: logs.logger)
    }

    /// 8 threads submit 250 records each at once, as 8 event loops would: after a flush every one is stored, once.
    @Test func recordsFromManyThreadsAreAllWritten() async throws {
        let store = try open()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for i in 0..<250 { store.submit(CallRecord.sample("t\(thread)-\(i)")) }
        }
        await store.flush()
        let all = try store.calls(limit: 10_000)
        #expect(all.count == 2000)
        #expect(Set(all.map(\.aCallID)).count == 2000)
        #expect(all.allSatisfy { $0.attempts.count == 2 })
        await store.close()
    }

    /// While another process holds the write lock (a long checkpoint, a backup), `submit` still returns at once; the
    /// records are written when the lock goes.
    @Test func submitDoesNotWaitForTheDisk() async throws {
        let store = try open()
        let release = try holdWriteLock()
        store.submit(.sample("before"))
        try await Task.sleep(for: .milliseconds(400))  // the writer is now waiting for the lock
        let start = ContinuousClock.now
        for i in 0..<5000 { store.submit(.sample("locked-\(i)")) }
        let elapsed = ContinuousClock.now - start
        // A submit that waited for the lock would sit out the store's 5 s busy timeout; 5,000 queued ones take
        // milliseconds. The bound sits between the two, far from both, so a loaded machine does not trip it.
        #expect(elapsed < .seconds(2), "submit waited for the locked database: \(elapsed)")
        release()
        await store.flush()
        #expect(try store.calls(limit: 10_000).count == 5001)
        await store.close()
    }

    /// Every field and every attempt, with the numbers each target received, survives the round trip.
    @Test func aRecordComesBackAsItWent() async throws {
        let store = try open()
        let setup = Date(timeIntervalSince1970: 1_790_000_000.125)
        var r = CallRecord(aCallID: "a-1@pbx", source: "pbx", route: "national", setupTime: setup)
        r.calledIn = "0030987654"
        r.callerIn = "2345"
        r.calledHouse = "+4930987654"
        r.callerHouse = "+49301232345"
        r.attempts = [
            .init(peer: "gw", status: 503, bCallID: "pb-b1", calledNumber: "030987654", callerNumber: "0301232345"),
            .init(peer: "spare", status: 0),
            .init(peer: "g711-only", status: 488, note: "codec policy of peer 'g711-only' leaves no audio codec"),
            .init(
                peer: "itsp", status: 200, bCallID: "pb-b2", calledNumber: "+4930987654", callerNumber: "+49301232345"),
        ]
        r.target = "itsp"
        r.result = 200
        r.answerTime = setup.addingTimeInterval(2.5)
        r.endTime = setup.addingTimeInterval(62.75)
        r.endedBy = "callee"
        store.submit(r)
        await store.flush()
        let back = try #require(try store.calls(limit: 10).first)
        #expect(back.aCallID == r.aCallID && back.source == r.source && back.route == r.route)
        #expect(back.calledIn == r.calledIn && back.callerIn == r.callerIn)
        #expect(back.calledHouse == r.calledHouse && back.callerHouse == r.callerHouse)
        #expect(back.attempts == r.attempts)
        #expect(back.bCallID == "pb-b2")
        #expect(back.target == "itsp" && back.result == 200 && back.endedBy == "callee")
        // Stored to the millisecond.
        #expect(abs(back.setupTime.timeIntervalSince(setup)) < 0.001)
        #expect(abs((back.durationSeconds ?? 0) - 60.25) < 0.002)
        #expect(
            back.reportLine
                == "2026-09-21T14:13:20Z a=a-1@pbx pbx -> itsp route=national 0030987654 -> +4930987654 200 60.2s "
                + "ended_by=callee tried=gw:503,spare:down,g711-only:488,itsp:200")
        #expect(back.reportJSON.attempts[2].note == "codec policy of peer 'g711-only' leaves no audio codec")
        // The duration column holds what operators would otherwise compute.
        let duration = try await DatabaseQueue(path: path).read {
            try Double.fetchOne($0, sql: "SELECT duration FROM calls")
        }
        #expect(abs((duration ?? 0) - 60.25) < 0.002)
        await store.close()
    }

    /// --peer matches the source, the answering target or any target tried; --failed means never answered;
    /// --since by setup time; the limit keeps the most recent, oldest first.
    @Test func queriesFilterByPeerFailureAndTime() async throws {
        let store = try open()
        let now = Date()
        func record(_ id: String, from: String, tried: [(String, Int)], minutesAgo: Double) -> CallRecord {
            var r = CallRecord(
                aCallID: id, source: from, route: "r", setupTime: now.addingTimeInterval(-minutesAgo * 60))
            r.attempts = tried.map { .init(peer: $0.0, status: $0.1) }
            if let ok = tried.first(where: { $0.1 == 200 }) {
                r.target = ok.0
                r.result = 200
                r.answerTime = r.setupTime.addingTimeInterval(1)
            } else {
                r.result = tried.last?.1
            }
            r.endTime = r.setupTime.addingTimeInterval(10)
            return r
        }
        store.submit(record("old-answered", from: "pbx", tried: [("gw", 200)], minutesAgo: 120))
        store.submit(record("failover", from: "pbx", tried: [("gw", 503), ("itsp", 200)], minutesAgo: 50))
        store.submit(record("busy", from: "pbx", tried: [("gw", 486)], minutesAgo: 20))
        store.submit(record("inbound", from: "itsp", tried: [("pbx", 200)], minutesAgo: 10))
        store.submit(record("inbound-failed", from: "itsp", tried: [("pbx", 480)], minutesAgo: 5))
        await store.flush()

        func ids(since: Date? = nil, peer: String? = nil, failed: Bool = false, limit: Int = 100) throws -> [String] {
            try store.calls(since: since, peer: peer, failedOnly: failed, limit: limit).map(\.aCallID)
        }
        #expect(try ids() == ["old-answered", "failover", "busy", "inbound", "inbound-failed"])
        #expect(
            try ids(peer: "gw") == ["old-answered", "failover", "busy"], "tried, even when another target answered")
        #expect(try ids(peer: "itsp") == ["failover", "inbound", "inbound-failed"], "as target and as source")
        #expect(try ids(peer: "nobody") == [])
        #expect(try ids(failed: true) == ["busy", "inbound-failed"])
        #expect(try ids(peer: "pbx", failed: true) == ["busy", "inbound-failed"])
        #expect(
            try ids(since: CallRecord.parseSince("1h", now: now)) == ["failover", "busy", "inbound", "inbound-failed"])
        #expect(try ids(since: CallRecord.parseSince("15m", now: now), peer: "itsp") == ["inbound", "inbound-failed"])
        #expect(try ids(limit: 2) == ["inbound", "inbound-failed"], "the most recent, oldest first")
        await store.close()
    }

    /// Calls set up longer ago than retention_days go, with their attempts: hourly (deleteExpired) and at open.
    @Test func retentionDeletesOldCallsAndTheirAttempts() async throws {
        let store = try open(retentionDays: 30)
        let now = Date()
        store.submit(.sample("40-days", setupTime: now.addingTimeInterval(-40 * 86_400)))
        store.submit(.sample("20-days", setupTime: now.addingTimeInterval(-20 * 86_400)))
        store.submit(.sample("today", setupTime: now))
        await store.flush()
        #expect(try store.calls(limit: 10).count == 3, "the writer does not judge age, retention does")
        #expect(try store.deleteExpired(now: now) == 1)
        #expect(try store.calls(limit: 10).map(\.aCallID) == ["20-days", "today"])
        await store.close()
        #expect(try rowCounts() == (2, 4), "the old call's attempts went with it")

        // Opened again with a shorter retention: the 20-day-old call goes at once.
        let shorter = try open(retentionDays: 10)
        #expect(try shorter.calls(limit: 10).map(\.aCallID) == ["today"])
        await shorter.close()
        #expect(try rowCounts() == (1, 2))
    }

    /// `close` writes what is still queued: nothing submitted before shutdown is lost, and a reader opened afterwards
    /// (the CLI) sees it.
    @Test func closeWritesWhatIsQueued() async throws {
        let store = try CallRecordStore(path: path, retentionDays: 90, logger: LogRecorder().logger, batchInterval: 60)
        for i in 0..<10 { store.submit(.sample("queued-\(i)")) }
        await store.close()
        store.submit(.sample("after-close"))  // dropped, and no crash
        let reader = try CallRecordStore(readOnlyAt: path)
        #expect(try reader.calls(limit: 100).count == 10)
    }

    /// A file that is not SQLite, or a path that cannot be created, is a clear error naming the file; `open` (what
    /// `patchbay run` uses) logs it and gives no store instead of stopping Patchbay.
    @Test func unusableFilesGiveAClearError() async throws {
        try Data("this is not a database, it is a note about calls\n".utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: CallRecordStoreError.self) { try open() }
        #expect(error.description.contains(path))
        #expect(error.description.contains("not a database"), "\(error)")
        #expect(throws: CallRecordStoreError.self) { try CallRecordStore(readOnlyAt: path) }

        // A regular file where the directory should be.
        let blocked = directory.appendingPathComponent("calls.sqlite/records.sqlite").path
        let logs = LogRecorder()
        let none = CallRecordStore.open(.init(enabled: true, path: blocked, retentionDays: 90), logger: logs.logger)
        #expect(none == nil)
        #expect(
            logs.messages.contains {
                $0.level == .error && $0.text.contains("call records disabled") && $0.text.contains(blocked)
            })

        #expect(CallRecordStore.open(.init(enabled: false, path: path, retentionDays: 90), logger: logs.logger) == nil)

        let missing = try #require(throws: CallRecordStoreError.self) {
            try CallRecordStore(readOnlyAt: directory.appendingPathComponent("none.sqlite").path)
        }
        #expect(missing.description.contains("no such file"))
    }

    /// The database refuses a batch (here its attempts table was dropped behind the store's back): the error is
    /// logged with the number of records lost, flush still returns, and the next batches are tried again.
    @Test func aWriteErrorIsLoggedAndDoesNotStopTheStore() async throws {
        let logs = LogRecorder()
        let store = try open(logs: logs)
        store.submit(.sample("fine"))
        await store.flush()
        let other = try DatabaseQueue(path: path)
        try await other.write { try $0.execute(sql: "DROP TABLE attempts") }
        store.submit(.sample("lost-1"))
        store.submit(.sample("lost-2"))
        await store.flush()
        #expect(
            logs.messages.contains {
                $0.level == .error && $0.text.contains("call records not written") && $0.metadata["records"] == "2"
            })
        // Repaired: records flow again.
        try await other.write {
            try $0.execute(
                sql: """
                    CREATE TABLE attempts (call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                      position INTEGER NOT NULL, peer TEXT NOT NULL, status INTEGER NOT NULL, b_call_id TEXT,
                      called_number TEXT, caller_number TEXT, note TEXT, PRIMARY KEY (call_id, position))
                    """)
        }
        try other.close()
        store.submit(.sample("later"))
        await store.flush()
        #expect(try store.calls(limit: 10).map(\.aCallID) == ["fine", "later"])
        await store.close()
    }

    /// --since takes a span or an ISO 8601 time; anything else is refused.
    @Test func sinceAcceptsSpansAndTimes() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(CallRecord.parseSince("30m", now: now) == now.addingTimeInterval(-1800))
        #expect(CallRecord.parseSince("1h", now: now) == now.addingTimeInterval(-3600))
        #expect(CallRecord.parseSince("2d", now: now) == now.addingTimeInterval(-2 * 86_400))
        #expect(CallRecord.parseSince("90s", now: now) == now.addingTimeInterval(-90))
        #expect(CallRecord.parseSince("2026-11-20T10:00:00Z") == Date(timeIntervalSince1970: 1_795_168_800))
        #expect(CallRecord.parseSince("2026-11-20T11:00:00+01:00") == Date(timeIntervalSince1970: 1_795_168_800))
        #expect(CallRecord.parseSince("2026-11-20T10:00:00.500Z") == Date(timeIntervalSince1970: 1_795_168_800.5))
        #expect(CallRecord.parseSince("2026-11-20") == Date(timeIntervalSince1970: 1_795_132_800))
        for bad in ["", "h", "yesterday", "-1h", "1y", "2026-13-45"] {
            #expect(CallRecord.parseSince(bad, now: now) == nil, "\(bad)")
        }
    }

    /// Takes SQLite's write lock on the file from another connection, on a thread of its own, and keeps it until the
    /// returned function is called (which waits until the lock is gone).
    func holdWriteLock() throws -> @Sendable () -> Void {
        let other = try DatabaseQueue(path: path)
        let taken = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let released = DispatchSemaphore(value: 0)
        Thread {
            try? other.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN EXCLUSIVE")
                taken.signal()
                release.wait()
                try db.execute(sql: "COMMIT")
            }
            try? other.close()
            released.signal()
        }.start()
        taken.wait()
        return {
            release.signal()
            released.wait()
        }
    }

    /// Calls and attempts rows in the file, read behind the store's back.
    func rowCounts() throws -> (Int, Int) {
        let db = try DatabaseQueue(path: path)
        defer { try? db.close() }
        return try db.read {
            (
                try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM calls") ?? -1,
                try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM attempts") ?? -1
            )
        }
    }
}

extension CallRecord {
    /// A failover call: the gateway answered 503, the trunk 200.
    static func sample(_ id: String, setupTime: Date = Date()) -> CallRecord {
        var r = CallRecord(aCallID: id, source: "pbx", route: "national", setupTime: setupTime)
        r.calledIn = "0030987654"
        r.callerIn = "2345"
        r.attempts = [
            .init(peer: "gw", status: 503, bCallID: "b1-\(id)", calledNumber: "030987654"),
            .init(peer: "itsp", status: 200, bCallID: "b2-\(id)", calledNumber: "+4930987654"),
        ]
        r.target = "itsp"
        r.result = 200
        r.answerTime = setupTime.addingTimeInterval(1)
        r.endTime = setupTime.addingTimeInterval(5)
        r.endedBy = "caller"
        return r
    }
}

/// A logger whose messages a test can read.
final class LogRecorder: @unchecked Sendable {
    struct Message {
        var level: Logger.Level
        var text: String
        var metadata: [String: String]
    }

    private let lock = NSLock()
    private var stored: [Message] = []
    var messages: [Message] { lock.withLock { stored } }

    var logger: Logger {
        var l = Logger(label: "test.records") { _ in Handler(recorder: self) }
        l.logLevel = .trace
        return l
    }

    fileprivate func append(_ m: Message) { lock.withLock { stored.append(m) } }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            recorder.append(
                Message(
                    level: event.level, text: "\(event.message)",
                    metadata: (event.metadata ?? [:]).mapValues { "\($0)" }))
        }
    }

    @Test func datesAreWrittenAsGRDBWritesThem() throws {
        var dates = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400.5),  // 2000-02-29
            Date(timeIntervalSince1970: 1_798_761_599.999), Date(timeIntervalSince1970: 4_102_444_800.001),
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            dates.append(
                Date(timeIntervalSince1970: Double(generator.next(upperBound: UInt64(4_000_000_000_000))) / 1000))
        }
        for date in dates {
            #expect(
                CallRecordStore.storageText(date) == String.fromDatabaseValue(date.databaseValue),
                "\(date.timeIntervalSince1970)")
        }
    }
}
