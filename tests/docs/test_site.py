"""The built docs site: complete, rendered (no raw Sphinx roles), typed, self-contained."""

from __future__ import annotations

import html
import importlib
import re
from pathlib import Path

import pytest

from sfbulk_sdk import errors
from tests.docs.conftest import ROOT, BuiltSite, script
from tests.package.test_public_annotations import EXCLUDED_MODULES

docs_reference = script("docs_reference")  # the MkDocs hook that writes the reference pages
docs_roles = script("docs_roles")  # the griffe extension that renders Sphinx roles

#: A Sphinx role left raw in the HTML: ``:meth:`` before a code span or backtick.
RAW_ROLE = re.compile(
    r":(?:py:)?(?:meth|class|func|attr|mod|exc|data|obj|const|type|ref):(?:`|<code|&lt;code)"
)
_TAG = re.compile(r"<[^>]+>")


def _text(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment))


def _signature(page: str, identifier: str) -> str:
    """The text of the separate signature block below the heading ``identifier``."""
    start = page.index(f'id="{identifier}"')
    block = page.index('class="doc-signature', start)
    return _text(page[block : page.index("</pre>", block)])


def test_the_strict_build_is_quiet(built_site: BuiltSite) -> None:
    assert "end of life" not in built_site.output.lower()
    assert "WARNING" not in built_site.output
    assert (built_site.path / "index.html").is_file()


def test_no_raw_sphinx_role_is_left_anywhere(built_site: BuiltSite) -> None:
    offenders = {}
    for page in [*built_site.pages(), built_site.path / "search" / "search_index.json"]:
        found = RAW_ROLE.findall(page.read_text(encoding="utf-8"))
        if found:
            offenders[str(page.relative_to(built_site.path))] = len(found)
    assert offenders == {}
    # and the docstrings do hold roles: the check above has something to find
    source = (ROOT / "sfbulk_sdk" / "_async" / "client.py").read_text(encoding="utf-8")
    assert docs_roles.ROLE.search(source)


def test_roles_become_links_to_the_documented_objects(built_site: BuiltSite) -> None:
    page = built_site.page("reference/sfbulk_sdk.aio/index.html")
    # ":class:`~sfbulk_sdk.Bulk`" in AsyncBulk's docstring
    assert re.search(
        r'<a class="autorefs autorefs-internal"[^>]*href="[^"]*#sfbulk_sdk\.client\.Bulk"', page
    )


def test_every_public_module_has_a_reference_page(built_site: BuiltSite) -> None:
    internals = set(EXCLUDED_MODULES) - {"sfbulk_sdk.testing.server"}
    assert internals == docs_reference.FAKE_ORG_INTERNALS
    documented = set(docs_reference.public_modules())
    # the modules the public-annotations test calls public are all here
    for module_name in _annotated_public_modules():
        assert module_name in documented
    for name in ("sfbulk_sdk.testing", "sfbulk_sdk.stores", "sfbulk_sdk.stores.redis"):
        assert name in documented
    for module_name in documented:
        assert (built_site.path / "reference" / module_name / "index.html").is_file(), module_name


def test_every_exported_name_is_documented_with_an_anchor(built_site: BuiltSite) -> None:
    anchors: set[str] = set()
    for page in built_site.pages():
        anchors.update(re.findall(r'id="([^"]+)"', page.read_text(encoding="utf-8")))
    missing = []
    for page in docs_reference.build_pages():
        for name in page.homed:
            if f"{page.name}.{name}" not in anchors:
                missing.append(f"{page.name}.{name}")
    assert missing == []
    assert "sfbulk_sdk.testing.org.FakeOrg" in anchors
    assert "sfbulk_sdk.stores.redis.RedisStore" in anchors
    assert "sfbulk_sdk.client.Bulk.create_job" in anchors


def test_signatures_show_their_types(built_site: BuiltSite) -> None:
    client = built_site.page("reference/sfbulk_sdk.client/index.html")
    signature = _signature(client, "sfbulk_sdk.client.Bulk.create_job")
    assert re.search(r"operation\s*:\s*\S", signature), signature
    assert re.search(r"->\s*JobInfo", signature), signature
    org = built_site.page("reference/sfbulk_sdk.testing.org/index.html")
    assert re.search(r"instance_url\s*:\s*str", _signature(org, "sfbulk_sdk.testing.org.FakeOrg"))


def test_the_errors_page_documents_every_error_class(built_site: BuiltSite) -> None:
    page = built_site.page("errors/index.html")
    for name in errors.__all__:
        if isinstance(getattr(errors, name), type):
            assert f'id="sfbulk_sdk.errors.{name}"' in page, name


def test_the_home_page_shows_an_example(built_site: BuiltSite) -> None:
    page = built_site.page("index.html")
    code = _text(page[page.index('<div class="highlight"') :])
    assert "Bulk(" in code and "FakeOrg" in code


def test_the_site_fetches_nothing_from_elsewhere(built_site: BuiltSite) -> None:
    fetched = re.compile(
        r'<(?:script|img|iframe|source)\b[^>]*\bsrc="([^"]+)"|<link\b[^>]*\bhref="([^"]+)"'
    )
    external = set()
    for page in built_site.pages():
        for src, href in fetched.findall(page.read_text(encoding="utf-8")):
            url = src or href
            if re.match(r"^(?:[a-z]+:)?//", url):
                external.add(url)
    for css in built_site.path.rglob("*.css"):
        external.update(re.findall(r"@import\s+url\(\s*['\"]?(https?://[^)'\"]+)", css.read_text()))
    assert external == set()
    assert "fonts.googleapis" not in built_site.page("index.html")


def test_role_rewriting_unit() -> None:
    griffe = pytest.importorskip("griffe")
    loader = griffe.GriffeLoader(extensions=griffe.load_extensions(docs_roles.SphinxRoles))
    package = loader.load("sfbulk_sdk.errors", find_stubs_package=False)
    loader.resolve_aliases(implicit=False, external=False)
    text = docs_roles.rewrite(
        "raises :class:`~sfbulk_sdk.errors.LoginError`, :class:`ImportError` or "
        ":func:`see this <sfbulk_sdk.errors.LoginError>`; literal::",
        package,
        loader.modules_collection,
    )
    assert ":class:" not in text and ":func:" not in text
    assert 'identifier="sfbulk_sdk.errors.LoginError"' in text
    assert "<code>LoginError</code>" in text
    assert "<code>ImportError</code>" in text and 'identifier="ImportError"' not in text
    assert "<code>see this</code>" in text
    assert text.endswith("literal:")


def _annotated_public_modules() -> list[str]:
    import pkgutil

    import sfbulk_sdk

    found = []
    for info in pkgutil.walk_packages(sfbulk_sdk.__path__, "sfbulk_sdk."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        if info.name in EXCLUDED_MODULES or any(
            info.name.startswith(f"{excluded}.") for excluded in EXCLUDED_MODULES
        ):
            continue
        if hasattr(importlib.import_module(info.name), "__all__"):
            found.append(info.name)
    assert found
    return found


def test_the_output_folder_is_named_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "site/" in readme
    # it starts with the two commands, each a target of the Makefile
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == ["make demo", "make test"]
    assert readme.index("make demo") < readme.index("\n\n", readme.index("```bash"))
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"(?m)^demo:", makefile) and re.search(r"(?m)^test:.*\bdocs\b", makefile)
    assert "site_dir: site" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert Path(ROOT / ".gitignore").read_text().count("site/") >= 1
