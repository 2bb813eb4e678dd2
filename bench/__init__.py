"""Benchmarks: each module here has a ``main()`` printing its figures as JSON lines.

``python -m bench`` runs every module; ``python -m bench handler imports`` runs the ones named.
"""
