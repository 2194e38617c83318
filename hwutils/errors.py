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
