from . import timeline  # noqa: F401  (registers the timeline providers)
