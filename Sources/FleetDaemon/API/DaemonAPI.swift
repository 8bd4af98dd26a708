import FleetCore
import Foundation
import Hummingbird
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// What `GET /api/v1/status` answers.
public struct DaemonStatus: Codable, Sendable, Equatable {
    public var pid: Int32
    public var started: String
    public var version: String
    public var home: String
    /// Agents whose sessions already ran when the daemon started; `nil` until the first snapshot.
    public var agentsAdopted: Int?
    public var journal: String
    public var journalAvailable: Bool
    public var supervisorTicks: Int

    public init(pid: Int32, started: String, version: String, home: String, agentsAdopted: Int?, journal: String,
                journalAvailable: Bool, supervisorTicks: Int) {
        self.pid = pid
        self.started = started
        self.version = version
        self.home = home
        self.agentsAdopted = agentsAdopted
        self.journal = journal
        self.journalAvailable = journalAvailable
        self.supervisorTicks = supervisorTicks
    }
}

/// Reads the fleet as `fleet ps` does; the daemon's is the batched PlaneReader, tests pass a fixed one.
public protocol FleetSource: Sendable {
    func snapshot() async throws -> FleetSnapshot
}

/// Everything the routes read. The web dashboard adds its pages and auth over the same value.
public struct DaemonAPI: Sendable {
    public var status: @Sendable () async -> DaemonStatus
    public var fleet: any FleetSource
    public var journal: DaemonJournal
    public var broadcaster: EventBroadcaster
    public var clock: @Sendable () -> Date

    public init(status: @escaping @Sendable () async -> DaemonStatus, fleet: any FleetSource, journal: DaemonJournal,
                broadcaster: EventBroadcaster, clock: @escaping @Sendable () -> Date = Date.init) {
        self.status = status
        self.fleet = fleet
        self.journal = journal
        self.broadcaster = broadcaster
        self.clock = clock
    }
}

/// The request context of the daemon's routes: it keeps the connection's channel so the peer's
/// credentials can be read.
public struct DaemonRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Refuses a unix-socket peer whose uid is not ours (SO_PEERCRED). NIO exposes the option through
/// `SocketOptionProvider`, which every NIOPosix socket channel is. A channel that is not a socket
/// (the router tests' in-memory one) has no peer to check; one whose credentials cannot be read
/// is refused. Only the unix-socket application installs this; TCP gets auth instead.
public struct PeerCredentialMiddleware: RouterMiddleware {
    public typealias Context = DaemonRequestContext
    let uid: uid_t

    public init(uid: uid_t = getuid()) { self.uid = uid }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let provider = context.channel as? any SocketOptionProvider {
            let peer: PeerCredentials
            do {
                peer = try await provider.unsafeGetSocketOption(
                    level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)).get()
            } catch {
                throw HTTPError(.forbidden, message: "the peer's credentials cannot be read: \(error)")
            }
            guard peer.uid == uid else {
                context.logger.warning("refused a connection from uid \(peer.uid) (pid \(peer.pid))")
                throw HTTPError(.forbidden, message: "only uid \(uid) may use this daemon")
            }
        }
        return try await next(request, context)
    }
}

