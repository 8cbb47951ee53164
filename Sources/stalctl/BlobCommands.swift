import ArgumentParser
import Foundation

struct Blob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Inspect and verify the erasure-coded blob store.",
                                                    subcommands: [Status.self, Scrub.self])

    struct Status: StalctlCommand {
        static let configuration = CommandConfiguration(abstract: "Blob counts, bytes, location state, health and the last scrub.")
        @OptionGroup var connection: Connection
        func perform(_ client: ManagementClient) async throws {
            let status = (try await client.call("GET", "api/v1/blobs/status") as? [String: Any]) ?? [:]
            let scheme = status["scheme"] as? [String: Any] ?? [:]
            print("health\t\(status["health"] ?? "?")")
            print("scheme\t\(scheme["k"] ?? "?")+\(scheme["m"] ?? "?")")
            print("blobs\t\(status["blobs"] ?? 0)\tinline \(status["inline_blobs"] ?? 0)\tcoded \(status["erasure_coded_blobs"] ?? 0)")
            print("bytes\tlogical \(status["logical_bytes"] ?? 0)\tstored \(status["stored_bytes"] ?? 0)")
            print("awaiting heal\t\(status["blobs_awaiting_heal"] ?? 0)")
            for location in status["locations"] as? [[String: Any]] ?? [] {
                let state = (location["usable"] as? Bool) == true ? "up" : "DOWN"
                print("location\t\(location["id"] ?? "")\tdomain \(location["failure_domain"] ?? "")\t\(state)\tshards \(location["shards"] ?? 0)")
            }
            if let scrub = status["last_scrub"] as? [String: Any] {
                let at = (status["last_scrub_at_ms"] as? NSNumber).map {
                    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0.doubleValue / 1000))
                } ?? "?"
                print("last scrub\tat \(at)\t" + Blob.describe(scrub))
            } else {
                print("last scrub\tnever")
            }
        }
    }

    struct Scrub: StalctlCommand {
        static let configuration = CommandConfiguration(abstract: "Verify every blob now, heal damaged shards, print the result.")
        @OptionGroup var connection: Connection
        func perform(_ client: ManagementClient) async throws {
            let report = (try await client.call("POST", "api/v1/blobs/scrub") as? [String: Any]) ?? [:]
            print("scrub\t" + Blob.describe(report))
            let lost = report["unrecoverable"] as? [String] ?? []
            for id in lost { print("unrecoverable\t\(id)") }
            if !lost.isEmpty {
                throw StalctlError(code: StalctlExit.refused, message: "\(lost.count) blob(s) unrecoverable")
            }
        }
    }

    static func describe(_ report: [String: Any]) -> String {
        let lost = (report["unrecoverable"] as? [Any])?.count ?? 0
        return "checked \(report["blobs_checked"] ?? 0)\tread \(report["bytes_read"] ?? 0)\tmissing \(report["shards_missing"] ?? 0)"
            + "\tcorrupt \(report["shards_corrupt"] ?? 0)\thealed \(report["shards_healed"] ?? 0)"
            + "\theal failures \(report["heal_failures"] ?? 0)\tunrecoverable \(lost)"
    }
}
