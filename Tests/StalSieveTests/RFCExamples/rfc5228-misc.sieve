require "envelope";
require "fileinto";
if header :contains "from" "coyote" {
    discard;
} elsif header :contains ["subject"] ["$$$"] {
    discard;
} else {
    fileinto "INBOX";
}
if size :over 100k {
    discard;
}
if header :contains ["from"] ["coyote"] {
    redirect "acm@example.com";
} elsif header :contains "subject" "$$$" {
    redirect "postmaster@example.com";
} else {
    redirect "field@example.com";
}
if not exists ["From","Date"] {
    discard;
}
if anyof (size :over 1M, size :under 1k) {
    discard;
}
if allof (header :contains "From" "Cole", header :contains "Subject" "$$$") {
    discard;
}
if header :is ["X-Caffeine"] [""] { discard; }
if header :contains ["X-Caffeine"] [""] { discard; }
if header :is "subject" "foo\\bar" { keep; }
if header :contains "subject" text:
Dear
.
{ keep; }
if address :all :comparator "i;octet" :is "From" "tim@example.com" { discard; }
if address :is :all "to" "me@example.com" { stop; }
if envelope :all :is "from" "tim@example.com" {
    discard;
}
