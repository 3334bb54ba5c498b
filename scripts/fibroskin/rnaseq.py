"""Differential expression of RNA-seq counts the way R DESeq2 does it, on pydeseq2.

One :func:`fit_deseq` per design formula, then one :func:`test_contrast` per contrast on
that fit. Outputs are plain DataFrames with stable row and column order, ready to be
written by the workflow's scripts.

Engines
-------
``engine="fast"`` (the default, and the workflow's ``rnaseq.engine: fast``) aims at R
DESeq2's answers, fast:

* :class:`fibroskin.deseq2.inference.VectorizedInference` fits every gene of a chunk at
  once (IRLS, Cox-Reid dispersions to tight tolerance with R's ``dispTol`` rule, Wald
  test, apeglm shrinkage);
* :class:`fibroskin.deseq2.dataset.FastDeseqDataSet` with ``trend_scheme="r"`` fits the
  dispersion trend as R's ``parametricDispersionFit`` (also for the VST);
* the design is R's model matrix with R's coefficient names
  (:mod:`fibroskin.deseq2.design`: continuous covariates, interactions, nested designs);
  the GLMs are R's ``fitNbinomGLMs`` (:mod:`fibroskin.deseq2.nbinom_glm`); ``test="lrt"``
  adds R's ``nbinomLRT`` (:mod:`fibroskin.deseq2.lrt`);
* :func:`test_contrast` is R's ``results()`` (:func:`fibroskin.deseq2.results.r_results`):
  contrasts as levels, a coefficient name, a list or weights, ``lfcThreshold`` /
  ``altHypothesis``, the Cook's filter, independent filtering with R's ``lowess``,
  quantiles and ``p.adjust``.

``engine="pydeseq2"`` is stock pydeseq2 throughout (``DefaultInference``,
``DeseqDataSet``, ``DeseqStats``): per-gene SciPy optimisers run through joblib, and
pydeseq2's own trend fit and independent filtering.

Significance level
------------------
``alpha`` of :func:`test_contrast` (the workflow's ``rnaseq.alpha``, default 0.05) has
exactly the meaning of ``alpha`` in R's ``results(dds, alpha = ...)``: it is the FDR
level for which independent filtering chooses its baseMean threshold (the threshold
maximising the rejections ``padj < alpha``), and the level at which genes are called.
R's default is 0.1; this project's default is 0.05. ``padj`` therefore depends on
``alpha`` (a gene filtered at one level may be tested at another); to reproduce an R
table made with ``results()`` defaults, pass ``alpha=0.1``.

Reproducibility
---------------
The fast engine uses no thread or process pool, and its gene chunks do not depend on
``n_cpus``. The stock engine fits every gene independently; joblib (``n_cpus``) only
decides which process fits which batch of genes, and results are reassembled in gene
order. Worker processes run with single-threaded BLAS; :func:`fit_deseq`,
:func:`test_contrast` and :func:`vst` also limit the calling process to one BLAS
thread, so the arithmetic of every gene is the same whatever ``n_cpus`` or the
machine's core count (tested: byte-identical tables for 1 and 2, both engines).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from formulaic_contrasts import FormulaicContrasts
from pydeseq2.dds import DeseqDataSet
from pydeseq2.default_inference import DefaultInference
from pydeseq2.ds import DeseqStats
from pydeseq2.inference import Inference
from threadpoolctl import threadpool_limits

from fibroskin.errors import InputError, InputErrors
from fibroskin.deseq2.dataset import FastDeseqDataSet
from fibroskin.deseq2.design import RModelMatrix, design_metadata, full_rank_problem, r_model_matrix
from fibroskin.deseq2.design import design_variables as r_design_variables
from fibroskin.deseq2.lrt import check_nested, r_nbinom_lrt
from fibroskin.deseq2.inference import VectorizedInference
from fibroskin.deseq2.contrasts import ContrastError, ContrastSpec, resolve_contrast
from fibroskin.deseq2.results import RFaithfulDeseqStats, r_results
from fibroskin.markers import SymbolIndex, gene_symbols

#: Engines of :func:`fit_deseq`: ``fast`` (R DESeq2's answers, vectorised) and ``pydeseq2``.
ENGINES = ("fast", "pydeseq2")

#: Columns of a differential-expression results table, in order.
RESULT_COLUMNS = [
    "gene",
    "symbol",
    "baseMean",
    "log2FoldChange",
    "lfcSE",
    "stat",
    "pvalue",
    "padj",
    "log2FoldChange_shrunk",
]

#: Columns of :func:`marker_results`: the results columns plus whether the marker was found.
MARKER_COLUMNS = RESULT_COLUMNS + ["found"]


def prefilter(
    counts: pd.DataFrame,
    groups: pd.Series | Sequence[str],
    min_count: int = 10,
    min_samples: int | None = None,
) -> pd.DataFrame:
    """Keep genes with at least ``min_count`` reads in at least ``min_samples`` samples.

    Without ``min_samples``, the DESeq2 vignette's pre-filter: at least (smallest group
    size) samples, so a gene expressed in every sample of the smallest group survives even
    if it is silent everywhere else. ``min_samples=1`` is nf-core/differentialabundance's
    default (``filtering_min_samples``).

    Parameters
    ----------
    counts
        Genes x samples.
    groups
        Group (condition) of every sample: a Series indexed by sample, or a sequence in
        column order.
    min_count
        Minimum count; ``0`` keeps every gene.
    min_samples
        Number of samples that must reach ``min_count``; ``None``: the smallest group's size.

    Returns
    -------
    pandas.DataFrame
        The rows of ``counts`` that pass, in their original order.
    """
    if isinstance(groups, pd.Series):
        groups = groups.reindex(counts.columns)
        if groups.isna().any():
            missing = ", ".join(map(str, counts.columns[groups.isna().to_numpy()]))
            raise ValueError(f"no group for sample(s) {missing}")
    else:
        groups = pd.Series(list(groups), index=counts.columns)
    return counts.loc[prefilter_mask(counts.to_numpy(), groups, min_count, min_samples)]


def prefilter_mask(
    counts: np.ndarray, groups: pd.Series | Sequence[str], min_count: int = 10, min_samples: int | None = None
) -> np.ndarray:
    """:func:`prefilter`'s rule on a genes x samples array: a boolean per gene (``groups`` in column order)."""
    required = int(pd.Series(list(groups)).value_counts().min()) if min_samples is None else int(min_samples)
    return (counts >= min_count).sum(axis=1) >= required


