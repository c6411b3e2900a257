"""PSA sync: the connector interface (``connector``) and one adapter module per PSA.

HaloPSA first (``halopsa``). The core that uses them (connections, mappings, the outbox of
writes, pulls and webhooks) lives in ``helpdesk.services.psa_*`` and ``jobs/psa.py``.
"""
