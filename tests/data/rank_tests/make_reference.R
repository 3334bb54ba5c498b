# R's wilcox.test and pairwise tests on seeded dCq-like data: the reference for fibroskin.stats.
# Run from this folder: Rscript make_reference.R (R 4.2.2, see R_VERSION).
#
# Writes, values to 17 significant digits so that Python reads R's doubles bit for bit:
# - wilcox_cases.tsv.gz: one row per case: family, paired, the two samples (comma-separated;
#   `target` is wilcox.test's x, `reference` its y; paired: pairs in order), R's statistic,
#   two-sided p-value and METHOD (which says whether R used the exact distribution).
# - pairwise_cases.tsv.gz: three-group designs: per case the values and their group (and patient
#   for paired designs), and the Holm-adjusted p-values of pairwise.wilcox.test and
#   pairwise.t.test(pool.sd = FALSE), paired and unpaired.
# Families are named by what R does: exact or normal approximation (continuity and tie
# correction), with ties or zeros, unpaired (Mann-Whitney) or paired (signed rank).
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20261215)
fmt <- function(v) paste(sprintf("%.17g", v), collapse = ",")
cases <- list()
add <- function(x, y, paired, family) {
  test <- suppressWarnings(wilcox.test(x, y, paired = paired))
  cases[[length(cases) + 1]] <<- data.frame(
    case = length(cases) + 1, family = family, paired = paired,
    n_target = length(x), n_reference = length(y), target = fmt(x), reference = fmt(y),
    statistic = sprintf("%.17g", test$statistic), pvalue = sprintf("%.17g", test$p.value),
    method = test$method
  )
}
has_ties <- function(v) any(duplicated(v))
dcq <- function(n, mean = 6, sd = 1) rnorm(n, mean, sd)  # dCq-like values, full precision: no ties
shifts <- c(0, 0.8, 2, 5)  # in SD units: from p near 1 to the far tail
side <- function() sample(c(-1, 1), 1)  # target lower or higher: both tails of the statistic

# ---- unpaired, no ties: exact when both groups have < 50 values, else normal approximation
exact_sizes <- list(c(3, 3), c(3, 4), c(4, 4), c(3, 8), c(5, 5), c(6, 6), c(7, 9), c(8, 8), c(9, 9),
                    c(10, 10), c(12, 12), c(11, 14), c(15, 15), c(20, 20), c(10, 40), c(25, 30),
                    c(30, 30), c(40, 45), c(49, 49), c(3, 49), c(49, 3), c(48, 49))
for (size in exact_sizes) for (shift in shifts) {
  x <- dcq(size[1], 6 - side() * shift); y <- dcq(size[2]); stopifnot(!has_ties(c(x, y)))
  add(x, y, FALSE, "unpaired_exact")
}
approx_sizes <- list(c(50, 50), c(49, 50), c(50, 49), c(3, 50), c(50, 3), c(55, 60), c(60, 60),
                     c(20, 60), c(3, 60))
for (size in approx_sizes) for (shift in shifts) {
  x <- dcq(size[1], 6 - side() * shift); y <- dcq(size[2]); stopifnot(!has_ties(c(x, y)))
  add(x, y, FALSE, "unpaired_normal")
}
# the issue's case: 12 lesional vs 12 healthy without ties, the lesional dCq lower except one value
# above the two lowest healthy values (W = 2 of 144): exact p = 2 * 4 / choose(24, 12) = 2.96e-6,
# the normal approximation 6.0e-5, twenty times larger
reference <- seq(8.1, 10.85, by = 0.25)
target <- c(seq(5.0, 7.0, by = 0.2), 8.4)
stopifnot(!has_ties(c(target, reference)))
add(target, reference, FALSE, "unpaired_exact_issue_12v12")

# ---- unpaired with ties (values rounded as a qPCR instrument reports them): normal approximation
for (i in 1:40) {
  n <- sample(3:60, 2, replace = TRUE); digits <- sample(0:1, 1)
  x <- round(dcq(n[1], 6 - sample(shifts, 1)), digits); y <- round(dcq(n[2]), digits)
  if (!has_ties(c(x, y))) x[1] <- y[1]
  add(x, y, FALSE, "unpaired_ties")
}