def design_variables(design: str, sample_table: pd.DataFrame) -> list[str]:
    """Columns of ``sample_table`` named in a formula such as ``~batch + condition``."""
    names = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", design))
    return [column for column in sample_table.columns if column in names]


#: The tests of :func:`fit_deseq`: R's ``DESeq(test = "Wald")`` and ``DESeq(test = "LRT")``.
TESTS = ("wald", "lrt")


def _prepare_metadata(
    counts: pd.DataFrame,
    sample_table: pd.DataFrame,
    design: str,
    reference_levels: Mapping[str, str | Sequence[str]] | None,
    extra_formulas: Sequence[str] = (),
) -> pd.DataFrame:
    """Sample table aligned to the count columns, as R's ``colData`` (:func:`fibroskin.deseq2.design.design_metadata`).

    Factors become ordered categoricals with the reference level first; levels not
    present among the counted samples are dropped (a sheet listing more conditions than
    this fit uses must not make the design rank-deficient). Columns whose every value is a
    number are continuous covariates, unless ``C()``-wrapped or given a reference level.
    """
    if "sample" in sample_table.columns:
        sample_table = sample_table.set_index("sample")
    sample_table = sample_table.copy()
    sample_table.index = sample_table.index.astype(str)
    missing = [s for s in counts.columns if s not in sample_table.index]
    problems = [
        InputError("count column has no row in the sample sheet", column="sample", value=s,
                   expected="every counted sample in the sample sheet")
        for s in missing
    ]
    reference_levels = dict(reference_levels or {})
    variables = design_variables(" + ".join([design, *extra_formulas]), sample_table)
    for column in reference_levels:
        if column not in variables:
            problems.append(InputError(f"reference level given for '{column}', which is not in the design {design!r}",
                                       column=column, expected=f"one of {variables}"))
    if problems:
        raise InputErrors(problems)
    try:
        return design_metadata(sample_table.loc[list(counts.columns)], [design, *extra_formulas], reference_levels)
    except ValueError as problem:
        raise InputErrors([InputError(str(problem), column="reference", expected="a level the samples have")]) from None


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown DE engine {engine!r}; expected one of {list(ENGINES)}")


def make_inference(engine: str = "fast", n_cpus: int = 1) -> Inference:
    """The pydeseq2 inference backend of an engine.

    Parameters
    ----------
    engine
        ``"fast"``: :class:`~fibroskin.deseq2.inference.VectorizedInference` (ignores
        ``n_cpus``); ``"pydeseq2"``: ``DefaultInference(n_cpus=n_cpus)``.
    n_cpus
        Processes of the stock backend.

    The fast engine's backend uses R's dispersion estimator
    (``mode="r"``).
    """
    _check_engine(engine)
    if engine == "fast":
        return VectorizedInference(mode="r", n_cpus=n_cpus)
    return DefaultInference(n_cpus=n_cpus)


def fit_engine(dds: DeseqDataSet) -> str:
    """Engine a data set was fitted with (``dds.uns["fibroskin"]["engine"]``, else by class)."""
    recorded = dds.uns.get("fibroskin", {}).get("engine") if hasattr(dds, "uns") else None
    if recorded is not None:
        return str(recorded)
    return "fast" if isinstance(dds, FastDeseqDataSet) else "pydeseq2"


def _new_dataset(engine: str, **kwargs) -> DeseqDataSet:
    """An unfitted data set of the engine's class."""
    if engine == "fast":
        return FastDeseqDataSet(trend_scheme="r", **kwargs)
    return DeseqDataSet(**kwargs)


