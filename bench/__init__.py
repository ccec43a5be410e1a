"""The benchmark harness: ``./dev bench`` (or ``python -m bench``) prints figures; it is never a timed test.

See ``bench/RESULTS.md`` for what it measures, how, and the last recorded figures.
"""
