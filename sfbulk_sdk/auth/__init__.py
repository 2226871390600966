"""Authenticators: ways to obtain a Salesforce session."""

from .base import Authenticator, StaticSession, fingerprint
from .soap import SoapLogin

__all__ = ["Authenticator", "SoapLogin", "StaticSession", "fingerprint"]
