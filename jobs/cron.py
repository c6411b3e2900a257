"""RQ's cron scheduler configuration (``flask --app wsgi cron`` loads this module)."""

from rq import cron

from jobs.housekeeping import record_heartbeat

cron.register(record_heartbeat, queue_name="default", interval=60)
