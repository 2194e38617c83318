"""Dask for batches and sweeps: which cluster, and the task that runs one ``hw run``.

Three ways to a cluster (:func:`open_cluster`):

* embedded (default): a :class:`distributed.LocalCluster` started here, one
  worker process per slot (``-j N``), one thread each, no dashboard;
* ``--scheduler ADDRESS`` (``tcp://host:8786``) or a scheduler file: an
  existing cluster;
* ``--cluster slurm|pbs --cluster-config FILE.yaml``: a ``dask_jobqueue``
  cluster built from the YAML file (its keys are the cluster class's
  arguments, plus ``workers: N`` or ``adapt: {minimum, maximum}``);
  ``--dry-run`` prints the job script it would submit.

Every run executes as its own ``python -m hwutils run`` process started by
:func:`run_task` on a worker (papermill kernels never run in a worker
thread). The child is in its own session and dies with the worker
(``PR_SET_PDEATHSIG``); its kernel dies with it (ipykernel's parent poller).
A run is submitted once: ``retries=0``, the clusters started here allow no
task to be resubmitted after a worker death (``allowed-failures: 0``), and
the task refuses to start a second time under the same key on any cluster,
so a run whose worker died stays ``lost`` (its manifest's rule).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import yaml

from hwutils.errors import HwError, ParamsError

STARTED = re.compile(r"^hw: run (\S+)/(\S+) started")
KINDS = ("slurm", "pbs")
DASK_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,  # a task whose worker died is not resubmitted
    "distributed.scheduler.worker-saturation": 1.0,  # one run per slot, the rest wait on the scheduler
    "distributed.worker.daemon": False,
    "distributed.admin.tick.limit": "60s",  # a busy 2-core machine is not a bug
}
PASSED_ENV = ("HW_OUTPUTS", "HW_PROJECT", "HW_DATA", "HW_HEARTBEAT_S", "TF_CPP_MIN_LOG_LEVEL")
KERNEL_START_ERRORS = ("DeadKernelError", "RuntimeError", "TimeoutError", "ZMQError")


def environment_signature() -> dict:
    """What must match between the client and every worker: Python and the key package versions."""
    from hwutils.environment import package_versions

    return {"python": sys.version.split()[0], "packages": package_versions()}


def environment_difference(client: dict, worker: dict) -> str:
    """'' when equal, else what differs (``numpy 2.1.0 here, 2.0.2 on the client``)."""
    diffs = []
    if client.get("python") != worker.get("python"):
        diffs.append(f"python {worker.get('python')} here, {client.get('python')} on the client")
    cp, wp = client.get("packages") or {}, worker.get("packages") or {}
    for name in sorted(set(cp) | set(wp)):
        if cp.get(name) != wp.get(name):
            diffs.append(f"{name} {wp.get(name)} here, {cp.get(name)} on the client")
    return "; ".join(diffs)


# --- the cluster -----------------------------------------------------------------------------


def read_cluster_config(path: str | os.PathLike) -> dict:
    """The YAML mapping of a ``--cluster-config`` file (one-line errors naming the file)."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"cluster config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, OSError) as exc:
        raise ParamsError(f"cluster config {path}: cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ParamsError(f"cluster config {path}{where}: not valid YAML") from None
    if not isinstance(data, dict):
        raise ParamsError(f"cluster config {path}: must be a YAML mapping of the cluster's arguments")
    return data


def jobqueue_cluster(kind: str, config_file: str | os.PathLike):
    """A SLURMCluster/PBSCluster from the config file, and its scaling (``workers`` or ``adapt``).

    Nothing is submitted here: jobs start when the cluster is scaled."""
    import dask
    import dask_jobqueue

    if kind not in KINDS:
        raise ParamsError(f"--cluster {kind!r}: choose one of {', '.join(KINDS)}")
    config = dict(read_cluster_config(config_file))
    config.pop("cluster", None)
    scale = {"workers": config.pop("workers", None), "adapt": config.pop("adapt", None)}
    if scale["adapt"] is not None and not isinstance(scale["adapt"], dict):
        raise ParamsError(f"cluster config {config_file}: adapt must be a mapping (minimum, maximum)")
    if scale["workers"] is not None and (not isinstance(scale["workers"], int) or scale["workers"] < 1):
        raise ParamsError(f"cluster config {config_file}: workers must be a whole number >= 1")
    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}[kind]
    config.setdefault("scheduler_options", {"dashboard_address": None})
    with dask.config.set(DASK_CONFIG):
        try:
            cluster = cls(**config)
        except (TypeError, ValueError) as exc:
            raise ParamsError(f"cluster config {config_file}: {str(exc).splitlines()[0]}") from None
    return cluster, scale


