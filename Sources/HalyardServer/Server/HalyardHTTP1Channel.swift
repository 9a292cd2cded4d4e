//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel with Halyard's handlers in each connection's pipeline.
///
/// It builds the pipeline as Hummingbird's `HTTP1Channel` does (HTTP/1 codec, conversion to HTTP types, the idle
/// timeout handler, the async channel that the router's task reads) and adds, in order: the ``ConnectionLimitHandler``
/// before the idle timeout handler, and the ``FastPathHandler`` after it, so that the idle timeout sees every request,
/// those answered on the fast path too. Hummingbird's `additionalChannelHandlers` go before the idle timeout handler,
/// hence this type.
struct HalyardHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let idleTimeout: Duration?
    /// The handlers before the idle timeout handler (the connection limit).
    let connectionHandlers: @Sendable () -> [any ChannelHandler]
    /// The handlers after it (the fast path).
    let requestHandlers: @Sendable () -> [any ChannelHandler]

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Hummingbird's defaults.
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderFieldSize = 80 * 1024
            decoderLimits.maxHeaderListSize = 80 * 1024
            decoderLimits.maxHeaderFieldCount = 1000
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false,
                withErrorHandling: false,
                withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: decoderLimits
            )
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandlers(connectionHandlers())
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: idleTimeout, logger: logger))
            try pipeline.addHandlers(requestHandlers())
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}
