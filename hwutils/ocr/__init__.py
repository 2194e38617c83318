"""Character OCR: a 36-class (0-9, A-Z) handwritten character classifier and
word reading by segmentation (``segment``), classification (``model``) and
evaluation on labelled words (``read``). Public API: :func:`read.load_reader`."""

CLASSES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CHAR_SIZE = 32
