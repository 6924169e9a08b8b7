"""Devices in the field (cameras, drones, manhole-cover sensors, water gauges, air/noise sensors,
smart bins) and the observations they send.

Modules: ``models`` (the device table and its StrEnums), ``registry`` (add, list, keys),
``observations`` (checking one observation), ``rules`` (the per-kind DMN table), ``intake``
(what an observation does: last state, persistence, case or annotation), ``silence`` (devices
that stopped reporting). This package imports nothing at import time so ``engine.models`` can
register the device table without a cycle.
"""
