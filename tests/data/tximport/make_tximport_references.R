# R tximport 1.26.1 and DESeq2 1.38.3 on the tximport vignette's GEUVADIS files: the
# matrices fibroskin's Python tximport (fibroskin/tximport.py) must reproduce.
# Run from this folder: Rscript make_tximport_references.R [tximportdata_geuvadis folder]
# (the salmon and RSEM files are public data, read from ../shared/data beside the checkout).
#
# Samples: the first four of the vignette's samples.txt (ERR188297, ERR188088, ERR188329,
# ERR188288), the 2 vs 2 comparison the project documents. Written, gzipped with `gzip -n`
# (no time stamp, so reruns give identical bytes), one row per gene, one column per sample:
#   salmon_{abundance,length}.tsv.gz   tximport(type = "salmon", tx2gene); the same for every
#                                      countsFromAbundance (checked here)
#   salmon_counts_{no,scaledTPM,lengthScaledTPM}.tsv.gz   txi$counts of each mode
#   salmon_normalization_factors.tsv.gz   normalizationFactors(estimateSizeFactors(
#                                      DESeqDataSetFromTximport(txi))), mode "no"
#   rsem_{abundance,counts,length}.tsv.gz   tximport(type = "rsem", txIn = FALSE) on
#                                      genes.results; the same for every mode (checked here:
#                                      tximport warns and keeps countsFromAbundance "no")
#   rounding_ties.tsv.gz               every count of salmon and RSEM (mode "no") whose
#                                      fraction is 0.5 give or take 1e-6, with the integer
#                                      counts(DESeqDataSetFromTximport(txi)) made of it: R's
#                                      round() where rounding is not obvious
# Numbers are written with 12 significant digits (sprintf %.12g, within 5e-12 relative of R's
# doubles; the tests ask 1e-10), the counts of rounding_ties with 17 (R's exact doubles).
suppressPackageStartupMessages({
  library(tximport)
  library(DESeq2)
})
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args)) args[1] else "../../../../shared/data/tximportdata_geuvadis"
runs <- head(read.table(file.path(data_dir, "samples.txt"), header = TRUE)$run, 4)
tx2gene <- read.csv(file.path(data_dir, "tx2gene.csv.gz"))

write_table <- function(table, name) {
  file <- paste0(name, ".tsv")
  write.table(table, file, sep = "\t", quote = FALSE, row.names = FALSE)
  system2("gzip", c("-n", "-f", file))
}

write_matrix <- function(matrix, name) {
  out <- data.frame(gene = rownames(matrix), check.names = FALSE)
  for (column in colnames(matrix)) out[[column]] <- sprintf("%.12g", matrix[, column])
  write_table(out, name)
}

import <- function(type, mode) {
  files <- if (type == "salmon") {
    file.path(data_dir, "salmon", paste0(runs, ".quant.sf.gz"))
  } else {
    file.path(data_dir, "rsem", paste0(runs, ".genes.results.gz"))
  }
  names(files) <- runs
  suppressWarnings(if (type == "salmon") {
    tximport(files, type = "salmon", tx2gene = tx2gene, countsFromAbundance = mode)
  } else {
    tximport(files, type = "rsem", txIn = FALSE, txOut = FALSE, countsFromAbundance = mode)
  })
}

column_data <- data.frame(run = runs, row.names = runs)
modes <- c("no", "scaledTPM", "lengthScaledTPM")
ties <- list()
for (type in c("salmon", "rsem")) {
  txi <- lapply(setNames(modes, modes), function(mode) import(type, mode))
  for (mode in modes[-1]) {
    stopifnot(identical(txi[[mode]]$abundance, txi$no$abundance))
    stopifnot(identical(txi[[mode]]$length, txi$no$length))
  }
  write_matrix(txi$no$abundance, paste0(type, "_abundance"))
  write_matrix(txi$no$length, paste0(type, "_length"))
  if (type == "salmon") {
    for (mode in modes) write_matrix(txi[[mode]]$counts, paste0(type, "_counts_", mode))
  } else {
    for (mode in modes[-1]) {
      stopifnot(identical(txi[[mode]]$counts, txi$no$counts), txi[[mode]]$countsFromAbundance == "no")
    }
    write_matrix(txi$no$counts, paste0(type, "_counts"))
    # the tximport vignette's step before DESeqDataSetFromTximport (RSEM gives genes shorter
    # than its fragments an effective length of 0; none of these four files has one)
    txi$no$length[txi$no$length == 0] <- 1
  }
  dds <- DESeqDataSetFromTximport(txi$no, column_data, ~1)
  if (type == "salmon") {
    write_matrix(normalizationFactors(estimateSizeFactors(dds)), "salmon_normalization_factors")
  }
  near_half <- which(abs(txi$no$counts - floor(txi$no$counts) - 0.5) <= 1e-6, arr.ind = TRUE)
  ties[[type]] <- data.frame(
    source = type,
    gene = rownames(txi$no$counts)[near_half[, 1]],
    sample = colnames(txi$no$counts)[near_half[, 2]],
    count = sprintf("%.17g", txi$no$counts[near_half]),
    deseq2_count = counts(dds)[near_half]
  )
}
write_table(do.call(rbind, ties), "rounding_ties")
writeLines(c(
  paste("R", getRversion()),
  paste("tximport", packageVersion("tximport")),
  paste("DESeq2", packageVersion("DESeq2"))
), "VERSIONS")
