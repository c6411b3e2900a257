"""RQ's cron scheduler configuration (``flask --app wsgi cron`` loads this module, inside
the app context, so the schedule can follow the settings)."""

import os

from flask import current_app, has_app_context
from rq import cron

from jobs import mail
from jobs.housekeeping import clean_job_registries, record_heartbeat, refresh_planner_statistics
from jobs.mail_intake import fetch_mail
from jobs.notifications import dispatch_stalled
from jobs.psa import sweep_writes
from jobs.psa_pull import schedule_pulls
from jobs.routing import route_left_behind
from jobs.sla import sweep_sla
from jobs.webhooks import dispatch_stalled as dispatch_stalled_webhooks

cron.register(record_heartbeat, queue_name="default", interval=60)
cron.register(dispatch_stalled, queue_name="notifications", interval=60)
cron.register(refresh_planner_statistics, queue_name="default", interval=3600)
cron.register(mail.dispatch_stalled, queue_name="notifications", interval=60)
cron.register(route_left_behind, queue_name="automation", interval=60)
cron.register(clean_job_registries, queue_name="default", interval=60)
cron.register(sweep_sla, queue_name="automation", interval=60)
cron.register(sweep_writes, queue_name="psa", interval=60)
cron.register(schedule_pulls, queue_name="psa", interval=60)
cron.register(dispatch_stalled_webhooks, queue_name="notifications", interval=60)
# Mail to tickets over IMAP, only when a mailbox is configured (an MTA needs no schedule).
if (current_app.config.get("IMAP_HOST") if has_app_context() else os.environ.get("IMAP_HOST")):
    cron.register(fetch_mail, queue_name="default", interval=60)
