"""fibroskin: qPCR and RNA-seq analysis of fibrosing skin disease (scleromyxedema).

The importable package behind the Snakemake workflow. Every computation lives here and is
unit-tested without Snakemake; the workflow's scripts only read inputs, call one function
and write outputs.
"""

__version__ = "0.1.0"
