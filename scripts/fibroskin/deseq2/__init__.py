"""fibroskin's DESeq2 engine: R DESeq2's answers on pydeseq2's data structures, all genes at once.

One module per stage of R's ``DESeq()`` and ``results()``, in the order they run:

========================  ==============================================================
module                    stage (R DESeq2 1.38 function it reproduces)
========================  ==============================================================
``size_factors``          median-of-ratios size factors (``estimateSizeFactorsForMatrix``)
``genewise_dispersions``  starting values and gene-wise dispersions
                          (``roughDispEstimate``, ``linearModelMu``,
                          ``estimateDispersionsGeneEst``)
``dispersion_line_search``  the line and grid searches both dispersion steps use
                          (C++ ``fitDisp``, ``fitDispGrid``)
``dispersion_trend``      the trend ``a0 + a1 / mean`` (``parametricDispersionFit``)
``dispersion_prior``      the prior variance of log dispersion
                          (``estimateDispersionsPriorVar``, with its simulation)
``map_dispersions``       MAP dispersions and dispersion outliers
                          (``estimateDispersionsMAP``)
``design``                model matrices and coefficient names (``model.matrix``,
                          ``resultsNames``; nested designs as ``DESeq(full = mm)``)
``nbinom_glm``            GLM fits (``fitNbinomGLMs``: C++ ``fitBeta``, ``optim`` fallback)
``irls``                  GLM coefficients for pydeseq2's estimators (``mode="exact"``)
``wald``                  standard errors and Wald p-values (``nbinomWaldTest``)
``cooks``                 Cook's distances, outlier replacement and refit
                          (``calculateCooksDistance``, ``replaceOutliers``,
                          ``refitWithoutOutliers``)
``lrt``                   likelihood ratio test (``nbinomLRT``)
``contrasts``             contrasts in R's four forms (``results(contrast, name)``)
``thresholds``            tests against a log2 fold-change threshold
                          (``results(lfcThreshold, altHypothesis)``)
``independent_filtering``  p-value adjustment on baseMean (``pvalueAdjustment``)
``shrinkage``             apeglm LFC shrinkage (``lfcShrink(type = "apeglm")``)
========================  ==============================================================

Cook's distances are pydeseq2's (R's formula). The pieces that tie the stages to
pydeseq2: ``inference`` (:class:`~fibroskin.deseq2.inference.VectorizedInference`, the
``Inference`` backend), ``dataset``
(:class:`~fibroskin.deseq2.dataset.FastDeseqDataSet`) and ``results``
(:class:`~fibroskin.deseq2.results.RFaithfulDeseqStats`). Shared pieces: ``arrays`` (gene
chunks, batched linear algebra), ``negative_binomial`` (likelihood, trigamma),
``dispersion_optimum`` (the exact optimum of pydeseq2's dispersion loss, ``mode="exact"``),
``r_math`` (R's ``lgammafn``, ``digamma``, ``trigamma``; the C library's ``exp``, ``log``,
``pow``), ``r_stats`` (R's ``seq``, ``quantile``, ``p.adjust``, ``lowess``, ``hist``,
``loess``, ``qr``, ``rowSums``/``rowMeans``, ``%*%``), ``r_random`` (R's random number
generators), ``r_dnbinom`` (R's ``dnbinom``), ``r_lapack`` (the reference LAPACK/BLAS of
``fitBeta``: Householder QR, triangular solves; LINPACK least squares for ``glm.fit``) and
``armadillo_linalg`` (Armadillo's ``det``, ``inv``, ``trace`` of the Cox-Reid term).
:func:`fibroskin.deseq2.results.r_results` is R's ``results()``.

Use it exactly like pydeseq2::

    from fibroskin.deseq2.dataset import FastDeseqDataSet
    from fibroskin.deseq2.results import RFaithfulDeseqStats

    dds = FastDeseqDataSet(counts=counts, metadata=metadata, design="~condition",
                           trend_scheme="r")
    dds.deseq2()
    stats = RFaithfulDeseqStats(dds, contrast=["condition", "b", "a"], alpha=0.1,
                                inference=dds.inference)
    stats.summary()

(:func:`fibroskin.rnaseq.fit_deseq` and :func:`fibroskin.rnaseq.test_contrast` do this for
the workflow.) ``VectorizedInference()`` alone (``mode="exact"``) is a drop-in backend for
pydeseq2's own ``DeseqDataSet`` that solves pydeseq2's estimators exactly.

R DESeq2's estimators (``FastDeseqDataSet(trend_scheme="r")``, ``mode="r"``)
--------------------------------------------------------------------------
Checked stage by stage against DESeq2 1.38.3 (``tests/deseq2/``). On pasilla: size
factors, baseMean, gene-wise dispersions and their iteration counts bit for bit; trend
coefficients to 5e-15; MAP dispersions from R's inputs bit for bit; LFCs to 6e-10, p-values
to 6e-12 at the 99.9th percentile, padj calls identical.

R's line search stops by comparing log posteriors that differ in their last bits, so a
last-bit difference anywhere upstream can stop a gene a step away (before this arithmetic,
7 pasilla genes did so on one CPU, one by 2.4%, and through the trend and prior they moved
another gene's LFC by 8e-5). So every number the search depends on is computed as R
computes it: R's size factors and ``rowMeans`` (``long double`` sums), R's QR for
``linearModelMu``, R's ``lgammafn``/``digamma`` and the C library's ``exp``/``log``/``pow``
inside the log posterior, sums in sample order and no BLAS or CPU-specific SIMD code.

* Size factors, baseMean and the gene-wise starting values (``linearModelMu``,
  ``roughDispEstimate``, ``momentsDispEstimate``) in R's arithmetic.
* Gene-wise and MAP dispersions by R's ``fitDisp`` line search, vectorised over genes
  (``dispTol = 1e-6`` stopping rule, "no increase" rule, grid fallback), MAP started
  where R starts it (gene-wise if above a tenth of the trend, else the trend). R stops
  short of the optimum on flat posteriors; the exact optimum (``mode="exact"``) differs
  from R's estimate by up to ~0.1 in ``log(alpha)`` for some genes, which moved the
  trend, the prior variance and lfcSE (~0.4%) and cost 1.2% of pasilla's calls.
* The trend by R's ``parametricDispersionFit`` with ``glm.fit``'s own stopping rule; the
  prior variance with R's MAD constant 1.4826, and with 1 to 3 residual degrees of
  freedom by R's seeded simulation (pydeseq2 keeps the MAD estimate there).
* Every GLM as R's ``fitNbinomGLMs`` (:mod:`~fibroskin.deseq2.nbinom_glm`): R's starting
  values, the C++ ``fitBeta`` IRLS in reference-LAPACK order, R's ``dnbinom`` deviance and
  convergence rules, the ``optim`` fallback; the gene-wise means of designs that are not
  one group per coefficient, the Wald fit and both LRT models are R's bit for bit (the
  ``optim`` genes, a few at 1-2 reads, to ~1e-11: R's L-BFGS-B is not SciPy's). The
  Cox-Reid term in Armadillo's arithmetic for any number of coefficients. airway
  ``~celltype + dex``: every dispersion and LFC equal to R's.
* R's designs (continuous covariates, interactions, nested designs), contrasts
  (levels, name, list, numeric), threshold tests, LRT, Cook's filter, outlier
  replacement and refit (``minReplicatesForReplace = 7``), ``results()``'s independent
  filtering with R's ``lowess``, quantiles and BH.

Each module's docstring names its departures from pydeseq2 0.5.4.
"""
