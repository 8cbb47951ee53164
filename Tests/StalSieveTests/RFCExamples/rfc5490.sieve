require ["fileinto", "mailbox", "mboxmetadata", "servermetadata", "variables", "reject"];
fileinto :create "INBOX.folder";
if mailboxexists "Partners" {
    fileinto "Partners";
} else {
    reject "This message was not accepted by the Mailstore";
}
if metadata :is "INBOX" "/private/vendor/vendor.isode/auto-replies" "on" {
    keep;
}
if metadataexists "INBOX" "/private/vendor/vendor.isode/auto-replies" { keep; }
if servermetadata :matches "/private/vendor/vendor.isode/notification-uri" "*" {
    set "notif_uri" "${0}";
}
if servermetadataexists ["/private/vendor/vendor.isode/notification-uri"] { keep; }
