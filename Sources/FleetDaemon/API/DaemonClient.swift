import FleetCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Why the CLI could not talk to the daemon.
public enum DaemonClientError: Error, Equatable, CustomStringConvertible {
    case notRunning(socket: String, reason: String)
    case failed(path: String, status: Int, body: String)

    public var description: String {
        switch self {
        case .notRunning(let socket, let reason):
            return "no fleet daemon answers on \(socket) (\(reason)); start it with `mosaic fleet up` or `mosaic daemon`"
        case .failed(let path, let status, let body):
            return "the daemon answered \(path) with HTTP \(status): \(body.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }
}

/// The CLI's side of the daemon API: HTTP/1.1 over the unix socket.
public struct DaemonClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) { self.socketPath = socketPath }

    /// One GET; the whole body.
    public func get(_ path: String) async throws -> Data {
        var body = Data()
        let status = try await request(path) { chunk in body.append(contentsOf: chunk) }
        guard status == 200 else { throw DaemonClientError.failed(path: path, status: status, body: String(decoding: body, as: UTF8.self)) }
        return body
    }

    /// Follows the Server-Sent-Events stream, calling `onEvent` for each event until the daemon
    /// ends the stream (its shutdown) or the task is cancelled.
    public func followEvents(_ path: String, onOpen: @Sendable () -> Void = {},
                             onEvent: (JournalEvent) throws -> Void) async throws {
        var pending = Data()
        var errorBody = Data()
        var opened = false
        let status = try await request(path) { chunk in
            pending.append(contentsOf: chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[pending.index(after: newline)...])
                if !opened { opened = true; onOpen() }
                if line.starts(with: Array("data: ".utf8)) {
                    try onEvent(try JournalEvent.decode(jsonLine: line.dropFirst(6)))
                }
            }
            if pending.count > 1 << 20 { errorBody = pending; pending = Data() }
        }
        guard status == 200 else {
            throw DaemonClientError.failed(path: path, status: status, body: String(decoding: pending + errorBody, as: UTF8.self))
        }
    }

    /// Sends a GET and hands the body to `onBody` chunk by chunk; returns the status.
    func request(_ path: String, onBody: (ByteBuffer) throws -> Void) async throws -> Int {
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: socketPath) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw DaemonClientError.notRunning(socket: socketPath, reason: Self.reason(error))
        }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
            head.headers.add(name: "Host", value: "localhost")
            head.headers.add(name: "Connection", value: "close")
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            var status = 0
            for try await part in inbound {
                switch part {
                case .head(let response): status = Int(response.status.code)
                case .body(let buffer): try onBody(buffer)
                case .end: return status
                }
            }
            return status
        }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return "\(error)"
    }
}

extension Data {
    mutating func append(contentsOf buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { append(contentsOf: $0) }
    }
}