/// `struct ucred` of <sys/socket.h>, which Glibc's Swift module leaves out (it needs _GNU_SOURCE).
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// The daemon's routes, under `/api/v1`.
public func buildRouter(_ api: DaemonAPI, checkPeer: Bool = true) -> Router<DaemonRequestContext> {
    let router = Router(context: DaemonRequestContext.self)
    if checkPeer { router.add(middleware: PeerCredentialMiddleware()) }
    let v1 = router.group("api/v1")

    v1.get("status") { _, _ in
        jsonResponse(try encoder().encode(await api.status()))
    }

    v1.get("fleet") { _, _ in
        let snapshot = try await api.fleet.snapshot()
        return jsonResponse(Data((try SnapshotRenderer.json(snapshot).rendered() + "\n").utf8))
    }

    v1.get("events") { request, _ in
        let filter = try EventQuery.filter(request.uri.queryParameters, now: api.clock())
        let events = try await journalEvents(api, filter)
        if request.uri.queryParameters["format"] == "jsonl" {
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"],
                            body: .init(byteBuffer: ByteBuffer(string: events.map { $0.jsonLine() + "\n" }.joined())))
        }
        return jsonResponse(try encoder().encode(events))
    }

    // Server-Sent Events: `id:` is the row id (a client resumes with `?after=`), `data:` one JSON
    // event. The backlog after `after` comes first, then rows as the journal gets them.
    v1.get("events/stream") { request, _ in
        let filter = try EventQuery.filter(request.uri.queryParameters, now: api.clock())
        // Subscribe before reading the backlog, so no row falls between the two.
        let (subscription, live) = await api.broadcaster.subscribe()
        let backlog: [JournalEvent]
        do { backlog = try await journalEvents(api, filter) } catch {
            await api.broadcaster.unsubscribe(subscription)
            throw error
        }
        let broadcaster = api.broadcaster
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                var last = filter.afterId ?? 0
                do {
                    // A comment line first: the client knows the stream is open before any event.
                    try await writer.write(ByteBuffer(string: ": mosaic events\n\n"))
                    for event in backlog {
                        try await writer.write(ByteBuffer(string: sse(event)))
                        last = max(last, event.id ?? last)
                    }
                    for await event in live where (event.id ?? 0) > last && filter.matches(event) {
                        try await writer.write(ByteBuffer(string: sse(event)))
                        last = event.id ?? last
                    }
                } catch {
                    await broadcaster.unsubscribe(subscription)
                    throw error
                }
                await broadcaster.unsubscribe(subscription)
                try await writer.finish(nil)
            })
    }
    return router
}

/// The daemon's HTTP application on its unix socket (mode 0600). The socket file of a daemon that
/// was killed is removed first: the caller holds the daemon lock, so no live daemon owns it.
public func buildApplication(_ api: DaemonAPI, socketPath: String, logger: Logger,
                             host: any FleetCore.Host = LocalHost(),
                             onRunning: @escaping @Sendable () async -> Void = {}) -> some ApplicationProtocol {
    host.removeFile(socketPath)
    return Application(
        router: buildRouter(api),
        configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "mosaic-daemon"),
        onServerRunning: { _ in
            chmod(socketPath, 0o600)
            await onRunning()
        },
        logger: logger)
}

func journalEvents(_ api: DaemonAPI, _ filter: EventFilter) async throws -> [JournalEvent] {
    do { return try await api.journal.events(filter) } catch {
        throw HTTPError(.serviceUnavailable, message: "\(error)")
    }
}

func sse(_ event: JournalEvent) -> String {
    "id: \(event.id ?? 0)\ndata: \(event.jsonLine())\n\n"
}

func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}

func jsonResponse(_ data: Data) -> Response {
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// The query parameters of the event routes: `since` (a duration back, `90s` `15m` `1h` `7d`, or an
/// ISO 8601 time), `after` (a row id), `agent`, `kind`, `limit`.
public enum EventQuery {
    public static func filter(_ query: Parameters, now: Date) throws -> EventFilter {
        var filter = EventFilter()
        if let since = query["since"].map(String.init) {
            guard let date = SinceParser.parse(since, now: now) else {
                throw HTTPError(.badRequest, message: "since=\(since) is neither a duration (90s, 15m, 1h, 7d) nor an ISO 8601 time")
            }
            filter.since = date
        }
        if let after = query["after"].map(String.init) {
            guard let id = Int64(after), id >= 0 else { throw HTTPError(.badRequest, message: "after=\(after) is not a row id") }
            filter.afterId = id
        }
        if let agent = query["agent"].map(String.init) {
            guard AgentName.isValid(agent) else { throw HTTPError(.badRequest, message: RosterError.invalidAgentName(agent).description) }
            filter.agent = agent
        }
        if let kind = query["kind"].map(String.init) { filter.kind = EventKind(rawValue: kind) }
        if let limit = query["limit"].map(String.init) {
            guard let n = Int(limit), n > 0 else { throw HTTPError(.badRequest, message: "limit=\(limit) is not a positive number") }
            filter.limit = n
        }
        return filter
    }
}

/// `--since` / `since=`: a duration back from now, or an absolute ISO 8601 UTC time.
public enum SinceParser {
    public static func parse(_ text: String, now: Date) -> Date? {
        if let date = Timestamp.parse(text) { return date }
        guard let unit = text.last, let value = Double(text.dropLast()), value >= 0 else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = value
        case "m": seconds = value * 60
        case "h": seconds = value * 3600
        case "d": seconds = value * 86_400
        default: return nil
        }
        return now.addingTimeInterval(-seconds)
    }
}
