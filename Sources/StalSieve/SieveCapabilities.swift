/// Capability names of the registered Sieve extensions this interpreter implements.
public enum SieveCapabilities {
    public static let comparators: Set<String> = ["i;octet", "i;ascii-casemap", "i;ascii-numeric", "i;unicode-casemap"]

    public static let all: Set<String> = [
        "fileinto", "reject", "ereject", "envelope", "encoded-character",
        "comparator-i;octet", "comparator-i;ascii-casemap", "comparator-i;ascii-numeric", "comparator-i;unicode-casemap",
        "body", "relational", "copy", "imap4flags", "subaddress", "vacation", "vacation-seconds", "variables",
        "date", "index", "editheader", "mailbox", "mboxmetadata", "servermetadata", "include", "duplicate",
        "environment", "enotify", "ihave", "foreverypart", "mime", "extracttext", "replace", "enclose", "convert",
        "spamtest", "spamtestplus", "virustest", "regex", "special-use", "fcc", "mailboxid", "extlists",
        "imapsieve", "redirect-dsn", "redirect-deliverby", "envelope-dsn", "envelope-deliverby",
    ]

    /// User scripts at delivery: server-wide metadata and IMAP-event scripts are administrator
    /// concerns, so user scripts cannot require them.
    public static let untrusted: Set<String> = all.subtracting(["servermetadata", "imapsieve"])

    public static let trusted: Set<String> = all

    /// Capabilities that change how the script text itself is read; RFC 5463 §4 says ihave
    /// cannot enable them, so `ihave` answers false.
    public static let notTestableByIhave: Set<String> = ["encoded-character", "variables"]
}
