require ["body", "fileinto"];

if body :raw :contains "MAKE MONEY FAST" {
    discard;
}
if body :content "text" :contains ["missile", "coordinates"] {
    fileinto "secrets";
}
if body :content "audio/mp3" :contains "" {
    fileinto "jukebox";
}
if body :text :contains "project schedule" {
    fileinto "project/schedule";
}
