# Reference values for analytics.stats.mean_ci (tests/test_stats.py): t.test(x)$conf.int per data
# set, 95 %. Data that do not vary have no interval: NaN at a zero mean (t.test returns NaN), and
# t.test stops with "data are essentially constant" otherwise (written here as NA).
# Run from this folder: Rscript mean_ci.R  (writes mean_ci_r.csv)
d <- read.csv("mean_ci_input.csv", colClasses = c("character", "numeric"))
out <- do.call(rbind, lapply(split(d, d$dataset), function(x) {
  r <- tryCatch(t.test(x$value), error = function(e) NULL)
  data.frame(dataset = x$dataset[1], mean = mean(x$value),
             ci_low = if (is.null(r)) NA else r$conf.int[1],
             ci_high = if (is.null(r)) NA else r$conf.int[2],
             r_says = if (is.null(r)) "data are essentially constant" else "")
}))
write.csv(out, "mean_ci_r.csv", row.names = FALSE)
