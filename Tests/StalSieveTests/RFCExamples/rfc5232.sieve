require ["imap4flags", "fileinto", "variables", "relational", "comparator-i;ascii-numeric"];
setflag "flagvar" "\\Flagged";
setflag "\\Deleted";
setflag "\\Deleted \\Seen";
addflag "flagvar" "\\Deleted";
addflag "flagvar" ["\\Answered", "\\Draft"];
addflag "flagvar" "\\Deleted \\Flagged";
removeflag "flagvar" "\\Deleted";
removeflag "flagvar" ["\\Deleted", "\\Seen"];
removeflag "flagvar" "\\Deleted \\Seen";
if hasflag :contains "MyVar" "Junk" {
    discard;
    stop;
}
if hasflag :count "ge" :comparator "i;ascii-numeric" "MyFlags" "2" { stop; }
if size :over 500K {
    setflag "\\Deleted";
}
if size :over 1M {
    addflag "MyFlags" "Big";
    if header :is "From" "boss@company.example.com" {
        # The message will be marked as "\Flagged Big" when filed into mailbox "Big messages"
        addflag "MyFlags" "\\Flagged";
    }
    fileinto :flags "${MyFlags}" "Big messages";
}
if header :is "From" "grandma@example.net" {
    addflag "MyFlags" ["\\Answered", "$MDNSent"];
    fileinto :flags "${MyFlags}" "GrandMa";
}
if header :contains "Subject" "Important" {
    addflag "MyFlags" "\\Flagged";
    fileinto :flags "${MyFlags}" "Important";
}
if header :contains "Disposition-Notification-To" "mel@example.com" {
    addflag "\\Flagged";
    fileinto "INBOX";
}
keep :flags "\\Seen";
