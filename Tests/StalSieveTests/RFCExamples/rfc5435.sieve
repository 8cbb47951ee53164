require ["enotify", "fileinto", "variables"];

if header :contains "from" "boss@example.org" {
    notify :importance "1"
        :message "This is probably very important"
                    "mailto:alm@example.com";
    # Don't send any further notifications
    stop;
}

if header :contains "to" "sievemailinglist@example.org" {
    # :matches is used to get the value of the Subject header
    if header :matches "Subject" "*" {
        set "subject" "${1}";
    }

    # :matches is used to get the value of the From header
    if header :matches "From" "*" {
        set "from" "${1}";
    }

    notify :importance "3"
        :message "[SIEVE] ${from}: ${subject}"
        "mailto:alm@example.com";
    fileinto "INBOX.sieve";
}
if header :contains "from" "boss@example.org" {
    # :matches is used to get the value of the Subject header
    if header :matches "Subject" "*" {
        set "subject" "${1}";
    }

    # :matches is used to get the value of the From header
    if header :matches "From" "*" {
        set "from" "${1}";
    }

    notify :importance "1"
        :message "URGENT: ${from}: ${subject}"
        "mailto:alm@example.com";
}
if notify_method_capability
      "xmpp:tim@example.com?message;subject=SIEVE"
      "Online"
      "yes" {
    notify :importance "1" :message "You got mail"
            "mailto:tim@example.com";
} else {
    notify :message "You got mail" "mailto:tim@example.com";
}
if not valid_notify_method ["mailto:", "http://gw.example.net/notify?test"] { stop; }
notify :from "alm@example.com" :options ["x-option"] "mailto:alm@example.com?subject=hi";
