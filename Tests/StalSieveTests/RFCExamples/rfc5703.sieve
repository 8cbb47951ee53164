require ["foreverypart", "mime", "fileinto", "variables", "replace", "enclose", "extracttext", "editheader"];
foreverypart {
    if allof (
      header :mime :param "filename" :contains
         "Content-Disposition" "important",
      header :mime :subtype "Content-Type" "pdf",
      size :over 100K) {
        fileinto "INBOX.important";
        break;
    }
}
if header :mime :type "Content-Type" "image" {
    fileinto "INBOX.images";
}
if header :mime :anychild :contenttype "Content-Type" "text/html" {
    fileinto "INBOX.html";
}
foreverypart :name "tcc" {
    if header :mime :contenttype :is "Content-Type" "text/plain" {
        extracttext :first 100 "msgcontent";
        break :name "tcc";
    }
}
foreverypart {
    if header :mime :param "filename"
       :matches ["Content-Type", "Content-Disposition"]
         ["*.com", "*.exe", "*.vbs", "*.scr",
          "*.pif", "*.hta", "*.bat", "*.zip" ] {
        # these attachment types are executable
        enclose :subject "Warning" text:
WARNING! The enclosed message contains executable attachments.
These attachment types may contain a computer virus program
that can infect your computer and potentially damage your data.

Before clicking on these message attachments, you should verify
with the sender that this message was sent by them and not a
computer virus.
.
;
        break;
    }
}
if header :contains "from" "spam" { replace "Spam removed"; }
