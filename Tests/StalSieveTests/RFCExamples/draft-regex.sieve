# draft-ietf-sieve-regex-01: the draft's text is not stored on this machine, so this
# script was written from its description of :regex with match variables.
require ["regex", "variables", "fileinto"];
if address :regex :comparator "i;ascii-casemap" "from" [
        "stephan(\\+.*)?@it\\.aoyama\\.ac\\.jp",
        "stephan(\\+.*)?@(it\\.aoyama|aoyama)\\.ac\\.jp"] {
    discard;
}
if header :regex "subject" "^\\[(.*)\\] (.*)$" {
    fileinto "lists.${1}";
}