def dry_run_script(kind: str, config_file) -> str:
    """The job script ``--cluster KIND`` would submit (nothing submitted)."""
    cluster, _ = jobqueue_cluster(kind, config_file)
    try:
        return cluster.job_script()
    finally:
        with contextlib.suppress(Exception):
            cluster.close()


@contextlib.contextmanager
def open_cluster(jobs: int = 1, scheduler: str | None = None, cluster: str | None = None, config=None):
    """A connected :class:`distributed.Client` for the chosen cluster; closed (and an embedded
    or job-queue cluster shut down) on the way out. Bad addresses and files are one-line
    :class:`HwError` before anything runs."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(DASK_CONFIG), _quiet_distributed():
        if scheduler:
            client = _connect(scheduler)
            try:
                yield client
            finally:
                client.close()
            return
        if cluster:
            if not config:
                raise ParamsError(f"--cluster {cluster} needs --cluster-config FILE.yaml")
            jq, scale = jobqueue_cluster(cluster, config)
            if scale["adapt"] is not None:
                jq.adapt(**scale["adapt"])
            else:
                jq.scale(scale["workers"] or max(1, jobs))
            client = Client(jq)
            try:
                yield client
            finally:
                client.close()
                jq.close()
            return
        # The terminal's Ctrl-C goes to the whole foreground group: the worker processes
        # ignore it (the disposition survives exec), so the batch alone decides what stops.
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            local = LocalCluster(
                n_workers=max(1, jobs),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                memory_limit=0,  # the runs are child processes: the worker itself stays small
                host="127.0.0.1",
            )
        finally:
            signal.signal(signal.SIGINT, old)
        client = Client(local)
        try:
            yield client
        finally:
            client.close()
            local.close()


def connect_timeout() -> str:
    """How long to wait for an existing scheduler: ``HW_DASK_CONNECT_TIMEOUT`` seconds (default 10)."""
    value = os.environ.get("HW_DASK_CONNECT_TIMEOUT", "10")
    try:
        seconds = float(value)
    except ValueError:
        raise ParamsError(f"HW_DASK_CONNECT_TIMEOUT={value!r}: not a number of seconds") from None
    if not seconds > 0:
        raise ParamsError(f"HW_DASK_CONNECT_TIMEOUT={value!r}: must be above 0")
    return f"{seconds:g}s"


def _connect(scheduler: str):
    from distributed import Client

    try:
        if "://" in scheduler or re.match(r"^[\w.-]+:\d+$", scheduler):
            return Client(scheduler, timeout=connect_timeout())
        path = Path(scheduler)
        if not path.is_file():
            raise ParamsError(f"--scheduler {scheduler}: no such scheduler file (or give tcp://HOST:PORT)")
        try:
            json.loads(path.read_text())
        except (ValueError, OSError):
            raise ParamsError(f"--scheduler {scheduler}: not a Dask scheduler file (JSON)") from None
        return Client(scheduler_file=str(path), timeout=connect_timeout())
    except HwError:
        raise
    except (OSError, TimeoutError, ValueError) as exc:
        raise HwError(f"--scheduler {scheduler}: scheduler unreachable ({type(exc).__name__})") from None


@contextlib.contextmanager
def _quiet_distributed():
    """distributed's INFO lines and its shutdown warnings are not for the batch's terminal."""
    import logging

    names = ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker")
    old = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for n, level in old.items():
            logging.getLogger(n).setLevel(level)


# --- the task on the worker ------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the worker that started it dies (Linux)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _task_state() -> str | None:
    """This task's state on its worker ('cancelled' once the client gave it up), None outside Dask."""
    try:
        from distributed import get_worker
        from distributed.worker import thread_state

        ts = get_worker().state.tasks.get(thread_state.key)
        return ts.state if ts is not None else "released"
    except Exception:
        return None


def _publish(worker, topic: str | None, msg: dict) -> None:
    """Tell the client (Worker.log_event is safe from any thread; get_worker is not)."""
    if not topic or worker is None:
        return
    with contextlib.suppress(Exception):
        worker.log_event(topic, msg)


