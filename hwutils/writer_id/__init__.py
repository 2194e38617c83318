"""Writer identification (DeepWriter): data pipeline, models, window scanning,
contour-hinge texture features fused with the CNN, open-set detection,
enrolment and the public :mod:`identify` API."""
