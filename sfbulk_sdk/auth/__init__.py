"""Authenticators: ways to obtain a Salesforce session.

Prefer an OAuth flow: :class:`JwtBearer` (server-to-server as a user),
:class:`ClientCredentials` (as the app's run-as user), :class:`RefreshToken`
(a user's grant, rotation-safe with a shared store). :class:`StaticSession`
uses a session you already have. :class:`OAuthPassword` (deprecated by
Salesforce) and :class:`SoapLogin` (retires in Summer '27, API <= 64.0 only)
warn once when used.
"""

from .base import Authenticator, StaticSession, fingerprint
from .jwt import JwtBearer
from .oauth import ClientCredentials, OAuthFlow, OAuthPassword, RefreshToken
from .soap import SoapLogin

__all__ = [
    "Authenticator",
    "ClientCredentials",
    "JwtBearer",
    "OAuthFlow",
    "OAuthPassword",
    "RefreshToken",
    "SoapLogin",
    "StaticSession",
    "fingerprint",
]