def _started_before_first_cell(run_dir: Path | None) -> bool:
    """Whether a failed run's kernel died before any cell ran (no cell has a start time)."""
    if run_dir is None:
        return True
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    ename = (manifest.get("error") or {}).get("ename", "")
    if manifest.get("status") != "failed" or ename not in KERNEL_START_ERRORS:
        return False
    try:
        nb = json.loads((run_dir / "notebook.ipynb").read_text())
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    return not any(
        (c.get("metadata") or {}).get("papermill", {}).get("start_time")
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code"
    )


def _run_child(cmd, cwd, env, topic, key, should_stop, worker=None) -> dict:
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        bufsize=1,
        env=env,
        cwd=cwd,
        start_new_session=True,  # a terminal's Ctrl-C reaches the batch, which decides
        preexec_fn=_die_with_parent,
    )
    tail: deque[str] = deque(maxlen=40)
    found: dict = {}

    def read():
        for line in proc.stdout:
            tail.append(line)
            m = STARTED.match(line)
            if m and not found:
                found.update(stage=m.group(1), run_id=m.group(2))
                run_dir = line.rsplit("-> ", 1)[-1].strip() if "-> " in line else ""
                found["run_dir"] = run_dir
                _publish(worker, topic, {"key": key, "event": "running", **found, "pid": proc.pid})

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stopped = ""
    while proc.poll() is None:
        if not stopped:
            why = should_stop()
            if why:
                stopped = why
                with contextlib.suppress(OSError):
                    proc.send_signal(signal.SIGTERM)  # it records its run interrupted
        time.sleep(0.5)
    reader.join(timeout=5)
    return {
        "exit_code": proc.returncode,
        "duration": time.monotonic() - start,
        "tail": "".join(tail),
        "stopped": stopped,
        **found,
    }


def run_task(
    cmd: list[str],
    env: dict,
    client_env: dict,
    stop_event: str | None = None,
    topic: str | None = None,
    key: str = "",
) -> dict:
    """Run one ``hw run`` (``cmd`` without the interpreter) as a child process on this worker.

    Returns a dict: ``exit_code``, ``duration``, ``run_id``, ``run_dir``,
    ``tail`` (the child's last lines), ``retried_from`` (the run id of a
    first attempt whose kernel died before its first cell), or ``refused``
    (a reason) when the worker's environment differs from the client's or
    this key already started once. The run stops (SIGTERM, recorded
    ``interrupted``) when the batch sets ``stop_event`` or the client
    cancels the task or goes away."""
    from distributed import Event

    worker = None
    with contextlib.suppress(Exception):
        from distributed import get_worker

        worker = get_worker()
    here = environment_signature()
    diff = environment_difference(client_env, here)
    if diff:
        import socket

        return {"refused": f"worker {socket.gethostname()} runs another environment: {diff}"}
    event = None
    if stop_event:
        with contextlib.suppress(Exception):
            event = Event(stop_event)
    with contextlib.suppress(Exception):
        once = Event(f"hw-started-{key}")
        if once.is_set():
            return {"refused": "not resubmitted: this run already started on a worker that went away"}
        once.set()
    last = [0.0, ""]

    def should_stop() -> str:
        state = _task_state()
        if state in ("cancelled", "released"):
            return "cancelled"
        if event is not None and time.monotonic() - last[0] > 1.0:
            last[0] = time.monotonic()
            with contextlib.suppress(Exception):
                if event.is_set():
                    return "stopped"
        return ""

    if should_stop() or (event is not None and _is_set(event)):
        return {"not_started": True}
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", **env)
    cwd = env.get("HW_PROJECT") or os.getcwd()
    argv = [sys.executable, "-m", "hwutils", *cmd]
    result = _run_child(argv, cwd, full_env, topic, key, should_stop, worker)
    if (
        result["exit_code"] == 1
        and not result["stopped"]
        and _started_before_first_cell(Path(result["run_dir"]) if result.get("run_dir") else None)
    ):  # kernels starting together can clash on ZMQ ports: once more, not more
        first = result.get("run_id", "")
        result = _run_child(argv, cwd, full_env, topic, key, should_stop, worker)
        result["retried_from"] = first or "(no run folder)"
    return result


def _is_set(event) -> bool:
    try:
        return bool(event.is_set())
    except Exception:
        return False


def passed_env() -> dict:
    """The client's settings every child needs (the shared outputs and project folders)."""
    from hwutils.runs.project import outputs_root, project_root

    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env["HW_OUTPUTS"] = str(outputs_root())
    env["HW_PROJECT"] = str(project_root())
    return env
