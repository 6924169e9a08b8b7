"""The citycase case engine: definitions, runtime, store, timers, history, calendar, clock.

Nothing in this package imports Flask or ``web``; entry points (CLI, scheduler,
web app) open a session, call the engine and commit.
"""
