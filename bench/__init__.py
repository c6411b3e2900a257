"""``make bench``: seed a large help desk, find the pages people wait on, and how long.

A development tool, kept outside ``helpdesk/`` so it never ships with the app. On PostgreSQL
or SQLite (``BENCH_DATABASE_URL``):

- ``seed`` fills the database by bulk (``people``; ``bulk_postgresql`` or ``bulk_sqlite`` for
  tickets and threads, both shaped by ``shape``; ``content`` for the texts) and ``database``
  creates, empties, migrates and analyses it;
- ``picks`` chooses ids, words and deep cursors from the data, ``scenarios`` generates every
  scenario from the queue's definitions and ``checks`` proves each answer did its work;
- ``measure`` times them in process, ``server`` serves the app with gunicorn and
  ``over_http`` times it as users get it and under load;
- ``report`` writes the tables, one section per backend and size of ``docs/benchmarks.md``.
"""
