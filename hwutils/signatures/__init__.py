"""Signature stage: sigver-style preprocessing, validity screening (is it a
signature at all?) and writer-independent verification with a Siamese CNN.

Public API: :func:`hwutils.signatures.verify.load_verifier` and
:meth:`Verifier.verify`; :func:`hwutils.signatures.screening.Screener.load`.
"""
