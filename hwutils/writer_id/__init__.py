"""Writer identification (DeepWriter): data pipeline, models, window scanning,
open-set detection, enrolment and the public :mod:`identify` API."""
