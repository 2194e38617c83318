"""``python -m hwutils`` is the ``hw`` command."""

from hwutils.cli import main

raise SystemExit(main())
