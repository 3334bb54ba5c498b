# R DESeq2 1.38.3's GLM fit (fitNbinomGLMs: starting values, C++ fitBeta, optim fallback) and
# R's dnbinom, for tests/deseq2/test_nbinom_glm.py.
# - R_DESeq2_1.38.3_fitNbinomGLMs.csv.gz: the three_levels table (~batch + condition, 4
#   coefficients) at R's gene-wise starting dispersions (pmin(roughDisp, momentsDisp)), per
#   gene: the dispersion, betaIter, betaConv, the log2 coefficients and their SEs, the
#   fitted means (what the gene-wise dispersion search of this design starts from).
# - R_4.2.2_dnbinom.csv.gz: dnbinom(x, size, mu, log = TRUE) on a seeded grid of counts,
#   sizes from 0.01 to 1e9 and means from 0.1 to 1e6.
# Run from this folder after make_tables.py: Rscript make_glm_reference.R
suppressPackageStartupMessages(library(DESeq2))
fmt <- function(frame) {
  for (column in names(frame)) if (is.numeric(frame[[column]])) frame[[column]] <- sprintf("%.17g", frame[[column]])
  frame
}
write_gz <- function(frame, file) {
  write.csv(fmt(frame), file, row.names = FALSE, quote = FALSE)
  system2("gzip", c("-n", "-f", file))
}

counts <- as.matrix(read.delim(gzfile("three_levels_counts.tsv.gz"), row.names = 1, check.names = FALSE))
samples <- read.delim("three_levels_samples.tsv", colClasses = "character")
cd <- data.frame(batch = factor(samples$batch), condition = factor(samples$condition, c("healthy", "non-lesional", "lesional")))
dds <- DESeqDataSetFromMatrix(counts, cd, ~batch + condition)
dds <- estimateSizeFactors(dds)
dds <- DESeq2:::getBaseMeansAndVariances(dds)
nz <- dds[!mcols(dds)$allZero, ]
mm <- model.matrix(~batch + condition, cd)
alpha <- pmin(pmax(1e-8, pmin(DESeq2:::roughDispEstimate(counts(nz, normalized = TRUE), mm),
                               DESeq2:::momentsDispEstimate(nz))), max(10, ncol(dds)))
fit <- DESeq2:::fitNbinomGLMs(nz, alpha_hat = alpha, modelMatrix = mm, renameCols = FALSE)
out <- data.frame(gene = rownames(nz), alpha = alpha, iter = fit$betaIter, conv = fit$betaConv)
out <- cbind(out, setNames(as.data.frame(fit$betaMatrix), paste0("beta", seq_len(ncol(mm)))),
             setNames(as.data.frame(fit$betaSE), paste0("se", seq_len(ncol(mm)))),
             setNames(as.data.frame(fit$mu), paste0("mu_", colnames(dds))))
write_gz(out, sprintf("R_DESeq2_%s_fitNbinomGLMs.csv", packageVersion("DESeq2")))

set.seed(15)
x <- c(rep(0:50, 40), round(10^runif(3000, 0, 6)))
size <- 10^runif(length(x), -2, 9)
mu <- 10^runif(length(x), -1, 6)
write_gz(data.frame(x = x, size = size, mu = mu, log_density = dnbinom(x, size = size, mu = mu, log = TRUE)),
         sprintf("R_%s.%s_dnbinom.csv", R.version$major, R.version$minor))
