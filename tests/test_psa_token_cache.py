"""The access token is shared by every adapter of a connection (``RedisTokenCache``): jobs
that each send one write spend no request of the budget on a token of their own."""

from helpdesk.extensions import db
from helpdesk.models import PsaConnection
from helpdesk.services.psa_connector import connector_of, forget_token
from tests.psa_push_kit import connect


def test_adapters_of_one_connection_share_the_token(app, world, halo):
    connection_id = connect(app, halo)
    with app.app_context():
        connection = db.session.get(PsaConnection, connection_id)
        for _job in range(3):
            psa = connector_of(connection)
            psa.check()
            psa.close()
        assert len(halo.requests_to("POST", "/auth/token")) == 1
        assert psa.last_exchange.status == 200 and psa.last_exchange.path == "/api/Status"
        # Refused (Halo revoked it): fetched again, and the new one shared.
        halo.expire_tokens()
        for _job in range(2):
            psa = connector_of(connection)
            psa.check()
            psa.close()
        assert len(halo.requests_to("POST", "/auth/token")) == 2
        # Settings changed: the kept token is dropped.
        forget_token(connection)
        connector_of(connection).check()
        assert len(halo.requests_to("POST", "/auth/token")) == 3
