require ["editheader", "variables", "relational", "comparator-i;ascii-numeric"];
addheader "X-Source" "mailing list";
addheader :last "X-Sieve-Filtered" "<kim@job.example.com>";
addheader "X-Hello" "World";
deleteheader :index 1 "X-Hello";
deleteheader "X-Spam-Score";
deleteheader :contains "Delivered-To" "bob@example.com";
if header :contains "X-Sieve-Filtered" ["<kim@job.example.com>", "<kim@home.example.com>"]
{
        keep;
}
if header :matches "subject" "*" { set "subject" "${1}"; }
deleteheader "subject";
addheader :last "Subject" "[Spam] ${subject}";
deleteheader :index 1 :last :value "lt" :comparator "i;ascii-numeric" "X-Priority" "3";
