import Foundation

/// The built-in stub (`mosaic agent stub`, see `StubAgent`): a line-oriented chat agent for demos
/// and tests that writes its own heartbeat, so it needs no sidecar and no hooks. It runs as
/// `mosaic`, acknowledges framed messages itself, and takes `/reset` inside the frame too.
public struct StubRuntime: Runtime {
    public var kind: RuntimeKind { .stub }
    /// None: the pane runs mosaic's own `agent stub`.
    public var binary: String? { nil }
    public var expectedCommands: Set<String>? { ["mosaic"] }
    public var inputShapes: [InputShape] { [.stub] }
    public var resetCommand: String? { "/reset" }
    public var framesReset: Bool { true }
    public var acknowledgesMessages: Bool { true }
    public var usesSidecar: Bool { false }

    public func launch(_ context: IntegrationContext) -> LaunchAdditions { LaunchAdditions() }
    public func update(event: String, payload: HookPayload) -> StatusUpdate? { nil }
}

extension InputShape {
    public static let stub = InputShape(
        name: "stub", prompt: "stub> ?", editor: .lineDiscipline, bracketedPaste: true, clearKeys: ["C-u"],
        commands: ["mosaic"])
}
