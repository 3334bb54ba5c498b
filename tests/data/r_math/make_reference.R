# R's lgamma, digamma and trigamma at the arguments DESeq2's dispersion search meets
# (counts + 1/alpha, 1/alpha from 1e-1 to 1e13, df/2): the reference for
# fibroskin.deseq2.r_math. Run from this folder: Rscript make_reference.R
set.seed(1)
x <- c(runif(2000, 0.01, 10), runif(2000, 10, 1000), exp(runif(2000, 0, 30)),
       (1:200) / 2, 1:60, 4934720 + c(-1, 1), 1e17 * c(0.5, 2))
out <- data.frame(x = sprintf("%.17g", x), lgamma = sprintf("%.17g", lgamma(x)),
                  digamma = sprintf("%.17g", digamma(x)),
                  trigamma = sprintf("%.17g", ifelse(x >= 0.5, trigamma(x), NA)))
write.csv(out, "lgamma_digamma_trigamma.csv", row.names = FALSE, quote = FALSE)
system2("gzip", c("-n", "-f", "lgamma_digamma_trigamma.csv"))
