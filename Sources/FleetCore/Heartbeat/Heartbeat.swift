import Foundation

/// One heartbeat, protocol v1: `key=value` lines; unknown keys are kept but ignored.
public struct Heartbeat: Sendable, Equatable {
    public var ts: Date
    public var pid: Int32
    /// `ok` or `busy` in v1; `waiting` where a runtime reports it. Unknown words are kept as sent.
    public var status: String
    /// The probe nonce this heartbeat answers, if it answers one.
    public var nonce: String?
    /// The id of the last message the runtime acknowledged (`agent send --verify`).
    public var ack: String?
    /// Keys this version does not interpret, in file order.
    public var extra: [(String, String)]

    public init(ts: Date, pid: Int32, status: String = "ok", nonce: String? = nil, ack: String? = nil,
                extra: [(String, String)] = []) {
        self.ts = ts
        self.pid = pid
        self.status = status
        self.nonce = nonce
        self.ack = ack
        self.extra = extra
    }

    public static func == (a: Heartbeat, b: Heartbeat) -> Bool {
        a.ts == b.ts && a.pid == b.pid && a.status == b.status && a.nonce == b.nonce && a.ack == b.ack
            && a.extra.elementsEqual(b.extra, by: ==)
    }

    /// The file's text. Values never contain a newline (they are checked when written).
    public func serialized() -> String {
        var lines = ["ts=\(Timestamp.format(ts))", "pid=\(pid)", "status=\(status)"]
        if let nonce { lines.append("nonce=\(nonce)") }
        if let ack { lines.append("ack=\(ack)") }
        lines += extra.map { "\($0.0)=\($0.1)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses a heartbeat file; `nil` when it has no valid `ts` (health is then unknown).
    public static func parse(_ text: String) -> Heartbeat? {
        var ts: Date?, pid: Int32 = 0, status = "ok", nonce: String?, ack: String?
        var extra: [(String, String)] = []
        for (key, value) in KeyValueLines.pairs(text) {
            switch key {
            case "ts": ts = Timestamp.parse(value)
            case "pid": pid = Int32(value) ?? 0
            case "status": status = value
            case "nonce": nonce = value.isEmpty ? nil : value
            case "ack": ack = value.isEmpty ? nil : value
            default: extra.append((key, value))
            }
        }
        guard let ts else { return nil }
        return Heartbeat(ts: ts, pid: pid, status: status, nonce: nonce, ack: ack, extra: extra)
    }
}

/// The `key=value` line format every run-directory file uses (heartbeat, probe, runtime state,
/// sidecar record): one parser. Lines without `=` are skipped; blanks around key and value trimmed.
public enum KeyValueLines {
    public static func pairs(_ text: String) -> [(String, String)] {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).compactMap { line in
            guard let eq = line.firstIndex(of: "=") else { return nil }
            return (line[..<eq].trimmingWhitespace(), line[line.index(after: eq)...].trimmingWhitespace())
        }
    }

    /// The pairs as a dictionary; a repeated key keeps its last value.
    public static func values(_ text: String) -> [String: String] {
        Dictionary(pairs(text), uniquingKeysWith: { _, last in last })
    }
}

extension Substring {
    /// `trimmingCharacters(in: .whitespaces)` without Foundation when the ends are ASCII (the
    /// bridged trim cost 10% of `fleet ps` at 1000 agents). In ASCII that set is space and tab only;
    /// a non-ASCII end (a no-break space, say) still goes to Foundation.
    func trimmingWhitespace() -> String {
        var start = utf8.startIndex, end = utf8.endIndex
        while start < end, utf8[start] == 0x20 || utf8[start] == 0x09 { start = utf8.index(after: start) }
        while start < end, utf8[utf8.index(before: end)] == 0x20 || utf8[utf8.index(before: end)] == 0x09 {
            end = utf8.index(before: end)
        }
        guard start < end else { return "" }
        if utf8[start] < 0x80 && utf8[utf8.index(before: end)] < 0x80 { return String(self[start..<end]) }
        return trimmingCharacters(in: .whitespaces)
    }
}

/// Health by the protocol's one rule: healthy if `now - ts <= 3 × interval`; and a timestamp
/// ahead of the clock by more than one interval is not healthy (`future`), whoever wrote it.
public enum HeartbeatHealth: String, Sendable, Codable {
    case healthy, stale, unknown, future

    public static func of(_ heartbeat: Heartbeat?, now: Date, interval: Int) -> HeartbeatHealth {
        guard let heartbeat else { return .unknown }
        let age = now.timeIntervalSince(heartbeat.ts)
        if age < -Double(interval) { return .future }
        return age <= Double(3 * interval) ? .healthy : .stale
    }
}

/// ISO 8601 UTC timestamps with milliseconds, formatted and parsed without shared formatters.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        // Floor division: before 1970 `ms / 1000` rounds up and `ms % 1000` is negative (fuzzing found it).
        let whole = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        var seconds = time_t(whole)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ms - whole * 1000), 3))Z"
    }

    /// Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)`; anything else is `nil`.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116, b[13] == 58, b[16] == 58 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int32? {
            var v: Int32 = 0
            for i in from..<(from + len) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int32(b[i] - 48)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
              let s = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var i = 19
        var fraction = 0.0, scale = 0.1
        if b[i] == 46 {
            i += 1
            while i < b.count, b[i] >= 48, b[i] <= 57 { fraction += Double(b[i] - 48) * scale; scale /= 10; i += 1 }
        }
        let rest = String(decoding: b[i...], as: UTF8.self)
        guard rest == "Z" || rest == "z" || rest == "+00:00" else { return nil }
        var parts = tm()
        parts.tm_year = y - 1900; parts.tm_mon = mo - 1; parts.tm_mday = d
        parts.tm_hour = h; parts.tm_min = mi; parts.tm_sec = s
        let epoch = timegm(&parts)
        return Date(timeIntervalSince1970: Double(epoch) + fraction)
    }
}
