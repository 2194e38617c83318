"""The run system: stage discovery, parameter validation, papermill execution,
manifests, the index of runs, comparison, batches and sweeps.

Modules, each with one job: ``project`` (where stages, params and outputs
live), ``paramspec`` (a notebook's parameters cell and what each parameter
allows), ``coerce`` (a value against its annotation), ``params`` (params files
and ``-p`` values, expanded and checked), ``manifest`` (run ids, manifest files,
a run's real state), ``execute`` (one papermill run), ``summary`` (the report's
summary block), ``index`` (list runs, outputs/index.html), ``compare`` (two runs
side by side), ``cluster`` (which Dask cluster), ``batch`` (several runs on
Dask), ``sweep_plan`` (a sweep's points), ``sweep_record`` (a sweep's
``sweep.json`` read back), ``sweep_report`` (a sweep's report) and ``sweep``
(running one). The package sits below the report and above the run folder
(the layers in pyproject.toml).
"""
