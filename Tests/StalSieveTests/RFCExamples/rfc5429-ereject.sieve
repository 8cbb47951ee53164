require ["ereject"];
if address "from" "someone@example.com" {
    ereject "I no longer accept mail from this address";
}
