"""Where logins go: the login hosts, My Domain URLs, and the JWT audience rule.

* production logins go to ``https://login.salesforce.com``, sandbox ones to
  ``https://test.salesforce.com``; an org's My Domain
  (``https://<name>.my.salesforce.com``) takes logins too (spec §1.1);
* the client-credentials flow must be posted to the My Domain host: login
  and test answer ``invalid_grant`` / ``request not supported on this domain``;
* a JWT's ``aud`` stays ``https://login.salesforce.com`` or
  ``https://test.salesforce.com`` even when the token request goes to My
  Domain: a My Domain audience fails with ``Audience validation failed`` (§9).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..errors import InvalidInputError

__all__ = [
    "PRODUCTION_LOGIN_URL",
    "SANDBOX_LOGIN_URL",
    "default_audience",
    "is_login_host",
    "resolve_login_url",
]

PRODUCTION_LOGIN_URL = "https://login.salesforce.com"
SANDBOX_LOGIN_URL = "https://test.salesforce.com"

_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_LOGIN_HOSTS = frozenset({"login.salesforce.com", "test.salesforce.com"})


def resolve_login_url(
    *, sandbox: bool = False, domain: str | None = None, login_url: str | None = None
) -> str:
    """The login host as ``scheme://host[:port][/prefix]`` without a trailing slash.

    * default: ``https://login.salesforce.com``;
    * ``sandbox=True``: ``https://test.salesforce.com``;
    * ``domain="mycompany.my"``: ``https://mycompany.my.salesforce.com``
      (``"login"`` and ``"test"`` work too; ``.salesforce.com`` is optional);
    * ``login_url``: any ``http`` or ``https`` URL, e.g. a local fake org.
    """
    if domain is not None and login_url is not None:
        raise InvalidInputError("give either domain= or login_url=, not both")
    if sandbox and (domain is not None or login_url is not None):
        raise InvalidInputError(
            "sandbox=True selects https://test.salesforce.com; for a sandbox My Domain "
            "give only domain= (e.g. 'mycompany--dev.sandbox.my') or login_url="
        )
    if login_url is not None:
        return _check_login_url(login_url)
    if domain is not None:
        return _domain_url(domain)
    return SANDBOX_LOGIN_URL if sandbox else PRODUCTION_LOGIN_URL


def _check_login_url(login_url: str) -> str:
    try:
        parts = urlsplit(login_url.strip())
        port = parts.port
    except (AttributeError, ValueError):
        raise InvalidInputError("login_url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError("login_url must be an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidInputError("login_url must not carry credentials")
    if parts.query or parts.fragment:
        raise InvalidInputError("login_url must not have a query or fragment")
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _domain_url(domain: str) -> str:
    name = domain.strip().lower().rstrip("/")
    if "://" in name:
        raise InvalidInputError(
            "domain is a host name such as 'mycompany.my'; pass URLs as login_url="
        )
    name = name.removesuffix(".salesforce.com")
    labels = name.split(".")
    if not name or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise InvalidInputError(
            f"domain must be a My Domain host prefix such as 'mycompany.my', got {domain!r}"
        )
    return f"https://{name}.salesforce.com"


def _host_name(url: str) -> str:
    """The host of ``url`` as DNS compares it: lower case, one trailing dot removed
    (``login.salesforce.com.`` is the same host as ``login.salesforce.com``)."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removesuffix(".")


def is_login_host(url: str) -> bool:
    """True for ``login.salesforce.com`` and ``test.salesforce.com`` (not a My Domain),
    in any case and with or without the trailing dot of a fully qualified name."""
    return _host_name(url) in _LOGIN_HOSTS


def default_audience(login_url: str) -> str:
    """The JWT ``aud`` for logins through ``login_url``.

    A sandbox (``test.salesforce.com``, or a ``.sandbox.my.salesforce.com`` My
    Domain) gets ``https://test.salesforce.com``; anything else
    ``https://login.salesforce.com``. Pass ``audience=`` explicitly for an
    Experience Cloud site. Host names compare in any case and without a trailing dot.
    """
    host = _host_name(login_url)
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return SANDBOX_LOGIN_URL
    return PRODUCTION_LOGIN_URL
