"""The fake org's HTTP APIs, one module per API; :mod:`sfbulk_sdk.testing.router` picks one.

* :mod:`.soap`: SOAP partner ``login()``, ``logout()``, ``getUserInfo()``;
* :mod:`.bulk1`: Bulk API 1.0 (``/services/async/...``);
* :mod:`.oauth`: the OAuth 2.0 token and revoke endpoints (``/services/oauth2/...``);
* :mod:`.bulk2`: Bulk API 2.0, the REST query and ``describe`` (``/services/data/...``):
  the REST steps every request takes, then :mod:`.bulk2_ingest`, :mod:`.bulk2_query`
  and :mod:`.rest_query` (:mod:`.rest` holds what they share);
* :mod:`.control`: the fake's own ``/_fake/...`` controls.

Each module has a ``PATTERN`` (the paths it answers) and a
``handle(state, request, match)`` working on the org's
:class:`~sfbulk_sdk.testing.state.OrgState`; the APIs with error documents also
have ``error(request, status, code, message)`` and the ``BODY_ERROR_CODE`` of an
unreadable request body. Handlers import the state, never the
:class:`~sfbulk_sdk.testing.FakeOrg` facade or a transport.
"""
