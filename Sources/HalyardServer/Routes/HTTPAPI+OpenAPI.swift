//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /openapi.yaml`: the OpenAPI 3.1 document of the whole HTTP API.
///
/// The document is `Sources/HalyardServer/openapi.yaml`, bundled as a resource; `OpenAPIDocumentTests` keeps it and
/// the router in step (every routed path is documented and every documented path is routed).
extension HTTPAPI {
    func addOpenAPIRoutes(to routes: inout RouteTable<BasicRequestContext>) {
        routes.get("/openapi.yaml") { _, _ in
            guard let document = OpenAPIDocument.bytes else {
                throw APIError.notFound("the OpenAPI document is not installed next to this binary")
            }
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: document))
        }
    }
}

/// The bundled OpenAPI document, read once.
enum OpenAPIDocument {
    /// The document's bytes, or `nil` when the resource bundle is not installed.
    ///
    /// SwiftPM's `Bundle.module` stops the process when it finds no bundle, so it is only asked when the bundle is
    /// beside the executable, where it looks first: a `halyard` binary copied without its
    /// `Halyard_HalyardServer.resources` directory answers 404 instead of crashing.
    static let bytes: ByteBuffer? = {
        let installed = Bundle.main.bundleURL.appendingPathComponent("Halyard_HalyardServer.resources").path
        guard FileManager.default.fileExists(atPath: installed),
            let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return ByteBuffer(bytes: data)
    }()
}
