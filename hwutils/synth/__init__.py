"""Seeded generators of synthetic data written in the same on-disk formats as
the real datasets, so one loader reads both."""
