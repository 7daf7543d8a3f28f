import Foundation
import GRDB
import Logging
import Routing
import SIPCore

/// Call records in an SQLite file: one row per call in `calls`, one per target tried in `attempts`.
///
/// `submit` only appends to a locked buffer and returns: it is called on a shard's event loop, and a slow disk must
/// never delay SIP. A dedicated writer thread (SQLite calls block, so not a task on the cooperative pool) takes the
/// buffer every `batchInterval` or as soon as `batchSize` records wait, and writes them in one transaction. A batch
/// that fails to write is logged and dropped: a call record is never worth stopping calls for. Beyond
/// `maxPending` queued records (the disk is stuck), new ones are dropped and counted in the log.
///
/// Readers (the `patchbay calls` command) open the same file read-only while `patchbay run` writes it: the file is in
/// WAL mode, so a query never waits for a batch and never blocks one.
public final class CallRecordStore: CallRecordSink, @unchecked Sendable {
    // @unchecked: the mutable state below is only touched with `condition` held; `reader`/`writer` are GRDB
    // connections, which serialise their own use.
    private let reader: any DatabaseReader
    private let writer: (any DatabaseWriter)?
    public let path: String
    public let retentionDays: Int
    private let logger: Logger
    private let batchInterval: TimeInterval
    private let batchSize: Int
    private let maxPending: Int

