import Hummingbird
import NIOCore
import StalCore

/// The node's erasure-coded blob storage as the management API sees it: JSON documents
/// (`BlobStoreStatus.json`, `ScrubReport.json`), so this layer needs no blob-store types.
public protocol BlobAdministration: Sendable {
    func statusJSON() async throws -> String
    /// Verifies every blob now, heals what it can, and returns the report.
    func scrubJSON() async throws -> String
}

extension ManagementAPI {
    func addBlobRoutes(to api: RouterGroup<ManagementRequestContext>) {
        let blobs = self.blobs
        @Sendable func require() throws -> any BlobAdministration {
            guard let blobs else {
                throw StalError(.notFound, "this node stores blobs as plain files (a [cluster] node); blob status and scrub need the blob store of a single node")
            }
            return blobs
        }
        api.get("blobs/status") { _, _ -> Response in
            Self.json(try await require().statusJSON())
        }
        api.post("blobs/scrub") { _, _ -> Response in
            Self.json(try await require().scrubJSON())
        }
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
