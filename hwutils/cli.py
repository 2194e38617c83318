"""The ``hw`` command (thin: parses arguments, calls :mod:`hwutils.runs`).

Exit status: 0 ok; 1 a run failed; 2 bad input (one line on stderr, nothing
run, no existing run touched); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys

from hwutils.errors import HwError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, like every other bad input
        print(
            f"hw: error: {message} (see hw {self.prog.split()[-1] if ' ' in self.prog else ''} --help)".replace(
                "  ", " "
            ),
            file=sys.stderr,
        )
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="hw", description="Run the handwriting-analysis stage notebooks reproducibly.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("stages", help="list the stages, their notebooks and params files")

    sp = sub.add_parser("params", help="the parameters of a stage: name, type, default, allowed values, help")
    sp.add_argument("stage")

    sr = sub.add_parser("run", help="validate parameters, then execute a stage into outputs/STAGE/RUN_ID/")
    sr.add_argument("stage")
    sr.add_argument(
        "-f",
        "--file",
        action="append",
        default=[],
        metavar="FILE",
        help="YAML params file (a path or a name in params/STAGE/); repeatable, later wins",
    )
    sr.add_argument(
        "-p",
        "--param",
        action="append",
        nargs=2,
        default=[],
        metavar=("NAME", "VALUE"),
        help="override one parameter (VALUE read as YAML, kept as text for str parameters)",
    )
    sr.add_argument("--label", help="a label for the run (default: the params file names)")
    sr.add_argument("--show-code", action="store_true", help="keep code cells in the HTML report")

    sl = sub.add_parser("runs", help="table of runs, newest first")
    sl.add_argument("stage", nargs="?")
    sl.add_argument("--sweep", metavar="ID", help="only the runs of this sweep")

    sc = sub.add_parser("compare", help="two runs' parameters and metrics side by side")
    sc.add_argument("run_a")
    sc.add_argument("run_b")

    sb = sub.add_parser("batch", help="several runs on Dask, each its own hw run process")
    sb.add_argument("items", nargs="*", help="params/STAGE/FILE.yaml or STAGE:FILE")
    sb.add_argument("--defaults", action="store_true", help="every stage on its params/STAGE/default.yaml")
    sb.add_argument("--show-code", action="store_true", help="keep code cells in the HTML reports")
    sb.add_argument(
        "--local", action="store_true", help="the former thread pool of local processes instead of Dask"
    )
    _cluster_args(sb)

    sw = sub.add_parser("sweep", help="a grid of parameters (and seeds) of one stage, on Dask")
    sw.add_argument("stage")
    sw.add_argument("-f", "--file", action="append", default=[], metavar="FILE", help="base params file(s)")
    sw.add_argument(
        "-g",
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="a swept parameter and its values (read as YAML); repeatable: the grid is their product",
    )
    sw.add_argument(
        "--sweep-file", metavar="FILE", help="a sweep YAML: base, grid (mapping of lists), list, seeds"
    )
    sw.add_argument("--seeds", help="seeds for every point: 0-4 or 0,3")
    sw.add_argument("--show-code", action="store_true", help="keep code cells in the HTML reports")
    _cluster_args(sw)

    p.apply_parsers = _apply_parsers(sub)

    si = sub.add_parser("index", help="rebuild outputs/index.html and print its path")
    del si
    sk = sub.add_parser(
        "check", help="verify a run's artifacts against the sha256 and sizes its manifest recorded"
    )
    sk.add_argument("run", metavar="RUN", help="a run folder or a run id")
    sk.add_argument("--json", action="store_true", help="print JSON instead of lines")
    return p


def _apply_parsers(sub) -> dict:
    """hw identify / verify / read / screen / generate: a finished run applied to your images.
    Their options may come between the images (``parse_intermixed_args``)."""
    parsers = {}
    run_help = "a run folder (or its artifacts/ folder, or a copy from another machine) or a run id"

    def common(p, images: str | None = "IMAGE"):
        p.add_argument("run", metavar="RUN", help=run_help)
        if images:
            p.add_argument("images", nargs="*", metavar=images, help="image files (PNG, JPEG, TIFF, ...)")
        p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = parsers["identify"] = sub.add_parser(
        "identify", help="who wrote each page (or line): ranked writers, scores, likelihood ratios"
    )
    common(p)
    p.add_argument(
        "--lines", action="store_true", help="each image is one line (default: a page, cut into lines)"
    )
    p.add_argument("--top", type=int, default=3, metavar="K", help="writers shown per image (default 3)")
    p = parsers["verify"] = sub.add_parser(
        "verify", help="questioned signatures against references: decision, score, likelihood ratio"
    )
    common(p, "QUESTIONED")
    p.add_argument(
        "--ref", action="append", default=[], metavar="IMG", help="a genuine reference signature; repeatable"
    )
    p = parsers["read"] = sub.add_parser("read", help="the text of word images (a char_ocr run)")
    common(p)
    p.add_argument(
        "--reader",
        choices=["segmentation", "ctc", "combined"],
        help="segmentation, the segmentation-free CTC reader or the two combined "
        "(default: the run's choice on validation)",
    )
    p = parsers["screen"] = sub.add_parser(
        "screen", help="is each image a signature at all (a signatures run with screening)"
    )
    common(p)
    p = parsers["generate"] = sub.add_parser(
        "generate", help="new digits sampled from a single_image_vae run, as PNG files"
    )
    common(p, None)
    p.add_argument("-n", type=int, default=16, metavar="N", help="how many samples (default 16)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for sample_0000.png ... (created)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the samples (default 0)")
    return parsers


APPLY_COMMANDS = ("identify", "verify", "read", "screen", "generate")


def _apply(args) -> int:

    from hwutils import apply

    if args.command == "identify":
        result = apply.identify(args.run, args.images, lines=args.lines, top=args.top)
    elif args.command == "verify":
        result = apply.verify(args.run, args.ref, args.images)
    elif args.command == "read":
        result = apply.read(args.run, args.images, reader=args.reader)
    elif args.command == "screen":
        result = apply.screen(args.run, args.images)
    else:
        result = apply.generate(args.run, args.n, args.out, seed=args.seed)
    if args.json:
        print_json(result.to_dict())
    else:
        print(result.table())
    return 0


def print_json(data) -> None:
    """Strict JSON on stdout: NaN and infinities become null (no ``NaN`` token)."""
    import json

    from hwutils.fileio import jsonable

    print(json.dumps(jsonable(data), indent=1, allow_nan=False))


def _check(args) -> int:
    """hw check RUN: 0 when every recorded artifact is as the run wrote it, 1 when not."""
    from pathlib import Path

    from hwutils import custody

    path = Path(args.run)
    if not path.is_dir():
        if os.sep in args.run or args.run.startswith("."):
            raise HwError(f"{args.run}: no such run folder")
        from hwutils.runs import project
        from hwutils.runs.index import find_run

        path = Path(find_run(project.outputs_root(), args.run)["_dir"])
    rec = custody.recorded(path)
    found = custody.differences(path) if rec is not None else []
    ok = rec is not None and not found
    if args.json:
        print_json(
            {
                "run": str(path),
                "intact": ok,
                "recorded_files": len(rec or {}),
                "differences": [vars(d) for d in found],
                "note": None if rec is not None else "the run recorded no artifact hashes",
            }
        )
    elif rec is None:
        print(f"{path}: the run recorded no artifact hashes (made before runs kept them, or not finished)")
    elif ok:
        print(f"{path}: intact, {len(rec)} recorded files as the run wrote them")
    else:
        print(f"{path}: {len(found)} of {len(rec)} recorded files differ")
        for d in found:
            print(f"  {d}")
    return 0 if ok else 1


def _cluster_args(p) -> None:
    p.add_argument(
        "-j", "--jobs", type=int, default=1, help="runs at a time: workers of the embedded cluster"
    )
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="an existing Dask cluster: tcp://HOST:PORT or a scheduler file"
    )
    p.add_argument(
        "--cluster", choices=["slurm", "pbs"], help="a dask-jobqueue cluster from --cluster-config"
    )
    p.add_argument("--cluster-config", metavar="FILE", help="YAML: the job-queue cluster's settings")
    p.add_argument(
        "--dry-run", action="store_true", help="print the job script --cluster would submit, and exit"
    )


def _on_dask(items, args, on_settled=None) -> int:
    from hwutils.runs.batch import run_dask
    from hwutils.runs.cluster import open_cluster

    with open_cluster(args.jobs, args.scheduler, args.cluster, args.cluster_config) as client:
        return run_dask(items, client, ["--show-code"] if args.show_code else [], on_settled=on_settled)


def _dry_run(args) -> int | None:
    """``--dry-run``: the job script, or None when not asked."""
    if not args.dry_run:
        return None
    if not args.cluster:
        raise HwError("--dry-run shows a job-queue cluster's job script: give --cluster slurm|pbs")
    if not args.cluster_config:
        raise HwError(f"--cluster {args.cluster} needs --cluster-config FILE.yaml")
    from hwutils.runs.cluster import dry_run_script

    print(dry_run_script(args.cluster, args.cluster_config))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # TensorFlow's C++ start-up lines are not for a terminal (a parameter check may import it)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    if argv and argv[0] in APPLY_COMMANDS:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # not even cuInit's error line on a machine without a GPU
        args = parser.apply_parsers[argv[0]].parse_intermixed_args(argv[1:])
        args.command = argv[0]
    else:
        args = parser.parse_args(argv)
    try:
        return _dispatch(args, argv)
    except HwError as exc:
        print(f"hw: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hw: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


def _dispatch(args, argv) -> int:
    from hwutils.runs import project

    if args.command in APPLY_COMMANDS:
        try:
            return _apply(args)
        except HwError:
            raise
        except (
            Exception
        ) as exc:  # the inputs were checked: this is the work failing (exit 1, as a failed run)
            print(f"hw {args.command}: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1

    if args.command == "check":
        return _check(args)
    if args.command == "stages":
        from hwutils.runs.index import text_table

        rows = [
            [
                s.name,
                str(s.notebook.relative_to(project.project_root())),
                ", ".join(p.name for p in s.params_files()) or "-",
            ]
            for s in project.list_stages()
        ]
        print(
            text_table(rows, ["stage", "notebook", "params files"])
            if rows
            else "no stages (no notebooks/*.ipynb)"
        )
        return 0
    if args.command == "params":
        from hwutils.runs.index import text_table
        from hwutils.runs.params import notebook_parameters

        stage = project.get_stage(args.stage)

        def allowed(spec):  # a grammar is checked by a library function: its short name is enough here
            return ".".join(spec.check.split(".")[-2:]) + "()" if spec.check else spec.allowed or "-"

        rows = [
            [s.name, s.type_name, s.default_source, allowed(s), s.help]
            for s in notebook_parameters(stage.notebook).values()
        ]
        print(text_table(rows, ["name", "type", "default", "allowed", "help"]))
        return 0
    if args.command == "run":
        from hwutils.runs.execute import RunRequest, execute

        result = execute(
            RunRequest(
                args.stage,
                args.file,
                [tuple(p) for p in args.param],
                args.label,
                args.show_code,
                ["hw", *argv],
            )
        )
        print(f"hw: {result.message}", file=sys.stderr if result.exit_code else sys.stdout)
        return result.exit_code
    if args.command == "runs":
        from hwutils.runs.index import runs_table

        if args.sweep:
            from hwutils.runs.sweep import sweep_runs_table

            print(sweep_runs_table(project.outputs_root(), args.sweep))
            return 0
        if args.stage:
            project.get_stage(args.stage)
        print(runs_table(project.outputs_root(), args.stage))
        return 0
    if args.command == "compare":
        from hwutils.runs.compare import compare_runs
        from hwutils.runs.index import find_run

        out = project.outputs_root()
        print(compare_runs(find_run(out, args.run_a), find_run(out, args.run_b)))
        return 0
    if args.command == "batch":
        from hwutils.runs.batch import default_items, parse_item, run_batch

        items = (default_items() if args.defaults else []) + [parse_item(i) for i in args.items]
        shown = _dry_run(args)
        if shown is not None:
            return shown
        if not items:
            raise HwError("batch: give params files (params/STAGE/FILE.yaml or STAGE:FILE) or --defaults")
        if args.local:
            return run_batch(items, args.jobs, ["--show-code"] if args.show_code else [])
        return _on_dask(items, args)
    if args.command == "sweep":
        from hwutils.runs import sweep

        plan = sweep.plan_sweep(args.stage, args.file, args.grid, args.seeds, args.sweep_file)
        shown = _dry_run(args)
        if shown is not None:
            return shown
        from hwutils.runs.batch import run_dask
        from hwutils.runs.cluster import open_cluster

        extra = ["--show-code"] if args.show_code else []
        with open_cluster(args.jobs, args.scheduler, args.cluster, args.cluster_config) as client:
            # the cluster is reachable before the sweep's folder is made
            return sweep.run_sweep(
                plan, lambda items, settled: run_dask(items, client, extra, on_settled=settled)
            )
    if args.command == "index":
        from hwutils.runs.index import rebuild_index

        print(rebuild_index(project.outputs_root()))
        return 0
    raise HwError(f"unknown command {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())
