"""Canonical URLs: one spelling per page, so the same article at two addresses is seen as one."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameters that only track the reader and never select content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "_ga",
        "_gl",
        "ref_src",
        "cmpid",
        "ocid",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "maca",
        "rss",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "sr_share",
        "smid",
        "partner",
    }
)
_TRACKING_PREFIXES = ("utm_", "at_", "ga_", "pk_", "mtm_", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: Query parameters that only ask for the AMP rendering of the same page.
_AMP_PARAMS = frozenset({"amp", "outputtype", "output"})
_AMP_VALUES = frozenset({"", "1", "true", "amp"})


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters, the
    page rather than its AMP rendering.

    ``https`` and ``http`` stay distinct only in the scheme; ``www.`` is kept, since some sites
    serve different content there. Unparseable input comes back stripped but otherwise as given.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _is_tracking(k) and not _is_amp(k, v)
        ]
    )
    path = _without_amp(parts.path or "/")
    return urlunsplit((scheme, host, path, query, ""))


def _is_amp(name: str, value: str) -> bool:
    return name.lower() in _AMP_PARAMS and value.lower() in _AMP_VALUES


def _without_amp(path: str) -> str:
    """The AMP rendering of a page is the same article: ``/news/x/amp`` and ``/amp/news/x`` are
    ``/news/x``; ``/news/x.amp.html`` is ``/news/x.html``. Mobile hosts (m.example.com) are kept:
    whether they serve the same pages is site by site."""
    if path.endswith("/amp") or path.endswith("/amp/"):
        path = path[: path.rstrip("/").rfind("/amp")] or "/"
    elif path.startswith("/amp/"):
        path = path[4:]
    return path.replace(".amp.html", ".html")


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
