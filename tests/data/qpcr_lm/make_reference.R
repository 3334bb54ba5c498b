# R's lm on simulated per-sample dCq values: the reference for fibroskin's qPCR linear model.
# Run from this folder: Rscript make_reference.R (R 4.2.2, see R_VERSION).
#
# Writes (numbers to 17 significant digits, so Python reads R's doubles bit for bit):
# - data.tsv.gz: dataset, sample, target, dcq (NA = no dCq), condition, batch, age: the seeded
#   data the script draws itself.
# - lm.tsv.gz: for every dataset, target and pair of condition levels (reference, target), the
#   coefficients of lm(dcq ~ <design>) with condition releveled to the reference level: term,
#   estimate, std_error, t_value, df, pvalue and the 95% confint.
# Datasets: balanced (~batch + condition), unbalanced batches with a missing dCq
# (~batch + condition), a continuous covariate (~age + condition, ~batch + age + condition),
# three condition levels (~batch + condition, every pair), and ~condition alone (Student's t).
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20261216)
targets <- c("TGFB1", "COL1A1", "COL3A1", "CCN2")
simulate <- function(dataset, condition, batch, age, condition_effect, batch_effect, age_slope = 0) {
  rows <- list()
  for (target in targets) {
    base <- runif(1, 4, 10)
    dcq <- base + condition_effect[condition] + batch_effect[batch] + age_slope * age +
      rnorm(length(condition), 0, runif(1, 0.3, 1))
    rows[[target]] <- data.frame(dataset = dataset, sample = sprintf("S%02d", seq_along(condition)),
                                 target = target, dcq = dcq, condition = condition, batch = batch, age = age)
  }
  do.call(rbind, rows)
}
lesional <- c(healthy = 0, lesional = -1.5, `non-lesional` = -0.6)
data <- rbind(
  simulate("balanced", rep(c("healthy", "lesional"), each = 6), rep(rep(c("run1", "run2"), each = 3), 2),
           rep(0, 12), lesional, c(run1 = 0, run2 = 0.8)),
  # one lesional sample in batch A, one healthy in batch C: cells of 4, 1, 2, 3, 1, 2
  simulate("unbalanced", c(rep("healthy", 7), rep("lesional", 6)),
           c("A", "A", "A", "A", "B", "B", "C", "A", "B", "B", "B", "C", "C"),
           rep(0, 13), lesional, c(A = 0, B = -0.7, C = 1.1)),
  simulate("continuous", rep(c("healthy", "lesional"), c(7, 8)), rep(c("run1", "run2", "run3"), 5),
           round(runif(15, 21, 79)), lesional, c(run1 = 0, run2 = 0.4, run3 = -0.3), age_slope = 0.02),
  simulate("three_level", rep(c("healthy", "non-lesional", "lesional"), c(5, 6, 6)),
           c("run1", "run2", "run1", "run2", "run1", rep(c("run1", "run2"), 6)),
           rep(0, 17), lesional, c(run1 = 0, run2 = 0.5)),
  simulate("condition_only", rep(c("healthy", "lesional"), c(4, 5)), rep("run1", 9),
           rep(0, 9), lesional, c(run1 = 0))
)
data$dcq[data$dataset == "unbalanced" & data$target == "COL1A1" & data$sample == "S02"] <- NA  # not detected
data$dcq[data$dataset == "three_level" & data$target == "CCN2" & data$sample == "S08"] <- NA

designs <- list(
  balanced = "~batch + condition",
  unbalanced = "~batch + condition",
  continuous = c("~age + condition", "~batch + age + condition"),
  three_level = "~batch + condition",
  condition_only = "~condition"
)
level_order <- list(three_level = c("healthy", "non-lesional", "lesional"))
out <- list()
for (dataset in names(designs)) for (design in designs[[dataset]]) for (target in targets) {
  d <- data[data$dataset == dataset & data$target == target, ]
  levels <- if (is.null(level_order[[dataset]])) c("healthy", "lesional") else level_order[[dataset]]
  for (a in seq_along(levels)[-length(levels)]) for (b in (a + 1):length(levels)) {
    d$condition <- relevel(factor(d$condition, levels = levels), ref = levels[a])
    fit <- lm(as.formula(paste("dcq", design)), data = d)
    table <- summary(fit)$coefficients
    interval <- confint(fit, level = 0.95)
    out[[length(out) + 1]] <- data.frame(
      dataset = dataset, design = design, target = target, reference = levels[a], contrast_target = levels[b],
      term = rownames(table), estimate = sprintf("%.17g", table[, 1]), std_error = sprintf("%.17g", table[, 2]),
      t_value = sprintf("%.17g", table[, 3]), df = fit$df.residual, pvalue = sprintf("%.17g", table[, 4]),
      ci_low = sprintf("%.17g", interval[, 1]), ci_high = sprintf("%.17g", interval[, 2])
    )
  }
}
data$dcq <- ifelse(is.na(data$dcq), "NA", sprintf("%.17g", data$dcq))
write.table(data, "data.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
write.table(do.call(rbind, out), "lm.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
system2("gzip", c("-n", "-f", "data.tsv", "lm.tsv"))  # -n: identical bytes on rerun
cat(R.version.string, "\n", file = "R_VERSION")
