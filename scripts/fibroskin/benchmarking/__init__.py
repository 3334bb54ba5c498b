"""Measurements of fibroskin's speed and memory (``fibroskin benchmark``, ``fibroskin bench-de-engine``).

- :mod:`~fibroskin.benchmarking.measure`: run a command as a child process and read its
  wall time, CPU time and peak memory; the machine's description.
- :mod:`~fibroskin.benchmarking.synthetic`: seeded synthetic qPCR plates and count tables.
- :mod:`~fibroskin.benchmarking.step`: one step of ours, run in a fresh interpreter.
- :mod:`~fibroskin.benchmarking.suite`: the benchmark (qPCR and RNA-seq steps at several
  sizes, whole-workflow runs), its table and figure.
- :mod:`~fibroskin.benchmarking.de_engines`: the DE step of each engine and of R DESeq2
  on the same files, compared gene by gene.

Nothing here is imported by the workflow.
"""
