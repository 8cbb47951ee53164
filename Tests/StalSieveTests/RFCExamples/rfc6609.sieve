require ["include", "variables", "relational", "fileinto"];
include :personal "always_allow";
include :global "spam_tests";
include :personal "spam_tests";
include :personal "mailing_lists";
include :optional :once "custom";
global ["test", "test_mailbox"];
set "test" "$$";
include "subject_tests";
set "global.test_mailbox" "spam-${test}";
if string :count "eq" "${global.test}" "0" { return; }
fileinto "${test_mailbox}";
