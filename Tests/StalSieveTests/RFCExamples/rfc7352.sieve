require ["duplicate", "fileinto", "mailbox", "variables", "enotify", "imap4flags"];
if duplicate {
    fileinto :create "Trash/Duplicate";
}
if header :matches "subject" "ALERT: *" {
    if duplicate :seconds 60 :uniqueid "${1}" {
        setflag "\\seen";
    }
    fileinto "Alerts";
}
if duplicate :header "X-Event-ID" :handle "notifier" { discard; }
if duplicate :last :seconds 1800 :uniqueid "unique" {
    notify :message "[SIEVE] New interesting message" "mailto:alm@example.com";
}
