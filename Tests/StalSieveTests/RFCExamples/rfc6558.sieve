# RFC 6558 §5 writes "if (convert ...)"; RFC 5228's grammar has no parentheses around the
# single test of "if", so the test is written without them here.
require ["mime", "fileinto", "convert"];
if header :mime :anychild :contenttype
          "Content-Type" "image/tiff"
{
  if convert "image/tiff" "image/jpeg" ["pix-x=320","pix-y=240"]
  {
    fileinto "INBOX.pics";
  }
}
convert "image/tiff" "image/jpeg" ["pix-x=320","pix-y=240"];
