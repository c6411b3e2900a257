"""``make bench``: seed a large PostgreSQL help desk and time the pages people wait on.

The package is a development tool, kept outside ``helpdesk/`` so it never ships with the app.
``seed`` fills a database with bulk SQL (the services are far too slow for 100,000 tickets),
``measure`` signs in through the real login form and times each scenario in process,
``report`` turns the numbers into the Markdown table committed as ``docs/benchmarks.md``.
"""
