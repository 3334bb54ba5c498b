# R DESeq2 1.38.3 on the simulated tables of make_tables.py (run that first), one call per
# feature the design tests check: multi-factor and paired designs, a three-level factor with
# every pairwise, list and numeric contrast, lfcThreshold = 1 with each alternative, the LRT
# (df 1 and 2, reduced ~1 and ~patient), a continuous covariate, an interaction, individuals
# nested within groups (all-zero columns dropped, DESeq(full = mm)), outlier replacement.
# Every results() call uses alpha = 0.05 (the workflow's default).
# Writes R_DESeq2_1.38.3_<case>.csv.gz, one row per contrast and gene with the results()
# columns, and R_DESeq2_1.38.3_<case>_stages.csv.gz, one row per fit (wald, lrt) and gene
# with the dispersions, maxCooks and the replace flag (17 significant digits).
# Run from this folder: Rscript make_references.R
suppressPackageStartupMessages(library(DESeq2))

read_case <- function(case) {
  counts <- as.matrix(read.delim(gzfile(paste0(case, "_counts.tsv.gz")), row.names = 1, check.names = FALSE))
  samples <- read.delim(paste0(case, "_samples.tsv"), colClasses = "character", check.names = FALSE)
  rownames(samples) <- samples$sample
  list(counts = counts, samples = samples[colnames(counts), , drop = FALSE])
}

stages <- function(dds, fit) {
  m <- mcols(dds)
  replace <- if ("replace" %in% names(m)) m$replace else rep(NA, nrow(dds))
  data.frame(fit = fit, gene = rownames(dds), dispGeneEst = m$dispGeneEst, dispFit = m$dispFit,
             dispMAP = m$dispMAP, dispersion = m$dispersion, maxCooks = m$maxCooks, replace = replace)
}

one_result <- function(dds, label, ...) {
  res <- results(dds, alpha = 0.05, ...)
  data.frame(contrast = label, gene = rownames(res), baseMean = res$baseMean,
             log2FoldChange = res$log2FoldChange, lfcSE = res$lfcSE, stat = res$stat,
             pvalue = res$pvalue, padj = res$padj)
}

write_table <- function(out, file) {
  for (column in names(out)) {
    if (is.numeric(out[[column]])) out[[column]] <- sprintf("%.17g", out[[column]])
  }
  write.csv(out, file, row.names = FALSE, quote = FALSE)
  system2("gzip", c("-n", "-f", file))  # -n: no time stamp, reruns give identical bytes
}

write_case <- function(case, tables, fits) {
  prefix <- sprintf("R_DESeq2_%s_%s", packageVersion("DESeq2"), case)
  write_table(do.call(rbind, tables), paste0(prefix, ".csv"))
  write_table(do.call(rbind, fits), paste0(prefix, "_stages.csv"))
}

quietly <- function(expr) suppressMessages(suppressWarnings(expr))

# ~batch + condition, one lesional sample in batch A, one healthy in batch B
d <- read_case("batch_condition")
cd <- data.frame(batch = factor(d$samples$batch), condition = factor(d$samples$condition, c("healthy", "lesional")))
dds <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~batch + condition)))
write_case("batch_condition", list(one_result(dds, "lesional_vs_healthy", contrast = c("condition", "lesional", "healthy"))),
           list(stages(dds, "wald")))

# three levels: Wald pairs, list and numeric contrasts, thresholds; then the LRT against ~batch (df 2)
d <- read_case("three_levels")
cd <- data.frame(batch = factor(d$samples$batch),
                 condition = factor(d$samples$condition, c("healthy", "non-lesional", "lesional")))
dds <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~batch + condition)))
tables <- list(
  one_result(dds, "lesional_vs_healthy", contrast = c("condition", "lesional", "healthy")),
  one_result(dds, "non-lesional_vs_healthy", contrast = c("condition", "non-lesional", "healthy")),
  one_result(dds, "lesional_vs_non-lesional", contrast = c("condition", "lesional", "non-lesional")),
  one_result(dds, "healthy_vs_lesional", contrast = c("condition", "healthy", "lesional")),
  one_result(dds, "list", contrast = list("condition_lesional_vs_healthy", "condition_non.lesional_vs_healthy")),
  one_result(dds, "numeric", contrast = c(0, 0, -1, 1))
)
for (alt in c("greaterAbs", "lessAbs", "greater", "less")) {
  tables[[length(tables) + 1]] <- one_result(dds, paste0("threshold_", alt), contrast = c("condition", "lesional", "healthy"),
                                             lfcThreshold = 1, altHypothesis = alt)
}
lrt <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~batch + condition), test = "LRT", reduced = ~batch))
tables[[length(tables) + 1]] <- one_result(lrt, "lrt_lesional_vs_healthy", contrast = c("condition", "lesional", "healthy"))
tables[[length(tables) + 1]] <- one_result(lrt, "lrt_lesional_vs_non-lesional", contrast = c("condition", "lesional", "non-lesional"))
write_case("three_levels", tables, list(stages(dds, "wald"), stages(lrt, "lrt")))

