// swift-tools-version:6.2
import PackageDescription

/// Settings shared by every VoiceFlow target: Swift 6 language mode with strict concurrency.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// Test targets keep strict concurrency but not member-import visibility (tests import broadly).
let testSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "voiceflow",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "voiceflow-auth", targets: ["voiceflow-auth"]),
        .executable(name: "voiceflow-rooms", targets: ["voiceflow-rooms"]),
        .executable(name: "voiceflow-messages", targets: ["voiceflow-messages"]),
        .executable(name: "voiceflow-gateway", targets: ["voiceflow-gateway"]),
        .executable(name: "voiceflow-signaling", targets: ["voiceflow-signaling"]),
        .executable(name: "voiceflow-web", targets: ["voiceflow-web"]),
        .executable(name: "voiceflow-jobs", targets: ["voiceflow-jobs"]),
        .library(name: "VoiceFlowCommon", targets: ["VoiceFlowCommon"]),
        .library(name: "VoiceFlowRedis", targets: ["VoiceFlowRedis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // MARK: Engines
        .systemLibrary(
            name: "CHiredis",
            path: "libs/CHiredis",
            // No pkgConfig: hiredis.pc only adds -I/usr/include/hiredis (the shim includes
            // <hiredis/...>) and a -D flag SwiftPM rejects with a warning.
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "VoiceFlowRedis",
            dependencies: [
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "libs/Redis",
            swiftSettings: strictSettings
        ),

        .target(
            name: "VoiceFlowSocketIO",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "libs/SocketIO",
            swiftSettings: strictSettings
        ),

        // The Socket.IO adapter for several nodes, over Redis pub/sub (the engine itself knows no Redis).
        .target(
            name: "VoiceFlowSocketIORedis",
            dependencies: [
                "VoiceFlowSocketIO",
                "VoiceFlowRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "libs/SocketIORedis",
            swiftSettings: strictSettings
        ),

        .target(
            name: "VoiceFlowJobQueue",
            dependencies: [
                "VoiceFlowRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "libs/JobQueue",
            swiftSettings: strictSettings
        ),

        // MARK: Service plumbing
        .target(
            name: "VoiceFlowCommon",
            dependencies: [
                "VoiceFlowRedis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "libs/Common",
            resources: [.copy("Migrations"), .copy("Resources/openapi.json"), .copy("Resources/asyncapi.json")],
            swiftSettings: strictSettings
        ),

        // MARK: services/auth
        .target(
            name: "AuthService",
            dependencies: [
                "VoiceFlowCommon",
                "VoiceFlowJobQueue",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            path: "services/auth/AuthService",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "voiceflow-auth",
            dependencies: [
                "AuthService",
                "VoiceFlowCommon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "services/auth/voiceflow-auth",
            swiftSettings: strictSettings
        ),

        // MARK: services/rooms
        .target(
            name: "RoomsService",
            dependencies: [
                "VoiceFlowCommon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "services/rooms/RoomsService",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "voiceflow-rooms",
            dependencies: [
                "RoomsService",
                "VoiceFlowCommon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "services/rooms/voiceflow-rooms",
            swiftSettings: strictSettings
        ),

        // MARK: services/messages
        .target(
            name: "MessagesService",
            dependencies: [
                "VoiceFlowCommon",
                "VoiceFlowRedis",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "services/messages/MessagesService",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "voiceflow-messages",
            dependencies: [
                "MessagesService",
                "VoiceFlowCommon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "services/messages/voiceflow-messages",
            swiftSettings: strictSettings
        ),

        // MARK: services/signaling
        .target(
            name: "SignalingService",
            dependencies: [
                "VoiceFlowCommon",
                "VoiceFlowRedis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "services/signaling/SignalingService",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "voiceflow-signaling",
            dependencies: [
                "SignalingService",
                "VoiceFlowCommon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "services/signaling/voiceflow-signaling",
            swiftSettings: strictSettings
        ),

        // MARK: services/web
        .target(
            name: "WebService",
            dependencies: [
                "VoiceFlowCommon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "services/web/WebService",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "voiceflow-web",
            dependencies: [
                "WebService",
                "VoiceFlowCommon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "services/web/voiceflow-web",
            swiftSettings: strictSettings
        ),

        // MARK: services/jobs
        .target(
            name: "JobsService",
            dependencies: [
                "VoiceFlowCommon",
                "VoiceFlowJobQueue",
                "VoiceFlowRedis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "services/jobs/JobsService",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "voiceflow-jobs",
            dependencies: [
                "JobsService",
                "VoiceFlowCommon",
                "VoiceFlowJobQueue",
                "VoiceFlowRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "services/jobs/voiceflow-jobs",
            swiftSettings: strictSettings
        ),

        // MARK: services/gateway
        .target(
            name: "GatewayService",
            dependencies: [
                "VoiceFlowCommon",
                "VoiceFlowRedis",
                "VoiceFlowSocketIO",
                "VoiceFlowSocketIORedis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "services/gateway/GatewayService",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "voiceflow-gateway",
            dependencies: [
                "GatewayService",
                "VoiceFlowCommon",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "services/gateway/voiceflow-gateway",
            swiftSettings: strictSettings
        ),

        // MARK: Tests
        .target(
            name: "TestSupport",
            dependencies: [
                "VoiceFlowCommon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                "VoiceFlowRedis",
            ],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "socketio-conformance-server",
            dependencies: [
                "VoiceFlowSocketIO",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/SocketIOConformanceServer",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SocketIOTests",
            dependencies: [
                "VoiceFlowSocketIO",
                "VoiceFlowSocketIORedis",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/SocketIOTests",
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "GatewayServiceTests",
            dependencies: [
                "GatewayService",
                "VoiceFlowSocketIO",
                "VoiceFlowCommon",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/GatewayServiceTests",
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "SignalingServiceTests",
            dependencies: [
                "SignalingService",
                "VoiceFlowCommon",
                "VoiceFlowRedis",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Tests/SignalingServiceTests",
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "WebServiceTests",
            dependencies: [
                "WebService",
                "VoiceFlowCommon",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/WebServiceTests",
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RedisTests",
            dependencies: [
                "VoiceFlowRedis",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/RedisTests",
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "JobsServiceTests",
            dependencies: [
                "JobsService",
                "VoiceFlowCommon",
                "VoiceFlowJobQueue",
                "VoiceFlowRedis",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/JobsServiceTests",
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "JobQueueTests",
            dependencies: [
                "VoiceFlowJobQueue",
                "VoiceFlowRedis",
                "TestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/JobQueueTests",
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "CommonTests",
            dependencies: [
                "VoiceFlowCommon",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/CommonTests",
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RoomsServiceTests",
            dependencies: [
                "RoomsService",
                "TestSupport",
                "VoiceFlowRedis",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/RoomsServiceTests",
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "MessagesServiceTests",
            dependencies: [
                "MessagesService",
                "TestSupport",
                "VoiceFlowRedis",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/MessagesServiceTests",
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "AuthServiceTests",
            dependencies: [
                "AuthService",
                "TestSupport",
                "VoiceFlowJobQueue",
                "VoiceFlowRedis",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            path: "Tests/AuthServiceTests",
            swiftSettings: testSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
