import Testing
@testable import StalNode

@Suite struct NodeConfigurationTests {
    @Test func embeddedDefaultsUseUnprivilegedLoopbackPorts() {
        let c = NodeConfiguration.embeddedDefaults(dataDirectory: "/tmp/d")
        #expect(c.listeners[.smtp]?.description == "127.0.0.1:2525")
        #expect(c.listeners[.submission]?.port == 5870)
        #expect(c.listeners[.lmtp]?.port == 2424)
        #expect(c.listeners[.imap]?.port == 1143)
        #expect(c.listeners[.imaps]?.port == 1993)
        #expect(c.listeners[.http]?.port == 8080)
    }

    @Test func parsesAFullFile() throws {
        let c = try NodeConfiguration.parse(toml: """
            hostname = "mail.example.com"
            data_dir = "/var/lib/stal"
            [listeners]
            smtp = "0.0.0.0:25"
            imaps = "[::]:993"
            lmtp = "off"
            [tls]
            certificate = "/etc/stal/cert.pem"
            key = "/etc/stal/key.pem"
            [limits]
            smtp_message_octets_max = 1048576
            """, defaultDataDirectory: "/tmp/ignored")
        #expect(c.hostname == "mail.example.com")
        #expect(c.dataDirectory == "/var/lib/stal")
        #expect(c.listeners[.smtp] == .init(host: "0.0.0.0", port: 25))
        #expect(c.listeners[.imaps] == .init(host: "::", port: 993))
        #expect(c.listeners[.lmtp] == nil)
        #expect(c.listeners[.imap]?.port == 1143)
        #expect(c.tlsCertificatePath == "/etc/stal/cert.pem")
        #expect(c.limits.smtpMessageOctetsMax == 1_048_576)
    }

    @Test func rejectsTyposAndBadValues() {
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "hostnme = \"x\"", defaultDataDirectory: "/d") }
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "[listeners]\nsmtpp = \"1\"", defaultDataDirectory: "/d") }
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "[listeners]\nsmtp = \"nope\"", defaultDataDirectory: "/d") }
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "[tls]\ncertificate = \"/a\"", defaultDataDirectory: "/d") }
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "[limits]\nsmtp_message_octets_max = -1", defaultDataDirectory: "/d") }
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "= broken", defaultDataDirectory: "/d") }
    }
}
