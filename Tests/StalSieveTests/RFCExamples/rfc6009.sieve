require ["envelope", "envelope-dsn", "envelope-deliverby", "redirect-dsn", "redirect-deliverby", "relational", "comparator-i;ascii-numeric"];
if envelope "notify" "SUCCESS" { keep; }
if envelope :is "ret" "FULL" { keep; }
redirect :notify "SUCCESS,FAILURE" :ret "HDRS" "user@example.com";
redirect :bytimerelative 600 :bymode "notify" :bytrace "other@example.com";
