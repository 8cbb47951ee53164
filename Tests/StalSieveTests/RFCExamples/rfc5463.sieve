require ["ihave", "fileinto"];

if header :contains "From" "boss@example.com" {
    fileinto "Priority";
} elsif ihave "vacation" {
    # Use vacation if available
    vacation "I am out of the office.";
} else {
    keep;
}
if ihave "some-unknown-extension" {
    some_unknown_command :with "arguments";
}
if not ihave "envelope" { error "Envelope is required"; }