    private let condition = NSCondition()
    private var pending: [CallRecord] = []
    /// Records handed to `submit` so far, and how many of them the writer has finished with (written or failed).
    private var submitted = 0
    private var done = 0
    private var dropped = 0
    private var flushWaiters: [(upTo: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []
    private var closing = false
    private var writerExited = false
    private var nextRetention: Date

    /// Opens (creating it and its directory if needed) the store for writing, brings the schema up to date, deletes
    /// records older than `retentionDays`, and starts the writer thread.
    public init(
        path: String, retentionDays: Int, logger: Logger, batchInterval: TimeInterval = 0.2, batchSize: Int = 100,
        maxPending: Int = 100_000
    ) throws {
        self.path = path
        self.retentionDays = retentionDays
        self.logger = logger
        self.batchInterval = batchInterval
        self.batchSize = batchSize
        self.maxPending = maxPending
        self.nextRetention = Date().addingTimeInterval(Self.retentionPeriod)
        let pool: DatabasePool
        do {
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            var config = Configuration()
            config.label = "call-records"
            // A reader checkpointing or another process holding the lock briefly must not fail a batch.
            config.busyMode = .timeout(5)
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
        } catch {
            throw CallRecordStoreError(path: path, reason: Self.describe(error))
        }
        self.reader = pool
        self.writer = pool
        do {
            let deleted = try deleteExpired()
            if deleted > 0 {
                logger.info("call records expired", metadata: ["deleted": "\(deleted)", "path": "\(path)"])
            }
        } catch {
            try? pool.close()
            throw CallRecordStoreError(path: path, reason: Self.describe(error))
        }
        let thread = Thread { [self] in writerLoop() }
        thread.name = "call-records"
        thread.start()
    }

    /// Opens an existing store for queries only (`patchbay calls`): nothing is created, migrated or deleted.
    public init(readOnlyAt path: String, logger: Logger = Logger(label: "patchbay.records")) throws {
        self.path = path
        self.retentionDays = 0
        self.logger = logger
        self.batchInterval = 0
        self.batchSize = 0
        self.maxPending = 0
        self.nextRetention = .distantFuture
        self.closing = true
        self.writerExited = true
        guard FileManager.default.fileExists(atPath: path) else {
            throw CallRecordStoreError(
                path: path, reason: "no such file (is call_records enabled, and has patchbay run?)")
        }
        do {
            var config = Configuration()
            config.readonly = true
            config.label = "call-records"
            config.busyMode = .timeout(5)
            let queue = try DatabaseQueue(path: path, configuration: config)
            let (complete, superseded) = try queue.read { db in
                (try Self.migrator.hasCompletedMigrations(db), try Self.migrator.hasBeenSuperseded(db))
            }
            if superseded {
                throw CallRecordStoreError(path: path, reason: "written by a newer Patchbay (unknown schema version)")
            }
            if !complete {
                throw CallRecordStoreError(path: path, reason: "not a call records file, or one from an older Patchbay")
            }
            self.reader = queue
        } catch let e as CallRecordStoreError {
            throw e
        } catch {
            throw CallRecordStoreError(path: path, reason: Self.describe(error))
        }
        self.writer = nil
    }

    /// For `patchbay run`: the store the configuration asks for, or nil when records are off or the file cannot be
    /// opened (logged as an error: Patchbay then runs without records rather than not at all).
    public static func open(_ settings: PatchbayConfiguration.CallRecords, logger: Logger) -> CallRecordStore? {
        guard settings.enabled else { return nil }
        do {
            let store = try CallRecordStore(path: settings.path, retentionDays: settings.retentionDays, logger: logger)
            logger.info(
                "call records", metadata: ["path": "\(settings.path)", "retention_days": "\(settings.retentionDays)"])
            return store
        } catch {
            logger.error("call records disabled: \(error)")
            return nil
        }
    }

    // MARK: - Writing

    public func submit(_ record: CallRecord) {
        condition.lock()
        defer { condition.unlock() }
        guard !closing, pending.count < maxPending else {
            dropped += 1
            return
        }
        pending.append(record)
        submitted += 1
        // Wake the writer only when it has something to decide: the first record starts a batch window, a full
        // batch ends it early.
        if pending.count == 1 || pending.count >= batchSize { condition.signal() }
    }

    /// Returns once every record submitted before the call has been written (or its batch has failed and been
    /// logged). Returns at once on a read-only or closed store.
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if done >= submitted || writerExited {
                condition.unlock()
                continuation.resume()
                return
            }
            flushWaiters.append((submitted, continuation))
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Writes what is queued, stops the writer and closes the file. Records submitted afterwards are dropped.
    public func close() async {
        await flush()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in stopWriter(continuation) }
        guard let writer else { return }
        do {
            try writer.close()
            logger.info("call records closed", metadata: ["path": "\(path)"])
        } catch {
            logger.warning("call records: closing \(path): \(Self.describe(error))")
        }
    }

    private func stopWriter(_ continuation: CheckedContinuation<Void, Never>) {
        condition.lock()
        defer { condition.unlock() }
        closing = true
        if writerExited { return continuation.resume() }
        exitWaiters.append(continuation)
        condition.broadcast()
    }

    private func writerLoop() {
        condition.lock()
        while true {
            // Idle: sleep until a record comes, a close, or the hourly retention run.
            while pending.isEmpty && !closing {
                if !condition.wait(until: nextRetention) { break }
            }
            if pending.isEmpty && closing { break }
            if !pending.isEmpty {
                // A batch window: more records may join, unless the batch is full or someone waits for a flush.
                let deadline = Date().addingTimeInterval(batchInterval)
                while pending.count < batchSize && !closing && flushWaiters.isEmpty {
                    if !condition.wait(until: deadline) { break }
                }
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            let droppedNow = dropped
            dropped = 0
            let retentionDue = Date() >= nextRetention
            if retentionDue { nextRetention = Date().addingTimeInterval(Self.retentionPeriod) }
            condition.unlock()

            if droppedNow > 0 {
                logger.error("call records dropped: the writer is behind", metadata: ["dropped": "\(droppedNow)"])
            }
            if !batch.isEmpty { write(batch) }
            if retentionDue {
                do {
                    let deleted = try deleteExpired()
                    if deleted > 0 { logger.info("call records expired", metadata: ["deleted": "\(deleted)"]) }
                } catch {
                    logger.error(
                        "call records: retention failed: \(Self.describe(error))", metadata: ["path": "\(path)"])
                }
            }

            condition.lock()
            done += batch.count
            resumeFlushWaiters()
        }
        writerExited = true
        // Anyone still waiting (a flush racing with close) is released: nothing more will be written.
        done = submitted
        resumeFlushWaiters()
        for w in exitWaiters { w.resume() }
        exitWaiters.removeAll()
        condition.unlock()
    }

    /// With `condition` held.
    private func resumeFlushWaiters() {
        let ready = flushWaiters.filter { $0.upTo <= done }
        flushWaiters.removeAll { $0.upTo <= done }
        for w in ready { w.continuation.resume() }
    }

    private func write(_ batch: [CallRecord]) {
        guard let writer else { return }
        do {
            try writer.write { db in
                for r in batch { try Self.insert(r, into: db) }
            }
        } catch {
            // The batch is lost, not retried: retrying a batch the database refuses could stall every later one.
            logger.error(
                "call records not written: \(Self.describe(error))",
                metadata: [
                    "records": "\(batch.count)", "path": "\(path)",
                    "first_a_call_id": "\(batch.first?.aCallID ?? "-")",
                ])
        }
    }

    private static func insert(_ r: CallRecord, into db: Database) throws {
        let call = try db.cachedStatement(
            sql: """
                INSERT INTO calls (a_call_id, b_call_id, source, route, called_in, caller_in, called_house,
                  caller_house, target, result, setup_time, answer_time, end_time, ended_by, duration)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let callArguments: [(any DatabaseValueConvertible)?] = [
            r.aCallID, r.bCallID, r.source, r.route, r.calledIn, r.callerIn, r.calledHouse, r.callerHouse,
            r.target, r.result, Self.storageText(r.setupTime), r.answerTime.map(Self.storageText),
            r.endTime.map(Self.storageText), r.endedBy, r.durationSeconds,
        ]
        try call.execute(arguments: StatementArguments(callArguments))
        let id = db.lastInsertedRowID
        let attempt = try db.cachedStatement(
            sql: """
                INSERT INTO attempts (call_id, position, peer, status, b_call_id, called_number, caller_number, note)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for (i, a) in r.attempts.enumerated() {
            let arguments: [(any DatabaseValueConvertible)?] = [
                id, i, a.peer, a.status, a.bCallID, a.calledNumber, a.callerNumber, a.note,
            ]
            try attempt.execute(arguments: StatementArguments(arguments))
        }
    }

    /// A date as GRDB stores one (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), so the rows read back and compare as before.
    /// GRDB formats through DateFormatter and ICU: three dates per call made that a third of the cost of writing
    /// its record (about 2 % of the router's CPU under load).
    static func storageText(_ date: Date) -> String {
        // To the nearest millisecond, as DateFormatter does: a Double holding x.001 may be x.000999...
        let totalMillis = (date.timeIntervalSince1970 * 1000).rounded()
        var seconds = time_t((totalMillis / 1000).rounded(.down))
        let millis = Int(totalMillis - Double(seconds) * 1000)
        var tm = tm()
        gmtime_r(&seconds, &tm)
        var out = [UInt8]()
        out.reserveCapacity(23)
        func put(_ value: Int, _ digits: Int) {
            var d = digits
            var divisor = 1
            while d > 1 {
                divisor *= 10
                d -= 1
            }
            var v = value
            while divisor > 0 {
                out.append(UInt8(0x30 + (v / divisor) % 10))
                v %= divisor
                divisor /= 10
            }
        }
        put(Int(tm.tm_year) + 1900, 4)
        out.append(0x2D)
        put(Int(tm.tm_mon) + 1, 2)
        out.append(0x2D)
        put(Int(tm.tm_mday), 2)
        out.append(0x20)
        put(Int(tm.tm_hour), 2)
        out.append(0x3A)
        put(Int(tm.tm_min), 2)
        out.append(0x3A)
        put(Int(tm.tm_sec), 2)
        out.append(0x2E)
        put(min(999, max(0, millis)), 3)
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Retention

    static let retentionPeriod: TimeInterval = 3600

    /// Deletes calls set up more than `retentionDays` before `now` (their attempts go with them). Runs at open and
    /// hourly on the writer thread; returns how many calls went.
    @discardableResult
    public func deleteExpired(now: Date = Date()) throws -> Int {
        guard let writer else { return 0 }
        let cutoff = now.addingTimeInterval(-Double(retentionDays) * 86_400)
        return try writer.write { db in
            try db.execute(sql: "DELETE FROM calls WHERE setup_time < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    // MARK: - Queries

    /// The most recent `limit` calls matching every given filter, oldest first (like the tail of a log).
    /// - since: set up at or after this time.
    /// - peer: the source, the answering target, or any target tried.
    /// - failedOnly: never answered.
    public func calls(since: Date? = nil, peer: String? = nil, failedOnly: Bool = false, limit: Int = 100) throws
        -> [CallRecord]
    {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let since {
            conditions.append("setup_time >= ?")
            arguments.append(since)
        }
        if let peer {
            conditions.append("(source = ? OR target = ? OR id IN (SELECT call_id FROM attempts WHERE peer = ?))")
            arguments += [peer, peer, peer]
        }
        if failedOnly { conditions.append("answer_time IS NULL") }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(max(0, limit))
        let sql = "SELECT * FROM calls \(whereClause) ORDER BY setup_time DESC, id DESC LIMIT ?"
        do {
            return try reader.read { db in
                let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
                guard !rows.isEmpty else { return [] }
                let ids: [Int64] = rows.map { $0["id"] }
                var attempts: [Int64: [CallRecord.Attempt]] = [:]
                let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ",")
                for row in try Row.fetchAll(
                    db, sql: "SELECT * FROM attempts WHERE call_id IN (\(placeholders)) ORDER BY call_id, position",
                    arguments: StatementArguments(ids))
                {
                    attempts[row["call_id"], default: []].append(
                        CallRecord.Attempt(
                            peer: row["peer"], status: row["status"], bCallID: row["b_call_id"],
                            calledNumber: row["called_number"], callerNumber: row["caller_number"], note: row["note"]))
                }
                return rows.reversed().map { row in
                    var r = CallRecord(
                        aCallID: row["a_call_id"], source: row["source"], route: row["route"],
                        setupTime: row["setup_time"])
                    r.calledIn = row["called_in"]
                    r.callerIn = row["caller_in"]
                    r.calledHouse = row["called_house"]
                    r.callerHouse = row["caller_house"]
                    r.target = row["target"]
                    r.result = row["result"]
                    r.answerTime = row["answer_time"]
                    r.endTime = row["end_time"]
                    r.endedBy = row["ended_by"]
                    r.attempts = attempts[row["id"]] ?? []
                    return r
                }
            }
        } catch {
            throw CallRecordStoreError(path: path, reason: Self.describe(error))
        }
    }

    // MARK: - Schema

    /// Each schema change is a new migration appended here; never edit one that has shipped.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: calls and attempts") { db in
            try db.create(table: "calls") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("a_call_id", .text).notNull()
                t.column("b_call_id", .text)
                t.column("source", .text).notNull()
                t.column("route", .text)
                t.column("called_in", .text)
                t.column("caller_in", .text)
                t.column("called_house", .text)
                t.column("caller_house", .text)
                t.column("target", .text)
                t.column("result", .integer)
                // GRDB's date text, "YYYY-MM-DD HH:MM:SS.SSS" in UTC: sorts and compares as time, reads in sqlite3.
                t.column("setup_time", .datetime).notNull().indexed()
                t.column("answer_time", .datetime)
                t.column("end_time", .datetime)
                t.column("ended_by", .text)
                t.column("duration", .double)
            }
            try db.create(index: "calls_source", on: "calls", columns: ["source"])
            try db.create(index: "calls_target", on: "calls", columns: ["target"])
            try db.create(index: "calls_a_call_id", on: "calls", columns: ["a_call_id"])
            try db.create(table: "attempts") { t in
                t.column("call_id", .integer).notNull().references("calls", onDelete: .cascade)
                t.column("position", .integer).notNull()
                t.column("peer", .text).notNull()
                t.column("status", .integer).notNull()
                t.column("b_call_id", .text)
                t.column("called_number", .text)
                t.column("caller_number", .text)
                t.primaryKey(["call_id", "position"])
            }
            try db.create(index: "attempts_peer", on: "attempts", columns: ["peer"])
        }
        m.registerMigration("v2: why Patchbay gave up on a target") { db in
            try db.alter(table: "attempts") { t in t.add(column: "note", .text) }
        }
        return m
    }

    private static func describe(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        if let e = error as? CocoaError, let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError {
            return "\(e.localizedDescription) (\(underlying.localizedDescription))"
        }
        return "\(error)"
    }
}

/// The store could not be opened or read; `description` names the file and what is wrong with it.
public struct CallRecordStoreError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "call records \(path): \(reason)" }
}
