require ["copy", "fileinto"];
redirect :copy "sysadmin@example.com";
fileinto :copy "incoming";