# ---- paired (signed rank on target - reference)
for (n in c(3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 45, 49)) for (shift in c(0, 0.5, 1.5, 4)) {
  y <- dcq(n); x <- y - side() * shift + rnorm(n, 0, 1); stopifnot(!has_ties(abs(x - y)), all(x != y))
  add(x, y, TRUE, "paired_exact")
}
for (n in c(50, 51, 55, 60)) for (shift in c(0, 0.5, 1.5, 4)) {
  y <- dcq(n); x <- y - side() * shift + rnorm(n, 0, 1); stopifnot(!has_ties(abs(x - y)), all(x != y))
  add(x, y, TRUE, "paired_normal")
}
for (i in 1:30) {  # tied |differences|, no zero difference
  n <- sample(3:60, 1)
  repeat {
    y <- round(dcq(n), 1); x <- round(y - sample(c(0, 0.5, 1.5), 1) + rnorm(n, 0, 1), 1)
    if (all(x != y) && has_ties(abs(x - y))) break
  }
  add(x, y, TRUE, "paired_ties")
}
for (i in 1:30) {  # some zero differences (a sample measured identically), otherwise untied
  n <- sample(3:60, 1)
  y <- dcq(n); x <- y - sample(c(0, 0.5, 1.5), 1) + rnorm(n, 0, 1)
  zero <- sample(n, sample(1:max(1, n %/% 5), 1)); x[zero] <- y[zero]
  stopifnot(!has_ties(abs(x - y)[x != y]))
  add(x, y, TRUE, "paired_zeros")
}
for (i in 1:20) {  # zeros and ties
  n <- sample(3:60, 1)
  repeat {
    y <- round(dcq(n), 1); x <- round(y - sample(c(0, 0.5), 1) + rnorm(n, 0, 0.6), 1)
    if (any(x == y) && any(x != y) && has_ties(abs(x - y)[x != y])) break
  }
  add(x, y, TRUE, "paired_zeros_ties")
}
# 52 pairs of which 5 are zeros: 47 non-zero differences, no ties, yet R is not exact (zeros)
y <- dcq(52); x <- y - 0.5 + rnorm(52, 0, 1); x[1:5] <- y[1:5]
add(x, y, TRUE, "paired_zeros")
# ---- degenerate: every value equal (R: p = NA), every difference zero (NaN), a single non-zero difference
add(rep(6, 4), rep(6, 5), FALSE, "degenerate")
add(c(6.1, 5.2, 7.3), c(6.1, 5.2, 7.3), TRUE, "degenerate")
add(c(6.1, 5.2, 7.3), c(6.1, 5.2, 7.0), TRUE, "degenerate")
out <- do.call(rbind, cases)
write.table(out, "wilcox_cases.tsv", sep = "\t", quote = FALSE, row.names = FALSE)

# ---- three groups (healthy / non-lesional / lesional): pairwise tests with Holm's adjustment
pairwise <- list()
levels <- c("healthy", "non-lesional", "lesional")
for (i in 1:24) {
  paired <- i > 12
  if (paired) {
    n <- rep(sample(3:20, 1), 3)
  } else {
    n <- sample(3:25, 3, replace = TRUE)
  }
  means <- c(6, 6 - sample(c(0, 0.5, 1), 1), 6 - sample(c(0, 1, 2.5), 1))
  value <- unlist(lapply(1:3, function(k) dcq(n[k], means[k])))
  if (i %% 4 == 0) value <- round(value, 1)  # ties: normal approximation
  group <- factor(rep(levels, n), levels = levels)
  patient <- if (paired) rep(sprintf("P%02d", seq_len(n[1])), 3) else sprintf("S%02d", seq_along(value))
  w <- suppressWarnings(pairwise.wilcox.test(value, group, p.adjust.method = "holm", paired = paired))
  t <- pairwise.t.test(value, group, p.adjust.method = "holm", pool.sd = FALSE, paired = paired)
  for (a in 1:2) for (b in (a + 1):3) {
    # rows of R's table are the later level, columns the earlier one
    pairwise[[length(pairwise) + 1]] <- data.frame(
      case = i, paired = paired, reference = levels[a], target = levels[b],
      values = fmt(value), groups = paste(group, collapse = ","), patients = paste(patient, collapse = ","),
      holm_wilcox = sprintf("%.17g", w$p.value[levels[b], levels[a]]),
      holm_t = sprintf("%.17g", t$p.value[levels[b], levels[a]])
    )
  }
}
write.table(do.call(rbind, pairwise), "pairwise_cases.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
system2("gzip", c("-n", "-f", "wilcox_cases.tsv", "pairwise_cases.tsv"))  # -n: identical bytes on rerun
cat(R.version.string, "\n", file = "R_VERSION")
