# Reference values for analytics.stats.poisson_trend (tests/test_safety_trend.py):
# glm(events ~ year, family = poisson, offset = log(person_years)) per data set; rate ratio per
# year exp(slope), Wald 95 % CI (confint.default) and Wald z-test p (summary).
# Run from this folder: Rscript poisson_trend.R  (writes poisson_trend_r.csv)
d <- read.csv("poisson_trend_input.csv")
out <- do.call(rbind, lapply(split(d, d$dataset), function(x) {
  fit <- glm(events ~ year, family = poisson, offset = log(person_years), data = x,
             control = glm.control(epsilon = 1e-14, maxit = 100))
  ci <- confint.default(fit)["year", ]
  data.frame(dataset = x$dataset[1],
             rate_ratio = exp(coef(fit)[["year"]]),
             ci_low = exp(ci[[1]]), ci_high = exp(ci[[2]]),
             p_value = summary(fit)$coefficients["year", "Pr(>|z|)"])
}))
write.csv(out, "poisson_trend_r.csv", row.names = FALSE)
