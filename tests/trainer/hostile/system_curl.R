# R's system(): curl to the host (a listener the test opened), curl and shell writes outside the job, R's own
# writes outside the job. Each result goes into the report, raised as an error so the run says it whole.
marker <- "@MARKER@"
shell <- function(command) {
  out <- suppressWarnings(system(paste(command, "2>&1; echo EXIT=$?"), intern = TRUE))
  paste(out, collapse = " | ")
}
report <- list(
  curl_host = shell(sprintf("curl -sS -m 5 http://127.0.0.1:@PORT@/%s", marker)),
  curl_internet = shell("curl -sS -m 5 https://deb.debian.org/"),
  wget_host = shell(sprintf("wget -q -T 5 -O - http://127.0.0.1:@PORT@/%s", marker))
)
for (target in strsplit("@TARGETS@", "|", fixed = TRUE)[[1]]) {
  report[[paste("shell", target)]] <- shell(sprintf("echo %s > %s", marker, target))
  report[[paste("curl", target)]] <- shell(sprintf("curl -sS -m 5 -o %s file:///job/submission.R", target))
  report[[paste("r", target)]] <- tryCatch({
    writeLines(marker, target)
    "WROTE"
  }, warning = function(w) conditionMessage(w), error = function(e) conditionMessage(e))
}
report$sleeper <- shell(sprintf("(sleep 600; echo %s) >/dev/null 2>&1 &", marker))  # must not outlive the run
stop(paste("HOSTILE REPORT", jsonlite::toJSON(report, auto_unbox = TRUE)))
