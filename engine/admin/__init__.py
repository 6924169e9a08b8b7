"""Administration commands: users, departments, grid, classes, components, calendar.

Every command takes the session and the acting admin, checks the role itself, never commits,
and appends one entry to the admin history (``engine.admin.history``) with what changed.
"""
