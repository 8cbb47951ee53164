require ["environment", "relational", "fileinto"];
if environment :contains "item" "" { keep; }
if environment :is "location" "MS" { keep; }
if environment :matches "phase" "post" { stop; }
if environment "domain" "example.com" { keep; }