def fit_deseq(
    counts: pd.DataFrame,
    sample_table: pd.DataFrame,
    design: str = "~condition",
    engine: str = "fast",
    inference: Inference | None = None,
    n_cpus: int = 1,
    refit_cooks: bool = True,
    reference_levels: Mapping[str, str | Sequence[str]] | None = None,
    fit_type: str = "parametric",
    size_factors_fit_type: str = "ratio",
    quiet: bool = True,
    test: str = "wald",
    reduced: str | None = None,
    average_lengths: pd.DataFrame | None = None,
    low_memory: bool = False,
) -> DeseqDataSet:
    """Fit DESeq2's model (size factors, dispersions, LFCs, Cook's refit) for one design.

    Parameters
    ----------
    counts
        Genes x samples of non-negative integers (as returned by ``read_counts``).
    sample_table
        One row per sample (index = sample names, or a ``sample`` column) holding the
        design's variables. Text columns become factors; columns whose every value is a
        number are continuous covariates unless written ``C(column)`` in the formula
        (:func:`fibroskin.deseq2.design.continuous_columns`).
    design
        Formula, e.g. ``"~condition"``, ``"~batch + condition"``, ``"~patient + condition"``,
        ``"~age + condition"``, ``"~site + condition + site:condition"``, or a nested design
        such as ``"~group + group:ind + group:lesion"`` (all-zero columns are dropped, as
        the DESeq2 vignette does, see :mod:`fibroskin.deseq2.design`).
    engine
        ``"fast"`` (default): R DESeq2's estimators and ``results()``
        (:mod:`fibroskin.deseq2`). ``"pydeseq2"``: stock pydeseq2 throughout (Wald tests
        of two levels only). See the module docstring.
    inference
        Override of the engine's pydeseq2 ``Inference`` backend (default
        :func:`make_inference`). It is stored on the fit and reused by
        :func:`test_contrast`.
    n_cpus
        Processes for the stock backend (results do not depend on it; the fast
        backend is single-process).
    refit_cooks
        Replace Cook's outliers and refit those genes, as ``DESeq()`` does.
    reference_levels
        Baseline level per factor (``{"condition": "control"}``), or the order of its
        levels, baseline first (``{"condition": ["healthy", "non-lesional", "lesional"]}``,
        R's ``factor(levels = )``; levels not listed follow alphabetically); otherwise
        the alphabetically first level, as R's ``factor()``. Choosing the contrast's
        reference here makes its LFC a model coefficient, so shrinkage needs no
        reparametrisation.
    fit_type, size_factors_fit_type
        Passed to pydeseq2 (``"parametric"``/``"mean"``; ``"ratio"``/``"poscounts"``/``"iterative"``).
    quiet
        Silence pydeseq2's progress messages.
    test
        ``"wald"`` or ``"lrt"`` (R's ``DESeq(test = "LRT", reduced = )``; fast engine only).
    reduced
        The LRT's reduced formula, nested in ``design`` (e.g. ``"~patient"``, ``"~1"``).
    average_lengths
        Genes x samples average transcript lengths of the genes and samples of ``counts``
        (tximport's ``length``, nf-core's ``salmon.merged.gene_lengths.tsv``): DESeq2's
        length offsets, R's ``avgTxLength`` assay. Every stage then uses R's per-gene,
        per-sample normalization factors (see
        :class:`~fibroskin.deseq2.dataset.FastDeseqDataSet`). Fast engine only.
    low_memory
        pydeseq2's ``low_memory``: drop the samples x genes arrays of each stage once
        used (the gene-wise means after the MAP step, the GLM means and leverages after
        Cook's distances, those distances once the outliers are known, the normalized
        counts after the fit); the results are the same. The workflow fits with it.

    Returns
    -------
    pydeseq2.dds.DeseqDataSet
        The fitted data set (a :class:`~fibroskin.deseq2.dataset.FastDeseqDataSet` for
        the fast engine; samples in the order of ``counts`` columns); the engine,
        design, test and reference levels are recorded in ``dds.uns["fibroskin"]``.

    Raises
    ------
    InputErrors
        When the design is not full rank (naming the dependent columns) or the LRT's
        reduced design is not nested with at least one degree of freedom.
    """
    return fit_deseq_handed(
        [counts], sample_table, design, engine=engine, inference=inference, n_cpus=n_cpus,
        refit_cooks=refit_cooks, reference_levels=reference_levels, fit_type=fit_type,
        size_factors_fit_type=size_factors_fit_type, quiet=quiet, test=test, reduced=reduced,
        average_lengths=average_lengths, low_memory=low_memory,
    )


