import Foundation
import Testing
@testable import FleetCore

@Suite("pane events from a tmux control-mode client")
struct PaneEventParserTests {
    /// Feeds lines (tabs written as `|`) and collects what comes out.
    static func feed(_ parser: inout PaneEventParser, _ lines: [String]) -> (events: [PaneEvent], send: [String], exit: String??) {
        var events: [PaneEvent] = [], send: [String] = [], exit: String?? = nil
        for line in lines {
            let step = parser.feed(line.replacingOccurrences(of: "|", with: "\t"))
            events += step.events
            send += step.send
            if let e = step.exit { exit = e }
        }
        return (events, send, exit)
    }

    @Test("hooks signal one channel; a baseline listing; then each wake lists once and waits again")
    func protocolFlow() {
        var parser = PaneEventParser()
        // Nothing is sent before the attach has answered (flags 0).
        #expect(Self.feed(&parser, ["%begin 1796300321 287 0"]).send.isEmpty)
        let first = Self.feed(&parser, ["%end 1796300321 287 0"]).send
        #expect(first == [
            "set-hook -g 'pane-died[47]' 'wait-for -S mosaic-pane-events'",
            "set-hook -g 'pane-exited[47]' 'wait-for -S mosaic-pane-events'",
            "set-hook -g 'session-closed[47]' 'wait-for -S mosaic-pane-events'",
            PaneEventParser.listCommand, "wait-for mosaic-pane-events", PaneEventParser.listCommand,
        ])
        // As tmux 3.3a answered (captured), after the attach's own reply (flags 0): ours (flags 1).
        let baseline = Self.feed(&parser, [
            "%session-changed $0 _holder",
            "%begin 1796300321 292 1", "%end 1796300321 292 1",
            "%begin 1796300321 293 1", "%end 1796300321 293 1",
            "%begin 1796300321 294 1", "%end 1796300321 294 1",
            "%begin 1796300321 295 1", "_holder|%0|0|100|||", "agent1|%1|0|101|||", "old|%2|1|102|3||",
            "agent2|%3|0|103|||", "%end 1796300321 295 1",
            "%begin 1796300321 296 1", "%end 1796300321 296 1",
        ])
        #expect(baseline.events == [.watching], "a pane already dead at attach is the snapshot's business, not an event")
        #expect(baseline.send.isEmpty)
        let wake = Self.feed(&parser, [
            "%begin 1796300322 299 1", "_holder|%0|0|100|||", "agent1|%1|1|101||9|", "old|%2|1|102|3||",
            "%end 1796300322 299 1",
        ])
        #expect(wake.events == [.paneDied(PaneDeath(session: "agent1", paneId: "%1", pid: 101, status: nil, signal: 9)),
                                .sessionClosed("agent2")])
        #expect(wake.send == ["wait-for mosaic-pane-events", PaneEventParser.listCommand])
        // The next wait's empty reply, then a listing where nothing new died: no event.
        let quiet = Self.feed(&parser, ["%begin 1 300 1", "%end 1 300 1", "%sessions-changed",
                                        "%begin 1 301 1", "_holder|%0|0|100|||", "agent1|%1|1|101|0||", "old|%2|1|102|3||", "%end 1 301 1"])
        #expect(quiet.events.isEmpty)
    }

    @Test("a respawned pane that dies again is a new death")
    func respawn() {
        var parser = PaneEventParser()
        _ = Self.feed(&parser, ["%begin 1 0 0", "%end 1 0 0"])
        _ = Self.feed(&parser, ["%begin 1 1 1", "%end 1 1 1", "%begin 1 2 1", "%end 1 2 1", "%begin 1 3 1", "%end 1 3 1",
                                "%begin 1 4 1", "a|%1|1|5|1||", "%end 1 4 1", "%begin 1 5 1", "%end 1 5 1"])
        _ = Self.feed(&parser, ["%begin 1 6 1", "a|%1|0|6|||", "%end 1 6 1", "%begin 1 7 1", "%end 1 7 1"])
        let again = Self.feed(&parser, ["%begin 1 8 1", "a|%1|1|6|2||", "%end 1 8 1"])
        #expect(again.events == [.paneDied(PaneDeath(session: "a", paneId: "%1", pid: 6, status: 2))])
    }

    @Test("a zombie tmux has not reaped is told once from its pid; the listing that follows does not tell it again")
    func unreapedZombie() {
        var parser = PaneEventParser()
        _ = Self.feed(&parser, ["%begin 1 0 0", "%end 1 0 0"])
        _ = Self.feed(&parser, ["%begin 1 1 1", "%end 1 1 1", "%begin 1 2 1", "%end 1 2 1", "%begin 1 3 1", "%end 1 3 1",
                                "%begin 1 4 1", "a|%1|0|5|||", "b|%2|0|7|||", "%end 1 4 1", "%begin 1 5 1", "%end 1 5 1"])
        #expect(Set(parser.live.keys) == [5, 7])
        #expect(parser.exited(pid: 99, status: 0, signal: nil) == nil, "not a pane's process")
        #expect(parser.exited(pid: 5, status: nil, signal: 9) == .paneDied(PaneDeath(session: "a", paneId: "%1", pid: 5, signal: 9)))
        #expect(parser.exited(pid: 5, status: nil, signal: 9) == nil, "told once")
        // tmux reaps it later (its next SIGCHLD) and the hook's listing shows it dead: not a second death.
        let later = Self.feed(&parser, ["%begin 1 6 1", "a|%1|1|5||9|", "b|%2|1|7|0||", "%end 1 6 1"])
        #expect(later.events == [.paneDied(PaneDeath(session: "b", paneId: "%2", pid: 7, status: 0))])
        #expect(parser.exited(pid: 7, status: 0, signal: nil) == nil, "told by the listing, not again by its pid")
        #expect(parser.live.isEmpty)
    }

    @Test("a refused attach ends the stream with tmux's words, and nothing is sent")
    func refusedAttach() {
        var parser = PaneEventParser()
        let step = Self.feed(&parser, ["%begin 1 1 0", "can't find session: =_holder", "%error 1 1 0"])
        #expect(step.exit == .some("can't find session: =_holder"))
        #expect(step.send.isEmpty && step.events.isEmpty)
    }

    @Test("%exit ends the stream with tmux's reason; output in blocks never counts as one")
    func exit() {
        var parser = PaneEventParser()
        _ = Self.feed(&parser, ["%begin 1 0 0", "%end 1 0 0"])
        #expect(Self.feed(&parser, ["%begin 1 1 1", "%exit pretend", "%end 1 1 1"]).exit == nil)
        #expect(Self.feed(&parser, ["%exit server exited unexpectedly"]).exit == .some("server exited unexpectedly"))
        #expect(Self.feed(&parser, ["%exit"]).exit == .some(nil))
    }

    @Test("the watcher's client is a read-only control client that ignores size and pane output, and never starts a server")
    func invocation() throws {
        let tmux = Tmux(socket: try TmuxSocket("s1"), configFile: "/h/tmux.conf", runner: SpawnRunner())
        let inv = tmux.paneEventsInvocation(holderSession: "_holder")
        #expect(inv.arguments == ["-L", "s1", "-f", "/h/tmux.conf", "-N", "-C", "attach-session", "-f", "read-only,ignore-size,no-output", "-t", "=_holder"])
    }
}
