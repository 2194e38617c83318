"""A headline figure with the yardstick that gives it meaning (:class:`Result`), and numbers as people read them."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

KINDS = ("percent", "seconds", "count", "number")


@dataclass
class Result:
    """One headline figure and the yardstick that gives it meaning.

    ``kind`` sets how people read it: ``percent`` (a fraction in [0, 1],
    shown with one decimal), ``seconds``, ``count`` (an integer) or
    ``number``. ``yardstick`` names what it is compared with (chance, a
    trivial baseline, the simpler method measured in the same run, the
    README's goal) and ``yardstick_value`` is that figure; ``better`` says
    which direction wins. ``group`` gathers results by topic.
    """

    name: str
    value: float | None
    kind: str = "percent"
    group: str = ""
    yardstick: str = ""
    yardstick_value: float | None = None
    better: str = "higher"
    note: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(
                f"Result {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}"
            )
        if self.better not in ("higher", "lower"):
            raise ValueError(f"Result {self.name!r}: better must be 'higher' or 'lower', got {self.better!r}")
        self.value = _number_or_none(self.value)
        self.yardstick_value = _number_or_none(self.yardstick_value)

    @property
    def beats(self) -> bool | None:
        """Whether the value beats its yardstick (None when either is missing)."""
        if self.value is None or self.yardstick_value is None:
            return None
        if self.better == "higher":
            return self.value > self.yardstick_value
        return self.value < self.yardstick_value

    @property
    def verdict(self) -> str:
        """``better``, ``tie`` (equal to its yardstick), ``NOT better`` or
        ``""`` (no yardstick figure)."""
        if self.beats is None:
            return ""
        if self.beats:
            return "better"
        return "tie" if self.value == self.yardstick_value else "NOT better"

    def to_dict(self) -> dict:
        return {**asdict(self), "beats": self.beats}

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        fields = {k: data.get(k) for k in cls.__dataclass_fields__ if k in data}
        return cls(**fields)


def _number_or_none(value):
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def format_number(value, kind: str = "number") -> str:
    """A figure as people read it: ``87.5%``, ``12.3 s``, ``1,204``, ``0.412``; ``-`` when missing."""
    value = _number_or_none(value)
    if value is None:
        return "-"
    if kind == "percent":
        return f"{100 * value:.1f}%"
    if kind == "seconds":
        return f"{value:.1f} s" if value < 600 else f"{value / 60:.1f} min"
    if kind == "count":
        return f"{int(round(value)):,}"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    if float(value).is_integer() and abs(value) < 1e5:
        return f"{int(value):,}"
    return f"{value:.3f}"


def pct(value) -> str:
    """A fraction as a percentage with one decimal (``0.8745`` -> ``87.5%``)."""
    return format_number(value, "percent")


def readable_name(key: str) -> str:
    """``test_eer_skilled`` -> ``test EER skilled``: a metric key as people read it."""
    words = key.strip("_").split("_")
    upper = {
        "eer",
        "far",
        "frr",
        "auroc",
        "auc",
        "cer",
        "wer",
        "f1",
        "lr",
        "cnn",
        "roc",
        "ece",
        "cllr",
        "ssim",
    }
    return " ".join(
        w.upper() if w in upper else ("top-" + w[3:] if w.startswith("top") and w[3:].isdigit() else w)
        for w in words
    )


PERCENT_WORDS = frozenset(
    "top1 top3 top5 eer far frr f1 precision recall rate auroc auc fraction share cer wer misleading flagged".split()
)


def kind_of(key: str, value) -> str:
    """How a metric is read from its key and value: ``percent``, ``seconds``, ``count`` or ``number``."""
    if isinstance(value, bool):
        return "number"
    k = key.lower()
    if k.endswith(("_seconds", "_s")) or k in ("seconds",):
        return "seconds"
    if (
        k.startswith(("n_", "num_"))
        or k.endswith(("_count", "_n", "_lines", "_writers", "_images", "_pages"))
        or (isinstance(value, int) and not isinstance(value, bool))
    ):
        return "count"
    # whole words of the key, so "generated" is not a rate nor "farthest" a false-accept rate
    words = [w for w in re.split(r"[^a-z0-9]+", k) if w]
    if (
        isinstance(value, float)
        and 0 <= value <= 1
        and any(w in PERCENT_WORDS or w.startswith("acc") for w in words)
    ):
        return "percent"
    return "number"
