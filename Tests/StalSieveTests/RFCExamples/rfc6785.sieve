# RFC 6785 (IMAP events in Sieve): the RFC's text is not stored on this machine, so this
# script was written from its description of the imap.cause/imap.mailbox environment
# items, with flag, append and copy events.
require ["imapsieve", "environment", "imap4flags", "enotify", "variables", "fileinto"];
if allof (environment :is "imap.cause" "FLAG", hasflag :is "\\Flagged") {
    if environment :matches "imap.mailbox" "*" { set "mailbox" "${1}"; }
    if header :matches "subject" "*" { set "subject" "${1}"; }
    notify :message "Flagged in ${mailbox}: ${subject}" "mailto:alice@example.com";
}
if environment :is "imap.cause" "APPEND" {
    if address :is "from" "boss@example.com" { addflag "\\Flagged"; }
}
if environment :is "imap.cause" "COPY" {
    if environment :matches "imap.mailbox" "Junk" { fileinto "Spam-Training"; }
}