def fit_deseq_handed(
    handed_counts: list[pd.DataFrame],
    sample_table: pd.DataFrame,
    design: str = "~condition",
    engine: str = "fast",
    inference: Inference | None = None,
    n_cpus: int = 1,
    refit_cooks: bool = True,
    reference_levels: Mapping[str, str] | None = None,
    fit_type: str = "parametric",
    size_factors_fit_type: str = "ratio",
    quiet: bool = True,
    test: str = "wald",
    reduced: str | None = None,
    average_lengths: pd.DataFrame | None = None,
    low_memory: bool = False,
) -> DeseqDataSet:
    """:func:`fit_deseq` of the one table in the list ``handed_counts``, which it empties.

    Python keeps a call's arguments alive until it returns; handed over in a list, the
    counts are held by nothing once the data set has copied them (when the caller keeps
    no other reference), which spares a samples x genes table during the fit.
    """
    counts = handed_counts.pop()
    _check_engine(engine)
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; expected one of {list(TESTS)}")
    if test == "lrt":
        if reduced is None:
            raise InputErrors([InputError("the likelihood ratio test needs a reduced design", column="rnaseq.reduced",
                                          expected="a formula nested in the design, e.g. '~patient'")])
        if engine != "fast":
            raise InputErrors([InputError("the likelihood ratio test is computed by the fast engine only",
                                          column="rnaseq.engine", value=engine, expected="fast")])
    extra = [reduced] if (test == "lrt" and reduced is not None) else []
    metadata = _prepare_metadata(counts, sample_table, design, reference_levels, extra)
    model = reduced_model = None
    design_argument: str | pd.DataFrame = design
    if engine == "fast":
        model = r_model_matrix(design, metadata)
        check_full_rank(model, metadata)
        design_argument = model.matrix
        if test == "lrt":
            reduced_model = reduced_model_matrix(reduced, metadata, model)
    inference = inference if inference is not None else make_inference(engine, n_cpus)
    dataset_options = {}
    if average_lengths is not None:
        if engine != "fast":
            raise ValueError("length offsets (average_lengths) need the fast engine: pydeseq2 has no normalization factors")
        dataset_options["average_lengths"] = average_lengths.loc[counts.index, counts.columns].T
    with threadpool_limits(limits=1):
        dds = _new_dataset(
            engine,
            counts=counts.T.astype(np.int64, copy=False),
            metadata=metadata,
            design=design_argument,
            inference=inference,
            n_cpus=n_cpus,
            refit_cooks=refit_cooks,
            fit_type=fit_type,
            size_factors_fit_type=size_factors_fit_type,
            quiet=quiet,
            low_memory=low_memory,
            **dataset_options,
        )
        # the data set holds its own copy: when the caller passed the only reference
        # (rnaseq_steps.fit), the table is freed for the fit
        del counts, dataset_options
        dds.deseq2()
        if reduced_model is not None:
            r_nbinom_lrt(dds, reduced_model.matrix, intercept_only=reduced.replace(" ", "") == "~1")
    if low_memory and "normed_counts" in dds.layers:
        # used by the fit's own stages only (the tests read baseMean from var)
        del dds.layers["normed_counts"]
    dds.uns["fibroskin"] = {
        "engine": engine,
        "design": design,
        "test": test,
        "reduced": reduced if test == "lrt" else None,
        "user_supplied": bool(model.user_supplied) if model is not None else False,
        "dropped_columns": list(model.dropped) if model is not None else [],
        "reference_levels": {c: str(metadata[c].cat.categories[0]) for c in metadata
                             if isinstance(metadata[c].dtype, pd.CategoricalDtype)},
    }
    return dds


def check_full_rank(model: RModelMatrix, metadata: pd.DataFrame) -> None:
    """R's ``checkFullRank`` (:func:`fibroskin.deseq2.design.full_rank_problem`), as an input error.

    Raises
    ------
    InputErrors
    """
    problem = full_rank_problem(model, metadata)
    if problem is not None:
        raise InputErrors([InputError(problem[0], column="rnaseq.design", value=model.formula, expected=problem[1])])


def reduced_model_matrix(reduced: str, metadata: pd.DataFrame, full: RModelMatrix) -> RModelMatrix:
    """The LRT's reduced model matrix, checked as R's ``nbinomLRT`` checks it.

    Raises
    ------
    InputErrors
        Reduced variables not in the full design, fewer than one degree of freedom, or
        a reduced design that is not full rank.
    """
    model = r_model_matrix(reduced, metadata, drop_zero_columns=True)
    try:
        check_nested(full.matrix, model.matrix, r_design_variables(full.formula), r_design_variables(reduced))
    except ValueError as problem:
        raise InputErrors([InputError(str(problem), column="rnaseq.reduced", value=reduced,
                                      expected=f"a formula nested in the design '{full.formula}', e.g. '~1'")]) from None
    problem = full_rank_problem(model, metadata)
    if problem is not None:
        raise InputErrors([InputError(problem[0], column="rnaseq.reduced", value=reduced,
                                      expected="a full-rank reduced design")])
    return model


def _levels(dds: DeseqDataSet, column: str) -> list[str]:
    values = dds.obs[column]
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(level) for level in values.cat.categories]
    return sorted(values.astype(str).unique())


def _unit_coefficient(contrast_vector: np.ndarray, columns: Sequence[str]) -> str | None:
    """Name of the design column the contrast selects on its own, if it does."""
    vector = np.asarray(contrast_vector, dtype=float)
    nonzero = np.flatnonzero(vector != 0)
    if len(nonzero) == 1 and vector[nonzero[0]] == 1.0 and nonzero[0] > 0:
        return str(columns[nonzero[0]])
    return None


def _reparametrised_stats(
    stats: DeseqStats, column: str, reference: str, target: str, inference: Inference
) -> tuple[DeseqStats, str]:
    """A DeseqStats whose design has ``reference`` as baseline of ``column``.

    Changing the baseline only re-expresses the same model: the fitted means,
    dispersions and likelihood do not change, and the MLE coefficients map linearly
    (``beta_new = T beta_old`` with ``X_old = X_new T``). So instead of refitting, the
    coefficients are transformed and the Wald test is re-run for the prior of apeglm.
    """
    dds = stats.dds
    obs = dds.obs.copy()
    levels = _levels(dds, column)
    obs[column] = pd.Categorical(obs[column].astype(str), categories=[reference] + [lv for lv in levels if lv != reference])
    contrasts = FormulaicContrasts(obs, dds.design)
    new_design = contrasts.design_matrix
    old_design = dds.obsm["design_matrix"]
    transform, *_ = np.linalg.lstsq(new_design.to_numpy(float), old_design.to_numpy(float), rcond=None)
    new_lfc = pd.DataFrame(dds.varm["LFC"].to_numpy() @ transform.T, index=dds.var_names, columns=new_design.columns)
    vector = contrasts.contrast(column=column, baseline=reference, group_to_compare=target).to_numpy()
    reparametrised = type(stats)(dds, contrast=vector, alpha=stats.alpha, inference=inference, quiet=True)
    reparametrised.design_matrix = new_design
    reparametrised.LFC = new_lfc
    coefficient = _unit_coefficient(vector, list(new_design.columns))
    assert coefficient is not None, "treatment coding makes target-vs-baseline a single coefficient"
    reparametrised.run_wald_test()
    return reparametrised, coefficient


