# Histograms of the values R DESeq2 simulates to choose the dispersion prior variance when a
# design has 1 to 3 residual degrees of freedom (estimateDispersionsPriorVar, DESeq2 1.38):
# after set.seed(2), for each of 200 candidate variances x on seq(0, 8, length = 200),
# log(rchisq(1e4, df)) + rnorm(1e4, 0, sqrt(x)) - log(df), binned by hist() on -10:10 by 0.5.
# They do not depend on the data, so fibroskin ships them as a table; this is its reference.
# Run from this folder: Rscript make_prior_histograms.R
brks <- -20:20 / 2
grid <- seq(from = 0, to = 8, length = 200)
rows <- list()
for (df in 1:3) {
  set.seed(2)
  for (i in seq_along(grid)) {
    randDist <- log(rchisq(1e4, df = df)) + rnorm(1e4, 0, sqrt(grid[i])) - log(df)
    randDist <- randDist[randDist > min(brks) & randDist < max(brks)]
    counts <- hist(randDist, breaks = brks, plot = FALSE)$counts
    rows[[length(rows) + 1]] <- c(df, i, counts)
  }
}
out <- as.data.frame(do.call(rbind, rows))
names(out) <- c("residual_df", "candidate", sprintf("bin%02d", 1:40))
write.table(out, "prior_histograms.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
system2("gzip", c("-n", "-f", "prior_histograms.tsv"))
