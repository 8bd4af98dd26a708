import Foundation

/// The text of every file the fleet writes for other programs: tmux config and systemd units.
public enum FleetFiles {
    public static let holderUnit = "mosaic-holder.service"
    public static let agentTemplate = "mosaic-agent@.service"
    public static let daemonUnit = "mosaic-daemon.service"

    public static func agentUnit(_ name: String) -> String { "mosaic-agent@\(name).service" }

    /// The fleet's own tmux config: the user's ~/.tmux.conf never applies to the fleet.
    public static func tmuxConfig() -> String {
        """
        # Written by mosaic; replaced on `mosaic fleet init` / `fleet up`. Do not edit.
        # The fleet's tmux server reads only this file, never ~/.tmux.conf.
        set -g default-shell /bin/sh
        set -g default-terminal screen-256color
        set -g history-limit 20000
        set -g remain-on-exit on
        set -g exit-empty off
        set -g status-left-length 40
        set -g base-index 0
        set -g pane-base-index 0
        set -g mouse off
        set -s escape-time 10
        # No key may switch a client to another session or make a read-only viewer writable
        # (default bindings include switch-client); only detach is kept for `agent attach`.
        unbind -a -T prefix
        unbind -a -T root
        bind -T prefix d detach-client

        """
    }

    public static func holderUnitText(tmuxPath: String, socket: String, config: String, mosaic: String, home: String) -> String {
        """
        # Written by `mosaic fleet init`; reinstalling replaces it.
        [Unit]
        Description=Mosaic Fleet tmux server (socket \(socket))

        [Service]
        Type=simple
        Environment=\(UnitQuote.environment("MOSAIC_HOME", home))
        # The tmux server runs in this unit, in the foreground (-D), so systemd supervises it and
        # an agent unit stopping can never take the server (and every agent) down with it.
        ExecStart=\(UnitQuote.execLine([tmuxPath, "-L", socket, "-f", config, "-D"]))
        ExecStartPost=\(UnitQuote.execLine([mosaic, "internal", "holder"]))
        # A crash restarts the server; the agent units bound to it are usually stopped with it
        # (panes still exiting make systemd see an unexpected stop; measured on systemd 252), so
        # `mosaic fleet up` starts them again. A clean exit (`tmux kill-server`) stays down.
        Restart=on-failure
        RestartSec=2

        [Install]
        WantedBy=default.target

        """
    }

    public static func agentTemplateText(mosaic: String, home: String, environmentFile: String) -> String {
        """
        # Written by `mosaic fleet init`; reinstalling replaces it. One instance per roster agent.
        [Unit]
        Description=Mosaic Fleet agent %i
        # BindsTo, not just Requires: when the server exits on its own (`tmux kill-server`), the
        # agent units stop too instead of staying "active" with no session (measured, systemd 252).
        BindsTo=\(holderUnit)
        After=\(holderUnit)

        [Service]
        # The agent's session lives in the holder's tmux server; this unit only creates and
        # kills it, so stopping it never touches another agent or the server.
        Type=oneshot
        RemainAfterExit=yes
        Environment=\(UnitQuote.environment("MOSAIC_HOME", home))
        # The PATH of the last `mosaic fleet init/up`, so the unit finds the same runtimes as the
        # shell that asked for them (the manager's own PATH is usually much shorter).
        EnvironmentFile=-\(UnitQuote.path(environmentFile))
        ExecStart=\(UnitQuote.execLine([mosaic, "internal", "launch"])) %i
        ExecStop=\(UnitQuote.execLine([mosaic, "internal", "stop"])) %i

        [Install]
        WantedBy=default.target

        """
    }

    public static func daemonUnitText(mosaic: String, home: String, environmentFile: String) -> String {
        """
        # Written by `mosaic fleet init`; reinstalling replaces it.
        [Unit]
        Description=Mosaic Fleet daemon (supervision, event journal, local API)
        # Never give up: a daemon refused because a hand-run one holds the lock (exit 75) takes
        # over once that one stops.
        StartLimitIntervalSec=0

        [Service]
        # READY=1 once the running agents are adopted; WATCHDOG=1 after every reconcile tick.
        Type=notify
        NotifyAccess=main
        WatchdogSec=60
        Environment=\(UnitQuote.environment("MOSAIC_HOME", home))
        EnvironmentFile=-\(UnitQuote.path(environmentFile))
        ExecStart=\(UnitQuote.execLine([mosaic, "daemon"]))
        Restart=always
        RestartSec=2
        # The daemon only observes and starts agents; stopping it must never stop them (they live
        # in the holder's tmux server), so only the daemon's own process is signalled.
        KillMode=process

        [Install]
        WantedBy=default.target

        """
    }
}
