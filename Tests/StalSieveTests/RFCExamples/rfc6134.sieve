require ["extlists", "envelope", "subaddress", "fileinto"];
if envelope :detail :list "from" ":addrbook:personal" { keep; }
if header :list "from" ":addrbook:personal?label=Family" { fileinto "Family"; }
if valid_ext_list ":addrbook:personal" { redirect :list ":addrbook:personal"; }
