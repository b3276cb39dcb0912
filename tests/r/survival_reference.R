# Reference values from R's survival package for tests/test_survival_r.py.
# Input: survival_input.csv (per-subject times of the default synthetic study, written by
# export_survival_input.py). Output, beside this script:
#   survival_reference.csv         dataset, analysis, arm, quantity, value (scalars)
#   survival_reference_curves.csv  dataset, curve, arm, time, n_risk, n_event, estimate, lower, upper
# Run from the repository root:  Rscript tests/r/survival_reference.R
suppressPackageStartupMessages(library(survival))
here <- if (length(a <- grep("^--file=", commandArgs(FALSE), value = TRUE)))
  dirname(sub("^--file=", "", a[1])) else "tests/r"
d <- read.csv(file.path(here, "survival_input.csv"), stringsAsFactors = FALSE)
d$arm <- factor(d$arm, levels = c("MSC", "MSC_IFNG"))   # MSC is the reference
num <- function(x) sprintf("%.17g", x)
out <- list()
curves <- list()
add <- function(dataset, analysis, arm, quantity, value)
  out[[length(out) + 1]] <<- data.frame(dataset = dataset, analysis = analysis, arm = arm,
                                        quantity = quantity, value = num(value))
cox_rows <- function(dataset, analysis, fit_expr) {
  warned <- FALSE
  fit <- withCallingHandlers(fit_expr(), warning = function(w) {
    warned <<- TRUE; invokeRestart("muffleWarning") })
  s <- summary(fit)$coefficients
  ci <- summary(fit)$conf.int
  add(dataset, analysis, "MSC_IFNG", "coef", s[1, "coef"])
  add(dataset, analysis, "MSC_IFNG", "hr", s[1, "exp(coef)"])
  add(dataset, analysis, "MSC_IFNG", "se", s[1, "se(coef)"])
  add(dataset, analysis, "MSC_IFNG", "lower", ci[1, "lower .95"])
  add(dataset, analysis, "MSC_IFNG", "upper", ci[1, "upper .95"])
  add(dataset, analysis, "MSC_IFNG", "p", s[1, "Pr(>|z|)"])
  add(dataset, analysis, "MSC_IFNG", "warned_infinite", as.numeric(warned))
}

for (ds in unique(d$dataset)) {
  x <- d[d$dataset == ds, ]
  # Kaplan-Meier per arm, log-log CI, quantile.survfit median and CI
  for (arm in levels(x$arm)) {
    xa <- x[x$arm == arm, ]
    if (nrow(xa) == 0) next
    f <- survfit(Surv(time, event) ~ 1, data = xa, conf.type = "log-log")
    q <- quantile(f, probs = 0.5)
    add(ds, "median", arm, "median", q$quantile)
    add(ds, "median", arm, "lower", q$lower)
    add(ds, "median", arm, "upper", q$upper)
    curves[[length(curves) + 1]] <- data.frame(
      dataset = ds, curve = "km", arm = arm, time = num(f$time), n_risk = f$n.risk,
      n_event = f$n.event, estimate = num(f$surv), lower = num(f$lower), upper = num(f$upper))
  }
  # log-rank
  if (sum(x$event) > 0 && length(unique(x$arm)) == 2) {
    lr <- survdiff(Surv(time, event) ~ arm, data = x)
    add(ds, "logrank", "", "chisq", lr$chisq)
    add(ds, "logrank", "", "p", pchisq(lr$chisq, df = 1, lower.tail = FALSE))
  }
  # Cox, Efron ties: pooled, stratified by trial, and within the trial that randomised both arms
  if (length(unique(x$arm)) == 2 && sum(x$event) > 0) {
    cox_rows(ds, "cox", function() coxph(Surv(time, event) ~ arm, data = x, ties = "efron"))
    cox_rows(ds, "cox_strata", function()
      coxph(Surv(time, event) ~ arm + strata(study_id), data = x, ties = "efron"))
    both <- names(which(tapply(x$arm, x$study_id, function(a) length(unique(a))) == 2))
    if (length(both) == 1) {
      xs <- x[x$study_id == both, ]
      if (sum(xs$event) > 0)
        cox_rows(ds, paste0("cox_subset:", both), function()
          coxph(Surv(time, event) ~ arm, data = xs, ties = "efron"))
    }
  }
  # Competing risks: Aalen-Johansen cumulative incidence of each withdrawal reason
  if (any(x$cause %in% c("lack_of_efficacy", "adverse_event"))) {
    states <- c("censored", "lack_of_efficacy", "adverse_event", "other")
    for (arm in levels(x$arm)) {
      xa <- x[x$arm == arm, ]
      status <- factor(xa$cause, levels = states)
      f <- survfit(Surv(time, status) ~ 1, data = xa)
      for (st in c("lack_of_efficacy", "adverse_event")) {
        k <- match(st, f$states)
        curves[[length(curves) + 1]] <- data.frame(
          dataset = ds, curve = paste0("cif:", st), arm = arm, time = num(f$time),
          n_risk = f$n.risk[, 1], n_event = f$n.event[, k], estimate = num(f$pstate[, k]),
          lower = NA, upper = NA)
      }
    }
  }
}
write.csv(do.call(rbind, out), file.path(here, "survival_reference.csv"), row.names = FALSE)
write.csv(do.call(rbind, curves), file.path(here, "survival_reference_curves.csv"),
          row.names = FALSE)
cat("R", R.version$major, R.version$minor, "survival", as.character(packageVersion("survival")),
    "\n")
