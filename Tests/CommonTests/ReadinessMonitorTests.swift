import Logging
import Synchronization
import Testing
import VoiceFlowCommon

/// The readiness monitor's verdicts: a dependency's tolerance of failed passes covers a blip of
/// one that was up, never one not reached since the start; whoever follows the verdict is told
/// after every pass.
@Suite(.timeLimit(.minutes(1))) struct ReadinessMonitorTests {
    /// A probe that fails or passes as scripted, pass by pass (passing once the script is done).
    final class ScriptedProbe: Sendable {
        private let outcomes: Mutex<[Bool]>

        init(_ outcomes: [Bool]) {
            self.outcomes = Mutex(outcomes)
        }

        func probe() throws {
            let passes = outcomes.withLock { $0.isEmpty ? true : $0.removeFirst() }
            if !passes { throw APIError.serviceUnavailable }
        }
    }

    @Test func toleranceCoversABlipOfAnUpDependencyButNotOneNeverReached() async throws {
        let probe = ScriptedProbe([false, false, true, false, false, false, true])
        let (verdicts, sink) = AsyncStream.makeStream(of: Bool.self)
        let monitor = ReadinessMonitor(
            checks: [ReadinessCheck(name: "redis", tolerance: 2) { try probe.probe() }],
            period: .milliseconds(5), logger: Logger(label: "readiness-test"),
            onVerdict: { sink.yield($0) })
        let runner = Task { try await monitor.run() }
        var seen: [Bool] = []
        for await verdict in verdicts {
            seen.append(verdict)
            if seen.count == 7 { break }
        }
        // Down from the start (never reached), up, two tolerated failures, down on the third, up.
        #expect(seen == [false, false, true, true, true, false, true])
        runner.cancel()
        _ = try? await runner.value
        #expect(monitor.snapshot.ready == false)
    }

    @Test func theVerdictTurnsFalseWhenTheMonitorStops() async throws {
        let (verdicts, sink) = AsyncStream.makeStream(of: Bool.self)
        let monitor = ReadinessMonitor(
            checks: [ReadinessCheck(name: "always") {}], period: .milliseconds(5), logger: Logger(label: "readiness-test"),
            onVerdict: { sink.yield($0) })
        let runner = Task { try await monitor.run() }
        var iterator = verdicts.makeAsyncIterator()
        #expect(await iterator.next() == true)
        runner.cancel()
        _ = try? await runner.value
        sink.finish()
        var last: Bool?
        while let verdict = await iterator.next() { last = verdict }
        #expect(last == false)
    }
}