def test_contrast(
    dds: DeseqDataSet,
    column: str,
    reference: str,
    target: str,
    alpha: float = 0.05,
    shrink: bool = True,
    inference: Inference | None = None,
    annotation: pd.DataFrame | str | None = None,
    contrast: ContrastSpec | None = None,
    lfc_threshold: float = 0.0,
    alt_hypothesis: str = "greaterAbs",
) -> pd.DataFrame:
    """Test of ``target`` vs ``reference`` of ``column`` (or of ``contrast``) on a fitted model.

    The fast engine is R's ``results(dds, contrast, lfcThreshold = , altHypothesis = ,
    alpha = )`` (:func:`fibroskin.deseq2.results.r_results`): the contrast's log2 fold
    change, the Wald test or the fit's LRT, R's threshold tests, the Cook's filter and
    independent filtering. The ``pydeseq2`` engine is pydeseq2's ``DeseqStats`` (two
    levels, no threshold). The apeglm-shrunken LFC (``lfcShrink(type="apeglm")``) is an
    extra column; the other columns are unshrunk.

    Parameters
    ----------
    dds
        Output of :func:`fit_deseq`.
    column, reference, target
        Factor and its two levels; positive LFC means higher in ``target``. Ignored for
        the test when ``contrast`` is given (they still label the comparison).
    alpha
        R's ``results(alpha=)``: FDR level that independent filtering optimises the
        number of rejections for, and the significance level of the calls (R's
        default 0.1, this project's 0.05). ``padj`` depends on it.
    shrink
        Compute ``log2FoldChange_shrunk`` (NaN when False, and for list and numeric
        contrasts, which apeglm has no single coefficient to shrink). When the contrast
        is two levels of which ``reference`` is not the fit's baseline, the model is
        re-expressed with ``reference`` as baseline (exact, no refit) so that the
        contrast is the shrunken coefficient.
    inference
        Backend for the tests; default the one the model was fitted with.
    annotation
        Optional gene_id -> symbol table for the ``symbol`` column.
    contrast
        The contrast in any of R's forms (:class:`~fibroskin.deseq2.contrasts.ContrastSpec`:
        levels, a coefficient name, a list, weights); default ``column`` ``target`` vs
        ``reference``. Fast engine only.
    lfc_threshold, alt_hypothesis
        R's ``lfcThreshold`` (log2) and ``altHypothesis``. Fast engine only.

    Returns
    -------
    pandas.DataFrame
        :data:`RESULT_COLUMNS`, one row per gene, sorted by padj (NaN last), then
        pvalue (NaN last), then gene.
    """
    engine = fit_engine(dds)
    spec = contrast if contrast is not None else ContrastSpec.levels(column, target, reference)
    if spec.kind == "levels":
        _check_levels(dds, spec.column, spec.denominator_level, spec.numerator_level)
    if engine != "fast" and (spec.kind != "levels" or lfc_threshold != 0 or alt_hypothesis != "greaterAbs"):
        raise InputErrors([InputError("coefficient, list and numeric contrasts and log2 fold-change thresholds are "
                                      "computed by the fast engine only", column="rnaseq.engine", value=engine,
                                      expected="fast")])
    inference = inference if inference is not None else dds.inference
    with threadpool_limits(limits=1):
        if engine == "fast":
            try:
                results = r_results(dds, spec, alpha=alpha, lfc_threshold=lfc_threshold,
                                    alt_hypothesis=alt_hypothesis)
            except ContrastError as problem:
                raise InputErrors([InputError(str(problem), column="contrasts", expected="a contrast of the fit's "
                                              "coefficients")]) from None
            results["log2FoldChange_shrunk"] = np.nan
            if shrink:
                results["log2FoldChange_shrunk"] = _fast_shrunk_lfc(dds, spec, alpha, inference)
        else:
            stats = DeseqStats(dds, contrast=[spec.column, spec.numerator_level, spec.denominator_level],
                               alpha=alpha, inference=inference, quiet=True)
            stats.summary()
            results = stats.results_df.copy()
            results["log2FoldChange_shrunk"] = np.nan
            if shrink:
                results["log2FoldChange_shrunk"] = _shrunk_lfc(stats, spec.column, spec.denominator_level,
                                                               spec.numerator_level, inference)

    results.index.name = "gene"
    results = results.reset_index()
    results["gene"] = results["gene"].astype(str)
    results.insert(1, "symbol", gene_symbols(pd.Index(results["gene"]), annotation).to_numpy())
    return sort_results(results[RESULT_COLUMNS])


