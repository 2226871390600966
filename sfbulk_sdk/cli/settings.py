"""Where ``sfbulk`` reads its settings: flags, then ``SFBULK_*`` variables, then a file.

Every setting has one name: ``login_url`` is the flag ``--login-url``, the
variable ``SFBULK_LOGIN_URL`` and the key ``login_url`` of the config file. A
flag wins over the variable, the variable over the file, the file over the
default.

The config file is TOML (a flat table of the settings): ``SFBULK_CONFIG`` names
it; otherwise it is ``config.toml`` in the sfbulk home. The home (which also
holds the file session store ``sessions/``, the login profile ``profile.json``
and the job history ``jobs.jsonl``) is ``SFBULK_HOME``, else the platform's
config directory: ``$XDG_CONFIG_HOME/sfbulk`` or ``~/.config/sfbulk`` on Linux,
``~/Library/Application Support/sfbulk`` on macOS, ``%APPDATA%\\sfbulk`` on
Windows.

Secrets are never settings: they come from ``SFBULK_PASSWORD``,
``SFBULK_SECURITY_TOKEN``, ``SFBULK_CLIENT_SECRET``, ``SFBULK_REFRESH_TOKEN``
and ``SFBULK_PRIVATE_KEY`` (PEM text; or the non-secret ``key_file`` path), or
from a hidden prompt on a terminal, or from the session store after
``sfbulk login``. A config file holding one of them is refused.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from .exits import CliError

__all__ = [
    "SECRET_VARIABLES",
    "Settings",
    "config_file",
    "home_dir",
    "load_settings",
    "secret_from_env",
]

#: The environment variables secrets are read from, by name.
SECRET_VARIABLES = {
    "password": "SFBULK_PASSWORD",
    "security_token": "SFBULK_SECURITY_TOKEN",
    "client_secret": "SFBULK_CLIENT_SECRET",
    "refresh_token": "SFBULK_REFRESH_TOKEN",
    "private_key": "SFBULK_PRIVATE_KEY",
}
_AUTH_KINDS = ("soap", "jwt", "client-credentials", "refresh-token", "web")


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one run (no secret among them)."""

    #: How to log in: soap, jwt, client-credentials, refresh-token or web.
    auth: str = "soap"
    #: Where to log in: login.salesforce.com, test..., a My Domain, or a fake org's URL.
    login_url: str = "https://login.salesforce.com"
    username: str = ""
    #: The External Client App's consumer key (OAuth flows).
    client_id: str = ""
    #: PEM private key file of the JWT bearer flow (the key itself may come from the env).
    key_file: str = ""
    #: Bulk API version (default: the SDK's).
    api_version: str = ""
    #: Session store: a directory (file store, the default: <home>/sessions),
    #: ``redis://...`` or ``mongodb://...``.
    store: str = ""
    #: A PEM CA bundle to verify HTTPS with (e.g. a test CA); default the system's.
    ca_file: str = ""
    #: Seconds a single HTTP request may take.
    timeout: float = 120.0
    #: Loopback port the web login listens on for the redirect (0: any free port).
    callback_port: int = 1717

    def with_overrides(self, **values: object) -> Settings:
        """A copy with the non-``None`` ``values`` set (what flags do)."""
        given = {name: value for name, value in values.items() if value is not None}
        return _build({**self._values(), **given}, "a flag")

    def _values(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    """The sfbulk home: ``SFBULK_HOME``, else the platform's config directory."""
    env = os.environ if env is None else env
    if env.get("SFBULK_HOME"):
        return Path(env["SFBULK_HOME"]).expanduser()
    if sys.platform == "win32":
        base = Path(env.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "sfbulk"


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """The config file: ``SFBULK_CONFIG``, else ``<home>/config.toml`` (may not exist)."""
    env = os.environ if env is None else env
    if env.get("SFBULK_CONFIG"):
        return Path(env["SFBULK_CONFIG"]).expanduser()
    return home_dir(env) / "config.toml"


def _read_toml(path: Path, *, named: bool = False) -> dict[str, object]:
    """The config file's table; a missing file is none, unless it was named (``named``)."""
    # tomllib from Python 3.11; the cli extra brings tomli (the same module) on 3.10
    toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    try:
        with path.open("rb") as handle:
            return dict(toml.load(handle))
    except FileNotFoundError:
        if named:
            raise CliError(
                f"no such config file: {path}", hint="check --config or SFBULK_CONFIG"
            ) from None
        return {}
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the config file {path}: {exc}") from None


#: The bounds of the numeric settings (inclusive).
_BOUNDS: dict[str, tuple[float, float]] = {
    "timeout": (0.001, 86_400.0),
    "callback_port": (0, 65_535),
}


def _typed(name: str, kind: object, value: object, origin: str) -> object:
    """``value`` as the setting's type; a number must be one (not a bool, not 1.5 for an
    int), finite and within the setting's bounds."""
    if kind == "str":
        return str(value)
    wrong = CliError(f"{origin}: {name} must be a {kind}, not {value!r}")
    if isinstance(value, bool):
        raise wrong
    try:
        number = float(value) if kind == "float" else int(value)  # type: ignore[arg-type,call-overload]
    except (TypeError, ValueError, OverflowError):
        raise wrong from None
    if kind == "int" and isinstance(value, float) and value != number:
        raise wrong
    low, high = _BOUNDS.get(name, (-math.inf, math.inf))
    if not low <= number <= high:  # (NaN is within no bounds)
        raise CliError(f"{origin}: {name} must be from {low:g} to {high:g}, not {value!r}")
    return number


def _build(values: Mapping[str, object], origin: str) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    typed: dict[str, object] = {}
    for name, value in values.items():
        if name in SECRET_VARIABLES:
            raise CliError(
                f"{origin} holds the secret {name!r}: secrets are never settings",
                hint=f"put it in {SECRET_VARIABLES[name]} or let sfbulk prompt for it",
            )
        if name not in known:
            raise CliError(f"{origin}: unknown setting {name!r}", hint=f"known: {sorted(known)}")
        typed[name] = _typed(name, known[name].type, value, origin)
    auth = str(typed.get("auth", "soap"))
    if auth not in _AUTH_KINDS:
        raise CliError(f"{origin}: auth must be one of {', '.join(_AUTH_KINDS)}, not {auth!r}")
    return Settings(**typed)  # type: ignore[arg-type]


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the config file, then overridden by ``SFBULK_*`` variables."""
    env = os.environ if env is None else env
    path = config_file(env)
    from_file = _read_toml(path, named=bool(env.get("SFBULK_CONFIG")))
    base = _build(from_file, f"the config file {path}")
    names = {f.name for f in fields(Settings)}
    from_env = {
        name: env[f"SFBULK_{name.upper()}"]
        for name in names
        if env.get(f"SFBULK_{name.upper()}", "") != ""
    }
    return _build({**base._values(), **from_env}, "the environment")


def secret_from_env(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """A secret from its ``SFBULK_*`` variable (``None`` when unset or empty)."""
    env = os.environ if env is None else env
    return env.get(SECRET_VARIABLES[name]) or None
