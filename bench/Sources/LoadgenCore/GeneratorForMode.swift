extension LoadgenOptions {
    /// The generator connection `connection` of a run uses in these options' mode. `run` makes
    /// the proto mode's keys unique to this run (see `ProtocolRequestGenerator`).
    public func generator(run: UInt64, connection: Int) -> any RequestGenerator {
        switch mode {
        case .echo, .idle:
            return EchoGenerator(size: size)
        case .proto:
            return ProtocolRequestGenerator(operation: operation, bucket: bucket, run: run, connection: connection, keys: keys)
        case .hostile:
            return HostileGenerator()
        case .fanout:
            // Connection 0 is the writer (see LoadDriver).
            if connection == 0 { return FeedWriterGenerator(bucket: bucket) }
            return SubscriberGenerator(query: query)
        }
    }
}
