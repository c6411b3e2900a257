"""``GET /api/v1/stats``: the numbers of the token user's scope (``services.stats``)."""

from flask_login import current_user

from helpdesk.api import schemas
from helpdesk.api.blueprints import ApiBlueprint
from helpdesk.services.stats import stats_for

bp = ApiBlueprint("stats", __name__, url_prefix="/api/v1/stats",
                  description="Numbers of the token user's scope")


@bp.get("")
@bp.response(200, schemas.StatsSchema)
@bp.problems(401, 429)
def stats():
    """Tickets by status, mean first response and resolution (tickets opened in the last
    `average_days` days), and the backlog by priority and by category. Read from the
    tallies the desk's counters use, so it costs the same at any number of tickets."""
    return stats_for(current_user)