# paired designs: TCGA-like ~patient + tissue (Wald, and the LRT against ~patient, df 1), prostate-like ~patient + prepost
d <- read_case("tcga_like")
cd <- data.frame(patient = factor(d$samples$patient), tissue = factor(d$samples$tissue, c("normal", "tumour")))
dds <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~patient + tissue)))
lrt <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~patient + tissue), test = "LRT", reduced = ~patient))
write_case("tcga_like", list(one_result(dds, "tumour_vs_normal", contrast = c("tissue", "tumour", "normal")),
                             one_result(lrt, "lrt_tumour_vs_normal", contrast = c("tissue", "tumour", "normal"))),
           list(stages(dds, "wald"), stages(lrt, "lrt")))
d <- read_case("prostate_like")
cd <- data.frame(patient = factor(d$samples$patient), prepost = factor(d$samples$prepost, c("pre", "post")))
dds <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~patient + prepost)))
write_case("prostate_like", list(one_result(dds, "post_vs_pre", contrast = c("prepost", "post", "pre"))),
           list(stages(dds, "wald")))

# a continuous covariate
d <- read_case("continuous")
cd <- data.frame(age = as.numeric(d$samples$age), condition = factor(d$samples$condition, c("healthy", "lesional")))
dds <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~age + condition)))
write_case("continuous", list(one_result(dds, "lesional_vs_healthy", contrast = c("condition", "lesional", "healthy")),
                              one_result(dds, "age", name = "age")), list(stages(dds, "wald")))

# an interaction: the interaction term, the lesional effect on the back (list), and on the arm (reference site)
d <- read_case("interaction")
cd <- data.frame(site = factor(d$samples$site, c("arm", "back")), condition = factor(d$samples$condition, c("healthy", "lesional")))
dds <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~site + condition + site:condition)))
write_case("interaction", list(
  one_result(dds, "interaction", name = "siteback.conditionlesional"),
  one_result(dds, "lesional_on_back", contrast = list(c("condition_lesional_vs_healthy", "siteback.conditionlesional"))),
  one_result(dds, "lesional_on_arm", contrast = c("condition", "lesional", "healthy"))
), list(stages(dds, "wald")))

# individuals nested within groups: paired lesional / non-lesional patients plus unpaired healthy donors
d <- read_case("nested")
cd <- data.frame(group = factor(d$samples$group, c("healthy", "patient")), ind = factor(d$samples$ind),
                 lesion = factor(d$samples$lesion, c("non-lesional", "lesional")))
mm <- model.matrix(~group + group:ind + group:lesion, cd)
mm <- mm[, colSums(abs(mm)) > 0]
reduced <- mm[, colnames(mm) != "grouppatient:lesionlesional"]
# the data set's own design must be full rank, so it is ~1; DESeq() fits the matrix given as full
dds <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~1), full = mm))
lrt <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~1), full = mm, test = "LRT", reduced = reduced))
names <- resultsNames(dds)
average <- setNames(rep(0, length(names)), names)
average["grouppatient"] <- 1
average[grep("^grouppatient.ind", names)] <- 1 / 5
lesional <- average
lesional["grouppatient.lesionlesional"] <- 1
write_case("nested", list(
  one_result(dds, "lesional_vs_non-lesional", name = "grouppatient.lesionlesional"),
  one_result(dds, "non-lesional_vs_healthy", contrast = unname(average)),
  one_result(dds, "lesional_vs_healthy", contrast = unname(lesional)),
  one_result(lrt, "lrt_lesional_vs_non-lesional", name = "grouppatient.lesionlesional")
), list(stages(dds, "wald"), stages(lrt, "lrt")))

# outlier replacement (8 + 8 samples: minReplicatesForReplace = 7), Wald and the LRT against ~1
d <- read_case("outliers")
cd <- data.frame(condition = factor(d$samples$condition, c("healthy", "lesional")))
dds <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~condition)))
lrt <- quietly(DESeq(DESeqDataSetFromMatrix(d$counts, cd, ~condition), test = "LRT", reduced = ~1))
write_case("outliers", list(one_result(dds, "lesional_vs_healthy", contrast = c("condition", "lesional", "healthy")),
                            one_result(lrt, "lrt_lesional_vs_healthy", contrast = c("condition", "lesional", "healthy"))),
           list(stages(dds, "wald"), stages(lrt, "lrt")))
