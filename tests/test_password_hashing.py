"""Password hashes: the desk's Argon2id parameters, renewed at sign-in, and checked at start."""

import pytest
from argon2 import PasswordHasher, extract_parameters

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.services import accounts
from tests.world import PASSWORD, email


def test_the_default_profile_is_owasps_first_choice():
    """Argon2id, 46 MiB, one pass, one lane (the trade-off is written beside it)."""
    parameters = accounts.hash_parameters("DESK")
    assert (parameters.type.name, parameters.memory_cost, parameters.time_cost,
            parameters.parallelism) == ("ID", 47104, 1, 1)
    assert accounts.hash_parameters("RFC_9106_LOW_MEMORY").time_cost == 3
    with pytest.raises(ValueError, match=r"not DESK or an argon2\.profiles name"):
        accounts.hash_parameters("FASTEST_PLEASE")


def test_a_hash_made_with_other_parameters_is_renewed_at_sign_in(app, client, auth, world,
                                                               monkeypatch):
    """A user hashed with RFC 9106's low-memory profile signs in, and leaves with the desk's."""
    monkeypatch.setitem(app.config, "PASSWORD_HASH_PROFILE", "DESK")
    with app.app_context():
        user = db.session.get(User, world.users["alice"])
        old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)
        user.password_hash = old
        db.session.commit()
    assert auth.login(email("alice")).status_code == 302
    with app.app_context():
        renewed = db.session.get(User, world.users["alice"]).password_hash
    assert renewed != old
    assert extract_parameters(renewed) == accounts.hash_parameters("DESK")


def test_check_names_an_unknown_profile(app, tmp_path):
    """``flask --app wsgi check`` refuses a profile that does not exist, naming the setting."""
    wrong = create_app({**app.config, "INSTANCE_PATH": str(tmp_path),
                        "PASSWORD_HASH_PROFILE": "FASTEST_PLEASE"})
    result = wrong.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1 and "PASSWORD_HASH_PROFILE='FASTEST_PLEASE'" in result.output
