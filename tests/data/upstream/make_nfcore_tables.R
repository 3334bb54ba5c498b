# The gene-level tables nf-core/rnaseq writes from salmon (its bin/tximport.r): R tximport
# 1.26.1's summarizeToGene() of this folder's salmon/<sample>/quant.sf with salmon_tx2gene.tsv,
# written with write.table() as nf-core does (gene_id, gene_name, then one column per sample,
# 15 significant digits). Run from this folder after make_files.py:
#   Rscript make_nfcore_tables.R
suppressPackageStartupMessages(library(tximport))
files <- list.files("salmon", pattern = "quant.sf", recursive = TRUE, full.names = TRUE)
names(files) <- basename(dirname(files))
files <- files[c("ctrl_1", "ctrl_2", "case_1", "case_2")]
rowdata <- read.csv("salmon_tx2gene.tsv", sep = "\t", header = FALSE)
colnames(rowdata) <- c("tx", "gene_id", "gene_name")
txi <- suppressMessages(tximport(files, type = "salmon", txOut = TRUE))
genes <- unique(rowdata[, 2:3])
write_gene_table <- function(matrix, name) {
  table <- cbind(genes[match(rownames(matrix), genes$gene_id), ], matrix)
  write.table(table, file.path("nfcore", paste0("salmon.merged.", name, ".tsv")), sep = "\t", quote = FALSE,
              row.names = FALSE)
}
modes <- c(gene_counts = "no", gene_counts_length_scaled = "lengthScaledTPM", gene_counts_scaled = "scaledTPM")
for (name in names(modes)) {
  gi <- suppressMessages(summarizeToGene(txi, tx2gene = rowdata[, 1:2], countsFromAbundance = modes[[name]]))
  write_gene_table(gi$counts, name)
  if (name == "gene_counts") {
    write_gene_table(gi$abundance, "gene_tpm")
    write_gene_table(gi$length, "gene_lengths")
  }
}
