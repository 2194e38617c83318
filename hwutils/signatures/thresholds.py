"""Threshold rules (operating points) of the signature verifier.

Light on purpose (no TensorFlow): ``hw run`` checks an ``operating_point``
parameter with :func:`parse_operating_point` before any kernel starts.
"""

from __future__ import annotations

from hwutils.errors import ParamsError

OPERATING_POINTS = ("eer", "far_skilled", "far_random", "frr")


def parse_operating_point(operating_point: str) -> tuple[str, float]:
    """``"eer"`` -> ``("eer", nan)``; ``"far_skilled=0.05"`` -> ``("far_skilled", 0.05)``
    (also ``far_random=R`` and ``frr=R``, R in [0, 1)). Anything else is a :class:`ParamsError`."""
    text = str(operating_point).strip()
    if text == "eer":
        return "eer", float("nan")
    kind, _, rate = (part.strip() for part in text.partition("="))
    try:
        value = float(rate)
    except ValueError:
        value = float("nan")
    if kind not in OPERATING_POINTS[1:] or not 0.0 <= value < 1.0:
        raise ParamsError(
            f"operating_point: {operating_point!r} is not eer, far_skilled=R, far_random=R or frr=R "
            "with R a rate in [0, 1), e.g. far_skilled=0.05"
        )
    return kind, value
