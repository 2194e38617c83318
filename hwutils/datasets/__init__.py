"""Loaders, one per on-disk format. Each returns records (path, label, group)
or arrays, and raises :class:`hwutils.errors.DataError` with the path at fault."""
