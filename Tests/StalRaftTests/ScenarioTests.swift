import Foundation
import Testing
@testable import StalRaft

/// Readable scenarios in `Scenarios/*.txt` (the shape of etcd-io/raft's
/// `interaction_test.go` data files). Each block is one command, `----`, and the expected
/// output, ended by a blank line. Run with STAL_REWRITE_SCENARIOS=1 to rewrite the
/// expected outputs from the current behaviour (then review the diff).
@Suite struct ScenarioTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scenarios")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()
    }

    @Test func scenarioFilesExist() {
        #expect(Self.files.count >= 5)
    }

    @Test(arguments: ScenarioTests.files)
    func scenario(_ name: String) throws {
        let url = Self.directory.appendingPathComponent(name)
        let text = try String(contentsOf: url, encoding: .utf8)
        var runner = ScenarioRunner()
        var rewritten: [String] = []
        for block in ScenarioBlock.parse(text) {
            let actual = runner.run(block.command)
            #expect(actual == block.expected, "\(name): \(block.command)")
            rewritten.append(block.rendered(output: actual))
        }
        if ProcessInfo.processInfo.environment["STAL_REWRITE_SCENARIOS"] == "1" {
            try rewritten.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        }
    }
}

struct ScenarioBlock {
    var comments: [String]
    var command: String
    var expected: [String]

    static func parse(_ text: String) -> [ScenarioBlock] {
        var blocks: [ScenarioBlock] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
        while !lines.isEmpty {
            var comments: [String] = []
            while let l = lines.first, l.hasPrefix("#") || l.isEmpty {
                if l.hasPrefix("#") { comments.append(l) }
                lines.removeFirst()
            }
            guard let command = lines.popFirst() else { break }
            guard lines.first == "----" else { break }
            lines.removeFirst()
            var expected: [String] = []
            while let l = lines.first, !l.isEmpty {
                expected.append(l)
                lines.removeFirst()
            }
            blocks.append(ScenarioBlock(comments: comments, command: command, expected: expected))
        }
        return blocks
    }

    func rendered(output: [String]) -> String {
        (comments + [command, "----"] + output).joined(separator: "\n") + "\n"
    }
}

/// Interprets scenario commands against a `TestCluster`.
struct ScenarioRunner {
    var cluster = TestCluster(voters: [1])

    mutating func run(_ line: String) -> [String] {
        let words = line.split(separator: " ").map(String.init)
        guard let verb = words.first else { return ["error: empty command"] }
        let args = Array(words.dropFirst())
        func id(_ i: Int) -> RaftNodeID { RaftNodeID(args[i])! }
        func describe(_ refusal: RaftRefusal?) -> [String] { [refusal.map { "refused: \($0)" } ?? "ok"] }
        switch verb {
        case "cluster":
            // cluster 1,2,3 [no-prevote] [no-checkquorum]
            let voters = args[0].split(separator: ",").map { RaftNodeID($0)! }
            let preVote = !args.contains("no-prevote")
            let checkQuorum = !args.contains("no-checkquorum")
            cluster = TestCluster(voters: voters) {
                $0.preVote = preVote
                $0.checkQuorum = checkQuorum
            }
            return status()
        case "campaign":
            cluster.elect(id(0))
            return status()
        case "tick":
            // tick <times> [node]: every node, or one node, `times` times, then settle
            let times = Int(args[0])!
            if args.count > 1 {
                cluster.tick(id(1), times: times)
                cluster.settle()
            } else {
                cluster.tickAll(times: times)
            }
            return status()
        case "propose":
            let result = cluster.propose(id(0), args[1])
            switch result {
            case .success(let p): return ["ok index=\(p.index) term=\(p.term)"]
            case .failure(let r): return describe(r)
            }
        case "isolate":
            cluster.isolate(id(0))
            return ["ok"]
        case "heal":
            cluster.heal()
            return ["ok"]
        case "conf":
            // conf <leader> add-voter|add-learner|remove <node>
            let op: ConfChange.Operation = switch args[1] {
            case "add-voter": .addVoter
            case "add-learner": .addLearner
            default: .removeNode
            }
            let result = cluster.nodes[id(0)]!.proposeConfChange(ConfChange(op, id(2)))
            cluster.settle()
            if case .failure(let r) = result { return describe(r) }
            return ["ok"]
        case "start":
            cluster.start(id(0), state: .joining)
            cluster.settle()
            return ["ok"]
        case "transfer":
            let refusal = cluster.nodes[id(0)]!.transferLeadership(to: id(1))
            cluster.settle()
            return describe(refusal) + status()
        case "read":
            // read <node> <context> [lease]
            let mode: ReadMode = args.contains("lease") ? .leaseBased : .safe
            let refusal = cluster.nodes[id(0)]!.readIndex(context: Array(args[1].utf8), mode: mode)
            cluster.settle()
            return describe(refusal)
        case "read-states":
            return (cluster.readStates[id(0)] ?? []).map { "index=\($0.index) context=\(String(decoding: $0.context, as: UTF8.self))" }
        case "compact":
            let n = cluster.node(id(0))
            let snap = cluster.nodes[id(0)]!.compact(through: n.status.applied, data: [])
            return [snap.map { "snapshot index=\($0.metadata.index) term=\($0.metadata.term) voters=\($0.metadata.confState.voters)" } ?? "nothing to compact"]
        case "applied":
            return ["n\(args[0]): \(cluster.appliedData(id(0)).joined(separator: " "))"]
        case "status":
            return status()
        default:
            return ["error: unknown command \(verb)"]
        }
    }

    func status() -> [String] {
        cluster.ids.sorted().map { id in
            let s = cluster.node(id).status
            var line = "n\(id) \(s.role) term=\(s.term) lead=\(s.leader) commit=\(s.commit) last=\(s.lastIndex)"
            line += " voters=\(s.confState.voters.map(String.init).joined(separator: ","))"
            if !s.confState.learners.isEmpty { line += " learners=\(s.confState.learners.map(String.init).joined(separator: ","))" }
            return line
        }
    }
}