# pytest would otherwise collect this function wherever a test module imports it by name.
test_contrast.__test__ = False  # type: ignore[attr-defined]


def _check_levels(dds: DeseqDataSet, column: str, reference: str, target: str) -> None:
    """Refuse a two-level contrast whose column or levels the fit does not have."""
    levels = _levels(dds, column) if column in dds.obs else []
    problems = []
    if column not in dds.obs:
        problems.append(InputError("contrast column is not a variable of the fitted design", column="contrast",
                                   value=column, expected=f"one of {list(dds.obs.columns)}"))
    for level in (reference, target):
        if levels and level not in levels:
            problems.append(InputError(f"contrast level is not a value of '{column}' among the fitted samples",
                                       column="contrast", value=level, expected=f"one of {levels}"))
    if reference == target:
        problems.append(InputError("contrast compares a level with itself", column="contrast", value=target,
                                   expected="two different levels"))
    if problems:
        raise InputErrors(problems)


def _shrunk_lfc(stats: DeseqStats, column: str, reference: str, target: str, inference: Inference) -> pd.Series:
    """apeglm-shrunken log2 fold change of the contrast (pydeseq2 engine).

    Shrinking overwrites ``stats.LFC``/``stats.SE`` (pydeseq2 shrinks in place), so the
    caller copies the unshrunk results before calling this.
    """
    coefficient = _unit_coefficient(stats.contrast_vector, list(stats.design_matrix.columns))
    if coefficient is None:
        shrinker, coefficient = _reparametrised_stats(stats, column, reference, target, inference)
    else:
        # Its Wald SEs (of this same contrast) set the apeglm prior scale; the caller
        # has already copied the unshrunk results.
        shrinker = stats
    shrinker.lfc_shrink(coeff=coefficient)
    return shrinker.LFC[coefficient] / np.log(2)


def _fast_shrunk_lfc(dds: DeseqDataSet, spec: ContrastSpec, alpha: float, inference: Inference) -> pd.Series:
    """apeglm-shrunken log2 fold change of a contrast that is one coefficient (fast engine).

    A coefficient (or its negation) is shrunk as it is; two levels of a factor of which
    neither is the reference are shrunk after re-expressing the model with the
    denominator as reference (the same fit; coefficients mapped linearly). Other
    contrasts have no coefficient to shrink: NaN.
    """
    info = dds.uns.get("fibroskin", {})
    design = dds.obsm["design_matrix"]
    resolved = resolve_contrast(spec, design, dds.obs, np.asarray(dds.X, dtype=float).T, info.get("design", ""),
                                bool(info.get("user_supplied", False)))
    if resolved.coefficient is not None:
        name = str(design.columns[resolved.coefficient])
        stats = RFaithfulDeseqStats(dds, contrast=np.eye(design.shape[1])[resolved.coefficient], alpha=alpha,
                                    inference=inference, quiet=True)
        stats.run_wald_test()
        stats.lfc_shrink(coeff=name)
        return resolved.sign * stats.LFC[name] / np.log(2)
    if spec.kind != "levels":
        return pd.Series(np.nan, index=dds.var_names)
    metadata = dds.obs.copy()
    levels = _levels(dds, spec.column)
    metadata[spec.column] = pd.Categorical(metadata[spec.column].astype(str), categories=[spec.denominator_level] + [
        level for level in levels if level != spec.denominator_level])
    model = r_model_matrix(info.get("design", ""), metadata)
    new_design = model.matrix
    transform, *_ = np.linalg.lstsq(new_design.to_numpy(float), design.to_numpy(float), rcond=None)
    new_lfc = pd.DataFrame(dds.varm["LFC"].to_numpy() @ transform.T, index=dds.var_names, columns=new_design.columns)
    name = model.factor_columns[(spec.column, spec.numerator_level)]
    vector = (new_design.columns == name).astype(float)
    stats = RFaithfulDeseqStats(dds, contrast=vector, alpha=alpha, inference=inference, quiet=True)
    stats.design_matrix = new_design
    stats.LFC = new_lfc
    stats.run_wald_test()
    stats.lfc_shrink(coeff=name)
    return stats.LFC[name] / np.log(2)


def sort_results(results: pd.DataFrame) -> pd.DataFrame:
    """Order by padj (NaN last), then pvalue (NaN last), then gene ID; fresh index."""
    order = np.lexsort((
        results["gene"].astype(str).to_numpy(),
        results["pvalue"].fillna(np.inf).to_numpy(),
        results["padj"].fillna(np.inf).to_numpy(),
    ))
    return results.iloc[order].reset_index(drop=True)


