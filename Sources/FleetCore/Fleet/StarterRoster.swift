import Foundation

/// The roster `fleet init` writes where none exists: a small demo fleet of stub agents.
public enum StarterRoster {
    public static let text = """
    # Mosaic Fleet roster (version 1). Reference: the README, section "Roster".
    version: 1
    # tenant: defaults to your user name; host: defaults to the short host name.
    tmux:
      socketName: mosaic-factory
      holderSession: _holder
    heartbeat:
      intervalSeconds: 15
    agents:
      - name: dogfood-orchestrator
        runtime: stub
        role: orchestrator
      - name: dogfood-coder
        runtime: stub
        role: coder
      - name: dogfood-reviewer
        runtime: stub
        role: reviewer
      - name: dogfood-tester
        runtime: stub
        role: tester
      # A real runtime instead: `runtime: claude` (or codex, pi, opencode, aider); see "Runtimes".

    """
}
