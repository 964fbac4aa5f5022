"""A server process made ready before it forks its workers (`kehu serve`: gunicorn --preload
imports kehu/wsgi.py once, in the master).

Python's cyclic garbage collector, in a full collection, walks every object that is alive: a
worker holds ~390,000 of them after its first pages (Django, the URL patterns, Kehu's compiled
templates, the translation catalogues). One full collection took 110-135 ms (the 1M bench set,
docs/benchmarks.md, "Garbage collection") and fell on whichever request crossed the collector's
threshold: lists that answer in 20 ms took 100-190 ms once in twenty requests, and 78 of the
generated scenarios failed on that p95 alone.

`prepare_process()` builds in the master what every worker would otherwise build on its first
requests, then moves all of it out of the collector's reach (`gc.freeze()`: objects are still freed
by reference counting; only cycles among them are never collected, and these objects live as long
as the process anyway). The forked workers inherit the frozen objects and share their memory
pages, which the collector no longer writes to. A full collection then walks what requests create
since: ~10,000 objects, a few milliseconds.
"""

from __future__ import annotations

import gc
from pathlib import Path

from django.conf import settings


def prepare_process() -> int:
    """Warm up (URLs, templates, translations), then freeze what is alive. Returns the number of
    Kehu templates compiled."""
    from django.template import TemplateSyntaxError, engines
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver()._populate()
    kehu_root = Path(__file__).resolve().parents[1]
    compiled = 0
    for engine in engines.all():
        for folder in engine.template_dirs:
            folder = Path(folder)
            if kehu_root not in folder.parents:
                continue  # third-party templates are compiled when a page uses them
            for path in sorted(folder.rglob("*.html")) + sorted(folder.rglob("*.txt")):
                try:
                    engine.get_template(path.relative_to(folder).as_posix())
                except TemplateSyntaxError:  # a fragment that is only included, never loaded alone
                    continue
                compiled += 1
    for language, _label in settings.LANGUAGES:
        with translation.override(language):
            translation.gettext("Customers")  # loads the language's catalogues
    gc.collect()
    gc.freeze()
    return compiled