def marker_results(results: pd.DataFrame, markers: Sequence[str], symbol_index: SymbolIndex | None = None) -> pd.DataFrame:
    """Rows of ``results`` for the configured markers, one per marker, in config order.

    A marker matches a gene by symbol, alias (``CTGF`` finds ``CCN2``) or Ensembl ID
    (with or without version). When several genes match (e.g. an Ensembl ID and its
    ``_PAR_Y`` copy) the one with the highest baseMean is kept.

    Parameters
    ----------
    results
        Output of :func:`test_contrast`.
    markers
        Marker names as configured.
    symbol_index
        Identifier lookup; default the bundled panel.

    Returns
    -------
    pandas.DataFrame
        :data:`MARKER_COLUMNS`; ``symbol`` is the canonical symbol of the marker; a
        marker missing from ``results`` has ``found`` False, ``gene`` "" and NaN numbers.
    """
    symbol_index = symbol_index or SymbolIndex.build()
    by_id = pd.Series([symbol_index.symbol(g).upper() for g in results["gene"]], index=results.index)
    by_symbol = pd.Series([symbol_index.symbol(s).upper() for s in results["symbol"].astype(str)], index=results.index)
    rows = []
    for marker in markers:
        symbol = symbol_index.symbol(marker)
        hits = results[(by_id == symbol.upper()) | (by_symbol == symbol.upper())]
        if len(hits):
            best = hits.sort_values(["baseMean", "gene"], ascending=[False, True], na_position="last").iloc[0]
            row = best[RESULT_COLUMNS].to_dict()
            row.update(symbol=symbol, found=True)
        else:
            row = {name: np.nan for name in RESULT_COLUMNS}
            row.update(gene="", symbol=symbol, found=False)
        rows.append(row)
    table = pd.DataFrame(rows, columns=MARKER_COLUMNS)
    table["found"] = table["found"].astype(bool)
    return table


def size_factors(dds: DeseqDataSet) -> pd.DataFrame:
    """Columns ``sample``, ``size_factor`` in the fit's sample order.

    With length offsets R keeps no size factors (``sizeFactors(dds)`` is ``NULL``): the
    value is then each sample's geometric mean of its normalization factors over genes,
    ``exp(colMeans(log(normalizationFactors(dds))))``, which R's VST uses in their place.
    """
    return pd.DataFrame({"sample": [str(s) for s in dds.obs_names],
                         "size_factor": dds.obs["size_factors"].to_numpy(dtype=float)})


def _gene_by_sample(values: np.ndarray, dds: DeseqDataSet) -> pd.DataFrame:
    """samples x genes array -> table with a ``gene`` column then one column per sample."""
    table = pd.DataFrame(np.asarray(values, dtype=float).T, columns=[str(s) for s in dds.obs_names])
    table.insert(0, "gene", [str(g) for g in dds.var_names])
    return table


def normalized_counts(dds: DeseqDataSet) -> pd.DataFrame:
    """Counts divided by size factors (``counts(dds, normalized=TRUE)``), or by R's
    normalization factors for a fit with length offsets.

    Returns
    -------
    pandas.DataFrame
        ``gene`` column then one column per sample; genes and samples in fit order.
    """
    if getattr(dds, "normalization_factors", None) is not None:
        return _gene_by_sample(dds.X / dds.normalization_factors, dds)
    return _gene_by_sample(dds.X / dds.obs["size_factors"].to_numpy()[:, None], dds)


def vst(dds: DeseqDataSet, blind: bool = True, fit_type: str | None = None) -> pd.DataFrame:
    """Variance-stabilised expression (``varianceStabilizingTransformation``), log2 scale.

    The transform is fitted on a fresh copy of the counts, so the differential
    expression fit is not modified. Like R's ``varianceStabilizingTransformation`` (and
    unlike ``vst()``, which fits the trend on a random subset of 1000 genes) it uses all
    genes, so it is deterministic. With the fast engine the trend is fitted as R's
    ``parametricDispersionFit``, on the fast backend's gene-wise dispersions. A fit with
    length offsets is transformed with its normalization factors, as R's
    ``varianceStabilizingTransformation`` does (``counts / nf``; the blind gene-wise
    dispersions from ``linearModelMu(counts / nf) * nf``).

    Parameters
    ----------
    dds
        Fitted model (its raw counts, sample table and design are used).
    blind
        Ignore the design when fitting dispersions (DESeq2's default for QC plots).
    fit_type
        Trend type; default that of the fit.

    Returns
    -------
    pandas.DataFrame
        ``gene`` column then one column per sample; genes and samples in fit order.
    """
    extra = {}
    if "average_lengths" in dds.layers:
        extra["average_lengths"] = np.asarray(dds.layers["average_lengths"])
    counts = [pd.DataFrame(np.asarray(dds.X), index=dds.obs_names, columns=dds.var_names)]
    transformed = _vst_layer(fit_engine(dds), counts, dds.obs.copy(), dds.design, dds.inference,
                             fit_type or dds.fit_type, dds.size_factors_fit_type, blind, extra)
    return _gene_by_sample(transformed, dds)


