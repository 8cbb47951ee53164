require ["fileinto", "special-use", "mailbox", "mailboxid", "fcc", "vacation", "enotify"];
if specialuse_exists "\\Junk" { fileinto :specialuse "\\Junk" "Spam"; }
if specialuse_exists "Spam" "\\Junk" { fileinto :specialuse "\\Junk" :create "Spam"; }
if header :contains "Subject" "Foo" { fileinto :mailboxid "F6352ae03-b7f5-463c-896f-d8b48ee3" "INBOX.foo"; }
if mailboxidexists "F6352ae03-b7f5-463c-896f-d8b48ee3" { keep; }
vacation :days 7 :from "hemingway@example.com" :fcc "INBOX.Sent" "Gone fishing";
