"""The run system: stage discovery, parameter validation, papermill execution,
manifests, the index of runs, comparison and batches.

Modules, each with one job: ``project`` (where stages, params and outputs
live), ``params`` (read, expand, validate), ``manifest`` (run ids, manifest
files, environment), ``execute`` (one papermill run), ``index`` (list runs,
outputs/index.html), ``compare`` (two runs side by side), ``batch`` (several
runs in subprocesses).
"""