def vst_of_counts(
    counts: pd.DataFrame,
    sample_table: pd.DataFrame,
    design: str = "~condition",
    engine: str = "fast",
    reference_levels: Mapping[str, str] | None = None,
    fit_type: str = "parametric",
    size_factors_fit_type: str = "ratio",
    blind: bool = True,
    average_lengths: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`vst` of counts that have not been fitted: the same table, without the DE fit.

    Parameters are those of :func:`fit_deseq` (``counts`` genes x samples), plus ``blind``
    of :func:`vst`. ``vst_of_counts(counts, ...)`` equals ``vst(fit_deseq(counts, ...))``.

    Returns
    -------
    pandas.DataFrame
        ``gene`` column then one column per sample, in the order of ``counts``.
    """
    return vst_of_handed_counts([counts], sample_table, design, engine, reference_levels, fit_type,
                                size_factors_fit_type, blind, average_lengths)


def vst_of_handed_counts(
    handed_counts: list[pd.DataFrame],
    sample_table: pd.DataFrame,
    design: str = "~condition",
    engine: str = "fast",
    reference_levels: Mapping[str, str] | None = None,
    fit_type: str = "parametric",
    size_factors_fit_type: str = "ratio",
    blind: bool = True,
    average_lengths: pd.DataFrame | None = None,
    n_cpus: int = 1,
) -> pd.DataFrame:
    """:func:`vst_of_counts` of the one table in the list ``handed_counts``, which it empties
    (as :func:`fit_deseq_handed`: nothing holds the counts once the data set has copied them);
    ``n_cpus`` threads fit the fast engine's chunks (the numbers do not depend on them)."""
    counts = handed_counts.pop()
    _check_engine(engine)
    metadata = _prepare_metadata(counts, sample_table, design, reference_levels)
    extra = {}
    if average_lengths is not None:
        if engine != "fast":
            raise ValueError("length offsets (average_lengths) need the fast engine: pydeseq2 has no normalization factors")
        extra["average_lengths"] = average_lengths.loc[counts.index, counts.columns].T
    genes, samples = [str(g) for g in counts.index], [str(s) for s in counts.columns]
    handed_over = [counts.T.astype(np.int64, copy=False)]
    del counts
    transformed = _vst_layer(engine, handed_over, metadata, design, make_inference(engine, n_cpus),
                             fit_type, size_factors_fit_type, blind, extra)
    table = pd.DataFrame(np.asarray(transformed, dtype=float).T, columns=samples, copy=False)
    table.insert(0, "gene", genes)
    return table


def _vst_layer(engine: str, counts: list[pd.DataFrame], metadata: pd.DataFrame, design: str, inference: Inference,
               fit_type: str, size_factors_fit_type: str, blind: bool, extra: dict) -> np.ndarray:
    """The VST (samples x genes) of a fresh data set of the engine's class, of the counts in the list ``counts`` (emptied)."""
    with threadpool_limits(limits=1):
        fresh = _new_dataset(
            engine,
            counts=counts.pop(),
            metadata=metadata,
            design=design,
            inference=inference,
            fit_type=fit_type,
            size_factors_fit_type=size_factors_fit_type,
            quiet=True,
            **extra,
        )
        fresh.vst(use_design=not blind, fit_type=fit_type)
    return fresh.layers["vst_counts"]


def simulate_counts(
    n_genes: int = 600,
    n_patients: int = 4,
    seed: int = 1,
    reference: str = "non-lesional",
    target: str = "lesional",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small paired RNA-seq data set with known truth, for examples and tests.

    Each patient gives one ``reference`` and one ``target`` skin sample; patients are
    split over two batches. Counts are negative binomial (dispersion 0.05 + 1/mean) with
    a patient effect. The panel's profibrotic markers (identified by versioned Ensembl
    IDs, except CCN2 which appears under its old symbol ``CTGF``) are raised in
    ``target`` by 1.5-3 log2 units; 10% of the other genes change by N(0, 1.5) log2.

    Returns
    -------
    counts, sample_table
        Genes x samples integers; samples with columns sample, condition, batch, patient.
    """
    from fibroskin.markers import load_panel  # local: only the simulator needs the panel

    rng = np.random.default_rng(seed)
    panel = load_panel()
    profibrotic = panel[panel["role"] == "profibrotic_marker"]
    marker_ids = [
        "CTGF" if row.symbol == "CCN2" else f"{row.ensembl_gene_id}.{index + 3}"
        for index, row in enumerate(profibrotic.itertuples())
    ]
    other_ids = [f"ENSG{90_000_000_000 + i:011d}.1" for i in range(n_genes - len(marker_ids))]
    genes = marker_ids + other_ids

    patients = [f"P{i + 1}" for i in range(n_patients)]
    sample_table = pd.DataFrame(
        [
            {"sample": f"{patient}_{condition}", "condition": condition,
             "batch": f"batch{1 + i % 2}", "patient": patient}
            for i, patient in enumerate(patients)
            for condition in (reference, target)
        ]
    )
    base = rng.lognormal(mean=5.0, sigma=1.8, size=len(genes))
    lfc = np.where(rng.random(len(genes)) < 0.10, rng.normal(0.0, 1.5, len(genes)), 0.0)
    lfc[: len(marker_ids)] = rng.uniform(1.5, 3.0, len(marker_ids))
    patient_effect = rng.normal(0.0, 0.3, (len(genes), n_patients))
    is_target = (sample_table["condition"] == target).to_numpy()
    patient_index = np.array([patients.index(p) for p in sample_table["patient"]])
    log2_mean = (np.log2(base)[:, None] + lfc[:, None] * is_target[None, :]
                 + patient_effect[:, patient_index] + rng.normal(0, 0.1, len(sample_table))[None, :])
    mean = 2.0 ** log2_mean
    dispersion = (0.05 + 1.0 / base)[:, None]
    counts = rng.negative_binomial(1.0 / dispersion, 1.0 / (1.0 + mean * dispersion))
    return (
        pd.DataFrame(counts.astype(np.int64), index=pd.Index(genes, name="gene"),
                     columns=pd.Index(sample_table["sample"], name="sample")),
        sample_table,
    )
