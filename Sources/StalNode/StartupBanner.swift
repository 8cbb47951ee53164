/// What `stald` prints once it is ready: where each service listens, the one-time
/// administrator password, and the next steps. Tests parse the `listening` lines.
public enum StartupBanner {
    public static func text(node: StalNode) -> String {
        var out = "stald is ready\n"
        for kind in NodeConfiguration.ListenerKind.allCases {
            guard let port = node.boundPorts[kind], let endpoint = node.configuration.listeners[kind] else { continue }
            out += "listening \(kind.rawValue) \(NodeConfiguration.Endpoint(host: endpoint.host, port: port))\n"
        }
        out += "data \(node.configuration.dataDirectory)\n"
        if let password = node.bootstrapAdminPassword {
            out += """

            First start: the administrator is 'admin' with password \(password)
            (shown once; stalctl reads it from \(node.configuration.dataDirectory)/\(StalNode.credentialFileName), mode 0600).

            """
        }
        out += """

        Next steps (stalctl is in the same directory as stald):
          stalctl domain add example.test
          echo 'a long password' | stalctl account add alice@example.test

        """
        // Only the services this node runs: a hint at a port nobody listens on misleads.
        if let smtp = node.boundPorts[.smtp] {
            out += "  swaks --server 127.0.0.1:\(smtp) --tls --to alice@example.test --from someone@elsewhere.test\n"
        }
        if let imaps = node.boundPorts[.imaps] {
            out += """
              then read it over IMAPS at 127.0.0.1:\(imaps) as alice@example.test (self-signed certificate
              in \(node.configuration.dataDirectory)/tls/cert.pem)

            """
        }
        return out
    }
}
