require ["spamtestplus", "virustest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "eq" :comparator "i;ascii-numeric" "0" {
    fileinto "INBOX.unclassified";
} elsif spamtest :value "ge" :comparator "i;ascii-numeric" "3" {
    fileinto "INBOX.spam-trap";
}
if spamtest :percent :value "gt" :comparator "i;ascii-numeric" "50" { fileinto "INBOX.spam-trap"; }
if spamtest :percent :count "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.unclassified"; }
if virustest :value "eq" :comparator "i;ascii-numeric" "0" {
    fileinto "INBOX.unclassified";
} elsif virustest :value "eq" :comparator "i;ascii-numeric" "4" {
    fileinto "INBOX.quarantine";
} elsif virustest :value "eq" :comparator "i;ascii-numeric" "5" {
    discard;
}
