import ArgumentParser
import FleetCore
import FleetDaemon
import Foundation

/// The exit codes scripts can rely on, mapped in this one place.
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let negativeVerdict: Int32 = 3
    static let usage: Int32 = 64
    static let badInput: Int32 = 65
    static let unavailable: Int32 = 69
    static let timedOut: Int32 = 75

    static let helpText = """
    Exit status:
      0   success
      1   failure
      3   ran fine, but the verdict is negative (an agent unhealthy, a problem found)
      64  bad usage
      65  bad roster or input
      69  tmux or systemd unavailable
      75  timed out, or a fleet daemon already runs for this home
    """

    static func code(for error: Error) -> Int32 {
        switch error {
        case is RosterError, is RosterEditError, is RoleError, is AgentDefinition.Problem: return badInput
        case let error as TmuxError:
            switch error {
            case .notInstalled, .noServer, .noSuchSession: return unavailable
            case .timedOut: return timedOut
            case .invalidSocket: return badInput
            default: return failure
            }
        case let error as SystemdError:
            if case .timedOut = error { return timedOut }
            if case .unavailable = error { return unavailable }
            return failure
        case let error as LaunchError:
            if case .runtimeNotFound = error { return unavailable }
            if case .serverNotRunning = error { return unavailable }
            if case .unmanagedServer = error { return failure }
            return badInput
        case is MessageError: return badInput
        case let error as SendError:
            if case .paneDead = error { return unavailable }
            if case .noResetCommand = error { return badInput }
            return failure
        // EX_TEMPFAIL: under systemd (Restart=always) the unit takes over once a hand-run daemon stops.
        case is DaemonLock.Failure: return timedOut
        case let error as DaemonClientError:
            if case .notRunning = error { return unavailable }
            return failure
        case let error as FileLock.Failure:
            if case .timedOut = error { return timedOut }
            return failure
        case let error as ProcessError:
            if case .timedOut = error { return timedOut }
            if case .notFound = error { return unavailable }
            return failure
        default: return failure
        }
    }
}

extension ExitStatus {
    /// A send's exit status: accepted (or sent unverified) 0, draft and unverifiable 3, busy 75.
    static func code(for outcome: SendOutcome) -> Int32 {
        switch outcome.verdict {
        case nil: return outcome.submitted ? success : negativeVerdict
        case .accepted?: return success
        case .draft?, .unverifiable?: return negativeVerdict
        case .busy?: return timedOut
        }
    }
}

/// Runs a command body: domain errors become one clear line on stderr and their exit code.
func guarded(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        Console.error("\(error)")
        throw ExitCode(ExitStatus.code(for: error))
    }
}
