# Draws of R's default random number generators, the reference for fibroskin.deseq2.r_random.
# Run from this folder with R (>= 3.6, default RNGkind): Rscript make_reference.R
# Writes draws.tsv.gz: one row per draw, the generator call, its index and the value
# (17 significant digits, so that equality is to the last bit).
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
draws <- list()
add <- function(call, values) {
  draws[[length(draws) + 1]] <<- data.frame(call = call, index = seq_along(values), value = values)
}
# quantiles: probabilities that R and NumPy compute identically (exact divisions, powers of 2)
add("qnorm((1:2000) / 2003)", qnorm((1:2000) / 2003))
add("qnorm(2^-(3:60))", qnorm(2^-(3:60)))
add("qnorm(1 - 2^-(3:52))", qnorm(1 - 2^-(3:52)))
set.seed(2); add("runif(5)", runif(5))
set.seed(2); add("rnorm(5)", rnorm(5))
set.seed(2); add("rexp(5)", rexp(5))
# as DESeq2's estimateDispersionsPriorVar draws them: one stream, chisq then normal deviates
set.seed(2)
for (df in 1:3) {
  add(sprintf("rchisq(3000, df = %d)", df), rchisq(3000, df = df))
  stopifnot(all(rnorm(3000, 0, 0) == 0))  # sd = 0 draws nothing from the stream
  add("rnorm(3000, 0, 1.5)", rnorm(3000, 0, 1.5))
}
set.seed(20240601); add("rgamma(3000, shape = 7.5, scale = 2)", rgamma(3000, shape = 7.5, scale = 2))
add("rgamma(3000, shape = 20)", rgamma(3000, shape = 20))
out <- do.call(rbind, draws)
out$value <- sprintf("%.17g", out$value)
write.table(out, "draws.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
system2("gzip", c("-n", "-f", "draws.tsv"))  # -n: no time stamp, so reruns give identical bytes
cat(R.version.string, "\n", file = "R_VERSION")
