"""Authenticators: ways to obtain a Salesforce session."""

from .base import Authenticator, StaticSession, fingerprint

__all__ = ["Authenticator", "StaticSession", "fingerprint"]
