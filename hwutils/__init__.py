"""hwutils: the shared package behind the handwriting-analysis notebooks.

Importing the package is cheap (no TensorFlow); the modules that need
TensorFlow import it themselves.
"""

__version__ = "0.1.0"

from hwutils.errors import HwError  # noqa: E402,F401
