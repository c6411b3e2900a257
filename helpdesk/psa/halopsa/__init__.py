"""The HaloPSA adapter (``HaloPsaAdapter``), split by concept.

- ``token``: OAuth2 client credentials, the token cached until shortly before expiry;
- ``requests``: the one place that sends (budget, 429 waits, 401 refresh, network failures);
- ``errors``: Halo's error shapes as one line, and which errors are transient;
- ``payloads``: our connector types to Halo's JSON and back;
- ``markers``: our marker inside actions and attachments, and reading it back;
- ``lookups``: Halo's lists for the mapping pages, and the fields ticket types require;
- ``adapter``: the connector methods.
"""

from helpdesk.psa.halopsa.adapter import HaloPsaAdapter

__all__ = ["HaloPsaAdapter"]
