//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// The conditional `GET /v1/environments/{env}/flags` of DESIGN §11.
struct FlagFetcher: Sendable {
    /// What one fetch found.
    enum Outcome: Sendable {
        /// `304`: the set sent as `If-None-Match` is current.
        case notModified
        /// `200`: a new set.
        case modified(FlagSet)
    }

    let httpClient: HTTPClient
    let configuration: HalyardClientConfiguration

    /// Fetches the flags, asking with `If-None-Match` whether `current` is still current.
    func fetch(current: FlagSet?) async throws -> Outcome {
        let url = configuration.flagsURL
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        if let token = configuration.readToken {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let current {
            request.headers.add(name: "If-None-Match", value: current.entityTag)
        }
        let response = try await httpClient.execute(request, timeout: configuration.requestTimeout.timeAmount)
        switch response.status {
        case .notModified:
            return .notModified
        case .ok:
            let body = try await response.body.collect(upTo: configuration.maximumBodyBytes)
            let set = try FlagSet.decode(Array(buffer: body), source: url)
            guard set.environment == configuration.environment else {
                throw HalyardClientError(.badFlagSet, subject: url, message: "the flag set is of environment \"\(set.environment)\"")
            }
            return .modified(set)
        default:
            let body = try? await response.body.collect(upTo: 4096)
            let text = body.map { String(buffer: $0) } ?? ""
            throw HalyardClientError(.badResponse, subject: url, message: "Halyard answered \(response.status.code) \(text)")
        }
    }
}

extension Duration {
    /// The duration as NIO's `TimeAmount`.
    var timeAmount: TimeAmount {
        .nanoseconds(components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000)
    }
}
