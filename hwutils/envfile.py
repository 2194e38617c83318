"""Keep ``environment.yml`` in step with ``requirements.lock``.

``python -m hwutils.envfile requirements.lock environment.yml`` rewrites the
conda file so its pip section pins exactly the versions of the lock file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)")


def read_lock(path: str | Path) -> dict[str, str]:
    """``{normalised name: version}`` of every ``name==version`` line of a lock file."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        m = PIN.match(line.strip())
        if m:
            pins[normalise(m.group(1))] = m.group(2)
    return pins


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()


def read_environment_pins(path: str | Path) -> tuple[str | None, dict[str, str]]:
    """The python version and the pip pins of an ``environment.yml``."""
    import yaml

    env = yaml.safe_load(Path(path).read_text())
    python, pins = None, {}
    for dep in env.get("dependencies", []):
        if isinstance(dep, str) and dep.startswith("python="):
            python = dep.split("=", 1)[1]
        if isinstance(dep, dict) and "pip" in dep:
            for item in dep["pip"]:
                m = PIN.match(item.strip())
                if m:
                    pins[normalise(m.group(1))] = m.group(2)
    return python, pins


def render_environment(pins: dict[str, str], python: str = "3.11") -> str:
    lines = [
        "# Generated from requirements.lock by `make lock` (python -m hwutils.envfile); do not edit by hand.",
        "# conda/mamba users: `mamba env create -f environment.yml && conda activate hwnotebooks`.",
        "name: hwnotebooks",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={python}",
        "  - pip",
        "  - pip:",
    ]
    lines += [f"      - {name}=={version}" for name, version in sorted(pins.items())]
    lines.append("      - -e .")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    lock, out = argv if len(argv) == 2 else ("requirements.lock", "environment.yml")
    Path(out).write_text(render_environment(read_lock(lock)))
    print(f"wrote {out} from {lock}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
