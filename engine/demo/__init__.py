"""The demo city and its simulator: synthetic data for development, demos, tests and bench.

Nothing in the engine core imports this package; the CLI (``citycase seed demo``,
``simulate``, ``demo-cases``), the tests and bench/ do.
"""
