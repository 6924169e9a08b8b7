"""Definition versions: proposed → active → retired, four-eyes approval, hash-chained history

Existing versions: the newest of each process becomes active (it is what new cases started on),
the others retired.

The definition history is append-only like the case history (0004's trigger function on
PostgreSQL, RAISE(ABORT) triggers on SQLite).

Revision ID: 0009
Revises: 0008
