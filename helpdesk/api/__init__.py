"""The JSON API under ``/api/v1``: tickets, their threads and the scope's numbers, for
scripts holding a personal API token (``Authorization: Bearer``).

Built with flask-smorest on the app and blueprints as they are: marshmallow schemas
(``schemas``) validate each request and name the failing field, and the OpenAPI 3 document
(``GET /api/v1/openapi.json``, browsable at ``/api/v1/docs``) is generated from the same
schemas and views, never written by hand. Who the caller is: ``bearer``; errors:
``problems``; the views: ``tickets``, ``thread``, ``stats``.
"""

import http

from flask_smorest import Api
from flask_smorest.utils import prepare_response

from helpdesk.api import bearer, stats, thread, ticket_json, tickets
from helpdesk.api.schemas import ProblemSchema
from helpdesk.params import MAX_ID, IdConverter
from helpdesk.problems import CONTENT_TYPE

SWAGGER_UI_VERSION = "5.32.0"  # vendored from the npm package swagger-ui-dist
CHALLENGE_HEADER = {"description": "How to authenticate: `Bearer`",
                    "schema": {"type": "string"}}
RETRY_AFTER_HEADER = {"description": "Seconds to wait", "schema": {"type": "integer"}}


class HelpDeskApi(Api):
    """flask-smorest's ``Api``, with errors as problems on the API's blueprints only."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """None app-wide: the pages keep their HTML errors (``api.problems`` answers on the
        API's blueprints, ``helpdesk.errors`` under ``/api/`` elsewhere)."""

    def _register_responses(self):
        """Every status's shared answer documented as a problem (``application/problem+
        json``), with ``WWW-Authenticate`` on 401 and ``Retry-After`` on 429."""
        headers = {401: {"WWW-Authenticate": CHALLENGE_HEADER},
                   429: {"Retry-After": RETRY_AFTER_HEADER}}
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                if status in headers:
                    response["headers"] = headers[status]
            prepare_response(response, self.spec, CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def init_app(app):
    """Serve the API and its document on ``app``."""
    app.config.setdefault("API_TITLE", "Help desk API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL",
                          f"/static/swagger-ui-{SWAGGER_UI_VERSION}/")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "components": {"securitySchemes": {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "A personal API token from your profile page, or "
                           "`flask --app wsgi tokens create`"}}},
        "security": [{"bearer": []}],
        "info": {"description": __doc__.split("\n\n")[0]},
    })
    bearer.init_app(app)
    ticket_json.prepare()
    api = HelpDeskApi(app)
    api.register_converter(IdConverter, lambda converter: {
        "type": "integer", "minimum": 1, "maximum": MAX_ID})
    for blueprint in (tickets.bp, thread.bp, stats.bp):
        api.register_blueprint(blueprint)
    return api
