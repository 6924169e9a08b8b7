"""Supervisors on patrol (监督员考勤与轨迹): duty, positions, attendance against a roster, coverage.

Modules: ``models`` (the roster, duty and position tables), ``duty`` (start and end of duty),
``positions`` (batches of positions from the phone: checked, idempotent, any order), ``roster``
(who is due when and where), ``attendance`` (late, early, absent per day), ``coverage`` (cells
visited per day, the track of one shift). Imports nothing at import time so ``engine.models``
can register the tables without a cycle. Functions take a session and never commit.
"""
