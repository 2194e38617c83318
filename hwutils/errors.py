"""The one family of errors that users see as a single clear line.

Every error caused by bad input (files, parameters, images, layouts) raises a
subclass of :class:`HwError`. The ``hw`` command prints ``str(error)`` and exits
with status 2; notebooks show the same message.
"""


class HwError(Exception):
    """A user-facing error: its message names the file or parameter at fault."""


class ParamsError(HwError):
    """A parameter file or value is wrong (unknown name, wrong type, YAML error)."""


class StageError(HwError):
    """An unknown stage or a stage whose notebook is missing."""


class ImageError(HwError):
    """An image file that cannot be read or holds no usable content."""


class DataError(HwError):
    """A dataset whose layout, labels or size does not fit what was asked."""


def check_unit_interval(name: str, value) -> float:
    """``value`` as a float when it is a number from 0 to 1, else :class:`ParamsError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ParamsError(f"{name}: must be a number from 0 to 1, got {value!r}")
    return float(value)


def check_choice(name: str, value, choices) -> str:
    """``value`` when it is one of ``choices``, else :class:`ParamsError` naming ``name`` and the choices."""
    if value not in choices:
        raise ParamsError(f"{name}: unknown value {value!r}; choose one of {', '.join(choices)}")
    return value


class ArtifactError(HwError):
    """A saved artifact of a run (a ``.keras`` model, a JSON config, an ``.npz``
    or ``.npy`` array file) that is missing, corrupt, or refused as unsafe."""


class OutdatedArtifactError(ArtifactError):
    """An artifact written by an earlier version of the project in a form this
    version no longer reads the same way (re-run the stage that made it)."""
