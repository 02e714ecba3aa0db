"""Feed bytes to normalised Articles, with feedparser. Pure: no network, no clock.

Runs in the poller's process pool, so everything it returns is picklable plain data.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import contextlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import feedparser
import feedparser.api
import feedparser.datetimes
import feedparser.encodings
import feedparser.mixin
import feedparser.urls

from pipeline.core.identity import new_article
from pipeline.core.models import Article
from pipeline.core.text import normalise_space, plain_text

#: Longest summary kept per article, in characters (a lede, not the whole page).
MAX_SUMMARY_CHARS = 4000
MAX_TITLE_CHARS = 500


@dataclass(slots=True)
class ParsedFeed:
    articles: list[Article] = field(default_factory=list)
    #: True when the bytes are a feed feedparser understood (possibly with recoverable errors).
    is_feed: bool = True
    #: Why the bytes are not a usable feed, or a recoverable problem ("bozo") worth recording.
    error: str = ""
    title: str = ""
    #: Entries in the document before the per-feed cap was applied.
    total_entries: int = 0
    #: Publication times (unix seconds) of every dated entry, for the adaptive schedule.
    published_times: list[float] = field(default_factory=list)
    #: Publisher hints, raw: RSS <ttl> (minutes), sy:updatePeriod, sy:updateFrequency.
    ttl: str = ""
    update_period: str = ""
    update_frequency: str = ""
    #: WebSub hub and self URL the feed advertises, if any.
    hub: str = ""
    self_url: str = ""
    #: For an HTML page: the feed it links to with <link rel="alternate">, if any.
    feed_link: str = ""
    #: True when a DOCTYPE declaring external or nested entities was neutralised.
    defused: bool = False
    #: True when the lxml fast path read the document (not feedparser). Left out of equality:
    #: the two parsers' results must compare equal.
    fast_path: bool = field(default=False, compare=False)


def _iso_utc(struct: time.struct_time | None) -> str:
    if not struct:
        return ""
    try:
        seconds = calendar.timegm(struct)
    except (OverflowError, ValueError, TypeError):
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _timestamp(struct: time.struct_time | None) -> float | None:
    if not struct:
        return None
    try:
        return float(calendar.timegm(struct))
    except (OverflowError, ValueError, TypeError):
        return None


# --- XML safety -----------------------------------------------------------------------------------
# feedparser (6.0.x) already drops DOCTYPE entity declarations other than simple text ones before
# expat sees them, and expat refuses external entities; this is a second, version-independent wall:
# an internal DTD subset that declares external (SYSTEM/PUBLIC) or nested entities is removed
# before parsing, so neither an XXE nor a "billion laughs" can reach the parser.
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[(.*?)\]\s*>", re.IGNORECASE | re.DOTALL)
_ENTITY_DECL = re.compile(rb"<!ENTITY\s+(%\s*)?[^\s>]+\s+(.*?)>", re.IGNORECASE | re.DOTALL)
_HEAD = 64 * 1024


def _unsafe_entity(declaration: re.Match[bytes]) -> bool:
    parameter, rest = declaration.group(1), declaration.group(2).lstrip()
    if parameter or rest[:6].upper() in (b"SYSTEM", b"PUBLIC"):
        return True
    return re.search(rb"&[A-Za-z_:%]", rest) is not None  # refers to other entities


def defuse_doctype(body: bytes) -> tuple[bytes, bool]:
    """``body`` with an unsafe internal DTD subset removed, and whether one was."""
    head = body[:_HEAD]
    match = _DOCTYPE_SUBSET.search(head)
    if match is None:
        if b"<!ENTITY" in head.upper() and b"<!DOCTYPE" in head.upper():
            # A DOCTYPE subset we could not delimit (e.g. unterminated): drop the declarations.
            cleaned = re.sub(rb"<!ENTITY[^>]*>", b"", head, flags=re.IGNORECASE)
            return cleaned + body[_HEAD:], True
        return body, False
    if not any(_unsafe_entity(d) for d in _ENTITY_DECL.finditer(match.group(1))):
        return body, False
    return body[: match.start()] + body[match.end() :], True


# --- charsets that lie ---------------------------------------------------------------------
_XML_DECL = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([A-Za-z0-9._-]+)([\"'])")
_CT_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._-]+)", re.IGNORECASE)


def _declared_charset(body: bytes, content_type: str) -> str:
    match = _CT_CHARSET.search(content_type)
    if match:
        return match.group(1).lower()
    decl = _XML_DECL.match(body[:512])
    return decl.group(2).decode("ascii").lower() if decl else "utf-8"


def repair_charset(body: bytes, content_type: str) -> tuple[bytes, str, str]:
    """A body declared UTF-8 that is not UTF-8 is re-encoded from the charset it really is.

    feedparser would fall back to windows-1252 and produce mojibake for, say, Cyrillic sent as
    windows-1251 under a UTF-8 header. Returns (body, content type, note of what was done).
    """
    if body[:3] == b"\xef\xbb\xbf" or body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return body, content_type, ""  # a byte-order mark says it all
    if _declared_charset(body, content_type).replace("_", "-") not in ("utf-8", "utf8"):
        return body, content_type, ""
    try:
        body.decode("utf-8")
        return body, content_type, ""
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[: 512 * 1024]).best()
    if best is None or best.encoding.replace("_", "-") in ("utf-8", "ascii"):
        return body, content_type, ""
    text = body.decode(best.encoding, errors="replace")
    fixed = _XML_DECL.sub(rb"\g<1>utf-8\g<3>", text.encode("utf-8"), count=1)
    content_type = _CT_CHARSET.sub("charset=utf-8", content_type)
    return fixed, content_type, f"declared UTF-8 but was {best.encoding}"


# --- HTML pages that link to their feed -----------------------------------------------------------
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


class _AlternateLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        rels = a.get("rel", "").lower().split()
        if (
            "alternate" in rels
            and a.get("type", "").lower().strip() in _FEED_TYPES
            and a.get("href")
        ):
            self.links.append(a["href"].strip())


def alternate_feed_link(body: bytes, base_url: str = "") -> str:
    """The first feed an HTML page links to with ``<link rel="alternate" type="…rss+xml">``."""
    text = body[: 256 * 1024].decode("utf-8", errors="replace")
    finder = _AlternateLinks()
    try:
        finder.feed(text)
        finder.close()
    except Exception:  # noqa: BLE001 - a broken page offers no link
        return ""
    for href in finder.links:
        url = urljoin(base_url, href) if base_url else href
        if url.startswith(("http://", "https://")):
            return url
    return ""


def _entry_text(entry: Any) -> str:
    summary = entry.get("summary") or ""
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value") or ""
    text = normalise_space(plain_text(summary))
    if len(text) > MAX_SUMMARY_CHARS:
        text = text[:MAX_SUMMARY_CHARS].rsplit(" ", 1)[0] + " …"
    return text


# --- fast path ------------------------------------------------------------------------------------
# feedparser is the reference, but it spends about 1 ms per entry in pure Python. The common case,
# a well-formed RSS 2.0, RSS 1.0 (RDF) or Atom 1.0 document in UTF-8, is read here with lxml and
# given to the same article-building code as feedparser's result. The reader walks the tree the way
# feedparser 6.0's SAX handlers walk the document, but keeps only what the article builder reads
# (entry title, summary, first content, link, id, language, dates; feed title, language, links and
# publisher hints), reproducing the handler rules that decide them: the depth rule by which an
# outer element beats a nested one (media:title inside media:content), the title depth, a second
# description becoming content, content:encoded standing in for a missing summary, the guid that
# stands in for a missing link, whitespace stripping, URI joining, base64 text, its latin-1 and
# cp1252 repairs and its date parser. Anything it does not know exactly (a DOCTYPE, xml:base,
# another charset, an element with a handler it has not modelled, markup inside a text element,
# text with the XHTML type) returns None, and feedparser parses the document.
# tests/integration/test_parse_differential.py checks both give the same result on every file of
# both corpora; tests/pipeline/core/test_parse.py does the same on generated feeds.

_FP = feedparser.api.StrictFeedParser
#: feedparser's prefix for each namespace it knows ("" = treated as RSS/Atom core elements).
_FP_PREFIXES = {uri.lower(): prefix for uri, prefix in _FP.namespaces.items()}
_XML_ENC = feedparser.encodings.RE_XML_PI_ENCODING
_UTF8 = ("utf-8", "utf8")
_BOM = b"\xef\xbb\xbf"
_ATOM_NS = "http://www.w3.org/2005/Atom"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML_NS = "{http://www.w3.org/XML/1998/namespace}"
_HTML_TYPES = frozenset(_FP.html_types)
_COPIED_TO_SUMMARY = _HTML_TYPES | {"text/plain"}
#: Element (feedparser dispatch key) -> the handler rule of feedparser's that this reader follows.
_TEXT_KINDS = {
    "title": "title",
    "dc_title": "title",
    "media_title": "media_title",
    "description": "description",
    "dc_description": "description",
    "media_description": "description",
    "summary": "summary",
    "itunes_summary": "summary",
    "content_encoded": "content_encoded",
    "fullitem": "content_encoded",
    "content": "content",
    "link": "link",
    "guid": "guid",
    "id": "guid",
    "pubdate": "published",
    "published": "published",
    "issued": "published",
    "dcterms_issued": "published",
    "updated": "updated",
    "modified": "updated",
    "lastbuilddate": "updated",
    "dc_date": "updated",
    "dcterms_modified": "updated",
    "language": "language",
    "dc_language": "language",
}
#: Elements whose feedparser handlers only fill keys the article builder never reads (authors,
#: tags, enclosures, media, rights...) and that may hold child elements, walked in turn.
_CONTAINERS = frozenset(
    "author dc_author dc_creator contributor itunes_owner media_content media_group "
    "media_thumbnail".split()
)
#: The same, but for elements that must be leaves (their handlers treat children as markup).
_LEAVES = frozenset(
    "name email uri url homepage webmaster managingeditor dc_publisher dc_contributor "
    "itunes_author itunes_name itunes_email category dc_subject keywords media_category "
    "media_keywords itunes_category itunes_keywords enclosure media_credit "
    "media_rating media_restriction media_license media_player copyright rights dc_rights "
    "subtitle tagline itunes_subtitle generator cloud info feedburner_browserfriendly "
    "itunes_explicit itunes_block itunes_image created dcterms_created expirationdate "
    "georss_point georss_line georss_polygon georss_box".split()
)
#: Keys of an entry or feed that the article builder reads: an unknown element of that name
#: would be stored over them.
_RESERVED = frozenset(
    "title link id guid summary description content published updated language links "
    "published_parsed updated_parsed ttl sy_updateperiod sy_updatefrequency".split()
)
#: Unknown elements (no feedparser handler) whose text the feed keeps as a publisher hint.
_FEED_HINTS = frozenset(("ttl", "sy_updateperiod", "sy_updatefrequency"))
_IMAGE_CHILDREN = frozenset("title link url width height description".split())
_TEXTINPUT_CHILDREN = frozenset("title link name description".split())
_LXML_PARSER = None


class _Unusual(Exception):
    """Something the fast path does not reproduce exactly: feedparser takes the document."""


def _lxml_parser():  # noqa: ANN202 - lxml is imported lazily
    global _LXML_PARSER
    if _LXML_PARSER is None:
        from lxml import etree

        _LXML_PARSER = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
            huge_tree=False,
            recover=False,
            strip_cdata=True,
        )
    return _LXML_PARSER


_KEYS: dict[tuple[str, str | None], str] = {}
_ENTITY_LIKE = re.compile("&([A-Za-z0-9_]+);")


def _fp_key(el: Any) -> str:
    """The name feedparser dispatches an element on (``_start_<key>``): prefix_local, lowercased."""
    tag, prefix = el.tag, el.prefix
    if not isinstance(tag, str):
        raise _Unusual("not an element")
    key = _KEYS.get((tag, prefix))
    if key is None:
        key = _dispatch_key(tag, prefix)
        if len(_KEYS) < 4096:  # a memo of names seen, bounded against hostile documents
            _KEYS[tag, prefix] = key
    return key


def _dispatch_key(tag: str, given_prefix: str | None) -> str:
    if tag[0] == "{":
        uri, local = tag[1:].split("}", 1)
        prefix = _FP_PREFIXES.get(uri.lower(), given_prefix) or ""
        if "backend.userland.com/rss" in uri.lower():
            prefix = ""
    else:
        prefix, local = "", tag
    local = local.lower()
    return f"{prefix.lower()}_{local}" if prefix else local


def _fp_attrs(el: Any, root: bool = False) -> dict[str, str]:
    """An element's attributes as feedparser's handlers see them (names lowercased, rel/type too).

    xml:lang is left out (it only matters on the root), and so is the root's xml:base (read by
    ``_read_root``); xml:base elsewhere, a bare base or lang, and other namespaced attributes
    (which feedparser may file under their local name) are refused.
    """
    attrs: dict[str, str] = {}
    for key, value in el.attrib.items():
        if key[0] == "{":
            if key == _XML_NS + "lang" or (root and key == _XML_NS + "base"):
                continue
            uri, local = key[1:].split("}", 1)
            if uri != _RDF_NS or local not in ("about", "resource"):
                raise _Unusual(f"attribute {key}")
            attrs["rdf:" + local] = value
            continue
        low = key.lower()
        if low in ("base", "lang", "xmlns") or low in attrs:
            raise _Unusual(f"attribute {key}")
        attrs[low] = value.lower() if low in ("rel", "type") else value
    return attrs


def _document(body: bytes, content_type: str, base_url: str) -> bytes:
    """The bytes lxml should parse, when feedparser would decode ``body`` as UTF-8 cleanly."""
    data = body[3:] if body[:3] == _BOM else body
    if data[:1] != b"<":
        stripped = data.lstrip(b" \t\r\n")
        # feedparser puts its own XML declaration first; one after whitespace breaks expat.
        if stripped[:1] != b"<" or stripped[:5].lower() == b"<?xml":
            raise _Unusual("leading bytes")
    match = _XML_ENC.match(data)
    xml_encoding = match.group(1).decode("ascii", "replace").lower() if match else ""
    if xml_encoding not in ("", *_UTF8):
        raise _Unusual("declared encoding")
    mime, charset = feedparser.encodings.parse_content_type(content_type)
    if not content_type:
        if base_url:  # feedparser then sees headers without a Content-Type: a bozo
            raise _Unusual("no content type")
        encoding = xml_encoding or "utf-8"
    elif mime in ("application/xml", "application/xml-dtd") or (
        mime.startswith("application/") and mime.endswith("+xml")
    ):
        encoding = charset or xml_encoding or "utf-8"
    elif mime == "text/xml" or (mime.startswith("text/") and mime.endswith("+xml")):
        encoding = charset
    else:
        raise _Unusual("content type")
    if encoding.lower() not in _UTF8:
        raise _Unusual("encoding")
    return data


def _safe_base(base_url: str) -> str:
    base = base_url
    for _ in range(8):
        if not base:
            return base
        nxt = feedparser.urls.make_safe_absolute_uri(base, base) or base
        if nxt == base:
            return base
        base = nxt
    raise _Unusual("base URI does not settle")


def _content_type(attrs: dict[str, str], default: str) -> str:
    return _FP.map_content_type(attrs.get("type", default))


def _has_handler(key: str) -> bool:
    return hasattr(_FP, "_start_" + key) or hasattr(_FP, "_end_" + key)


class _FastReader:
    """feedparser 6.0's handler state, for the fields the article builder reads."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.feed: dict[str, Any] = {"links": []}
        self.entries: list[dict[str, Any]] = []
        self.entry: dict[str, Any] | None = None
        #: Depth at which each entry field was stored (feedparser's property_depth_map).
        self.depths: dict[str, int] = {}
        self.title_depth = -1
        self.has_content = False

    # -- text, as feedparser's pop() leaves it (sanitising and relative-URI rewriting off) -------
    def text(
        self, el: Any, attrs: dict[str, str], content_type: str = "", resolve: bool = False
    ) -> str:
        if len(el):
            raise _Unusual("markup in a text element")
        out = (el.text or "").strip()
        if content_type:  # a content element: its type may call for base64
            if content_type == "application/xhtml+xml":
                raise _Unusual("XHTML text")  # feedparser escapes it as it reads
            plain = content_type.startswith("text/") or content_type.endswith(("+xml", "/xml"))
            if attrs.get("mode", "") == "base64" or not plain:
                with contextlib.suppress(binascii.Error, binascii.Incomplete, UnicodeDecodeError):
                    out = base64.decodebytes(out.encode("utf8")).decode("utf8")
        if resolve and out:
            out = feedparser.urls._urljoin(self.base, out)
        if not out.isascii():  # feedparser's repair of UTF-8 read as latin-1
            with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
                out = out.encode("iso-8859-1").decode("utf-8")
        return out.translate(feedparser.mixin._cp1252)

    def store(self, name: str, value: Any, depth: int) -> None:
        """feedparser's rule for an entry field: a value does not replace one stored shallower."""
        if self.entry is None:
            self.feed[name] = value
            return
        old = self.depths.get(name)
        if old is None or depth <= old:
            self.depths[name] = depth
            self.entry[name] = value

    # -- elements --------------------------------------------------------------------------------
    def element(self, el: Any, depth: int) -> None:
        key = _fp_key(el)
        if key in _LEAVES:  # the commonest case first (categories, credits, enclosures...)
            if len(el):
                raise _Unusual(f"child elements in {key}")
            return
        attrs = _fp_attrs(el)
        kind = _TEXT_KINDS.get(key)
        if kind is not None:
            getattr(self, "_" + kind)(el, attrs, depth)
        elif key in ("item", "entry"):
            self.item(el, attrs, depth)
        elif key == "image":
            self.aside(el, depth, _IMAGE_CHILDREN)
        elif key == "textinput":
            self.aside(el, depth, _TEXTINPUT_CHILDREN)
        elif key in _CONTAINERS:
            for child in el:
                self.element(child, depth + 1)
        elif key in _FEED_HINTS and self.entry is None:
            if attrs:
                raise _Unusual(f"attributes on {key}")
            self.feed[key] = self.text(el, attrs)
        elif key in _RESERVED and key not in _FEED_HINTS or _has_handler(key):
            raise _Unusual(f"element {key}")
        else:  # no handler: feedparser files its text under its own name
            for child in el:
                self.element(child, depth + 1)

    def item(self, el: Any, attrs: dict[str, str], depth: int) -> None:
        if self.entry is not None:
            raise _Unusual("entry inside an entry")
        if set(attrs) - {"rdf:about"}:
            raise _Unusual("attributes on an entry")
        self.entry = {}
        self.entries.append(self.entry)
        self.depths = {}
        self.title_depth = -1
        if attrs.get("rdf:about"):
            self.entry["id"] = attrs["rdf:about"]
        for child in el:
            self.element(child, depth + 1)
        self.entry = None
        self.has_content = False

    def aside(self, el: Any, depth: int, children: frozenset[str]) -> None:
        """A channel's <image> or <textinput>: its fields go elsewhere, but it moves title_depth."""
        if self.entry is not None:
            raise _Unusual("image or textinput in an entry")
        self.title_depth = -1
        for child in el:
            key = _fp_key(child)
            if key not in children or child.prefix:
                raise _Unusual(f"{key} in image or textinput")
            value = self.text(child, _fp_attrs(child))
            if key == "title" and value:
                self.title_depth = depth + 1

    def _title(self, el: Any, attrs: dict[str, str], depth: int, media: bool = False) -> None:
        value = self.text(el, attrs, _content_type(attrs, "text/plain"))
        if not -1 < self.title_depth <= depth:
            self.store("title", value, depth)
        if value and not media:
            self.title_depth = depth

    def _media_title(self, el: Any, attrs: dict[str, str], depth: int) -> None:
        self._title(el, attrs, depth, media=True)

    def _description(self, el: Any, attrs: dict[str, str], depth: int, plain: bool = False) -> None:
        context = self.feed if self.entry is None else self.entry
        if "summary" in context and not self.has_content:
            self._content(el, attrs, depth)  # a second description becomes content
        elif self.entry is None:
            self.text(el, attrs, _content_type(attrs, "text/html"))  # the feed's subtitle
        else:
            default = "text/plain" if plain else "text/html"
            self.store("summary", self.text(el, attrs, _content_type(attrs, default)), depth)

    def _summary(self, el: Any, attrs: dict[str, str], depth: int) -> None:
        if self.entry is None:
            raise _Unusual("feed summary")
        self._description(el, attrs, depth, plain=True)

    def _content(
        self, el: Any, attrs: dict[str, str], depth: int, default: str = "text/plain"
    ) -> None:
        if self.entry is None:
            raise _Unusual("feed content")
        self.has_content = True
        content_type = _content_type(attrs, default)
        value = self.text(el, attrs, content_type)
        self.entry.setdefault("content", []).append({"value": value})
        if content_type in _COPIED_TO_SUMMARY:
            self.entry.setdefault("summary", value)

    def _content_encoded(self, el: Any, attrs: dict[str, str], depth: int) -> None:
        self._content(el, attrs, depth, default="text/html")

    def _link(self, el: Any, attrs: dict[str, str], depth: int) -> None:
        attrs.setdefault("rel", "alternate")
        attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
        href = attrs.get("url", attrs.get("uri", attrs.get("href")))
        if href:
            href = feedparser.urls._urljoin(self.base, href)
            alternate = attrs["rel"] == "alternate" and (
                _FP.map_content_type(attrs["type"]) in _HTML_TYPES
            )
            if self.entry is None:
                self.feed["links"].append({"rel": attrs["rel"], "href": href})
                if alternate:
                    self.feed["link"] = href
            elif alternate:
                self.entry["link"] = href
            for child in el:  # not text: feedparser reads its children as elements
                self.element(child, depth + 1)
            return
        if set(attrs) != {"rel", "type"}:
            raise _Unusual("link attributes without an href")
        value = self.text(el, attrs, resolve=True)
        if self.entry is None:
            value = _ENTITY_LIKE.sub(r"&\g<1>", value)
            self.feed["links"].append({"rel": attrs["rel"], "href": value})
            self.feed["link"] = value
        else:
            value = value.replace("&amp;", "&")
            self.entry["link"] = _ENTITY_LIKE.sub(r"&\g<1>", value)

    def _guid(self, el: Any, attrs: dict[str, str], depth: int) -> None:
        is_link = attrs.get("ispermalink", "true") == "true"
        value = self.text(el, attrs, resolve=is_link)
        if self.entry is not None:
            self.store("id", value, depth)
            if is_link:
                self.entry.setdefault("link", value)

    def _published(self, el: Any, attrs: dict[str, str], depth: int) -> None:
        value = self.text(el, attrs)
        if self.entry is not None:
            self.entry["published_parsed"] = feedparser.datetimes._parse_date(value)

    def _updated(self, el: Any, attrs: dict[str, str], depth: int) -> None:
        value = self.text(el, attrs)
        if self.entry is not None:
            self.entry["updated_parsed"] = feedparser.datetimes._parse_date(value)

    def _language(self, el: Any, attrs: dict[str, str], depth: int) -> None:
        self.store("language", self.text(el, attrs), depth)


def _read_root(root: Any, reader: _FastReader) -> None:
    key = _fp_key(root)
    attrs = _fp_attrs(root, root=True)
    xml_base = root.get(_XML_NS + "base")
    if xml_base:  # feedparser's base for the root, then for each element below it
        base = reader.base
        if base:
            base = feedparser.urls.make_safe_absolute_uri(base, xml_base) or base
        else:
            base = feedparser.urls._urljoin(base, xml_base)
        reader.base = _safe_base(base)
    lang = root.get(_XML_NS + "lang")
    if lang and key in ("rss", "feed"):  # feedparser takes xml:lang on these roots as the language
        reader.feed["language"] = lang.replace("_", "-")
    if key == "rss":
        if set(attrs) - {"version"} or len(root) != 1 or _fp_key(root[0]) != "channel":
            raise _Unusual("rss without exactly one channel")
        channel = root[0]
        if set(_fp_attrs(channel)) - {"rdf:about"}:
            raise _Unusual("attributes on the channel")
        for child in channel:
            reader.element(child, 3)
    elif key == "feed":
        if root.tag != f"{{{_ATOM_NS}}}feed" or attrs:
            raise _Unusual("not Atom 1.0")
        for child in root:
            reader.element(child, 2)
    elif key == "rdf_rdf" and root.tag == f"{{{_RDF_NS}}}RDF":
        if attrs or not len(root) or _fp_key(root[0]) != "channel":
            raise _Unusual("RDF without a leading channel")
        if set(_fp_attrs(root[0])) - {"rdf:about"}:
            raise _Unusual("attributes on the channel")
        for child in root[0]:
            reader.element(child, 3)
        for child in root[1:]:  # after </channel> feedparser is no longer "in the feed"
            key = _fp_key(child)
            if key == "item":
                reader.element(child, 2)
            elif key in ("image", "textinput"):
                reader.aside(child, 2, _IMAGE_CHILDREN | _TEXTINPUT_CHILDREN)
            else:
                raise _Unusual(f"RDF element {key}")
    else:
        raise _Unusual(f"root {root.tag}")


def _fast_parse(
    body: bytes, content_type: str, base_url: str
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    head = body[:_HEAD].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise _Unusual("DOCTYPE")
    data = _document(body, content_type, base_url)
    from lxml import etree

    root = etree.fromstring(data, _lxml_parser())
    reader = _FastReader(_safe_base(base_url))
    _read_root(root, reader)
    return reader.feed, reader.entries, ""


def fast_feed(
    body: bytes, *, content_type: str = "", base_url: str = ""
) -> tuple[dict[str, Any], list[dict[str, Any]], str] | None:
    """(feed, entries, bozo) as feedparser would give them, or None to let feedparser parse.

    Takes only well-formed RSS 2.0, RSS 1.0 and Atom 1.0 in UTF-8 made of elements whose
    treatment by feedparser 6.0 it reproduces exactly; returns None for anything else, and on any
    surprise. The dicts hold only the keys the article builder reads.
    """
    try:
        return _fast_parse(body, content_type, base_url)
    except _Unusual:
        return None
    except Exception:  # noqa: BLE001 - not well-formed, or anything unforeseen: feedparser decides
        return None


def parse_feed(
    body: bytes,
    *,
    source: str,
    language: str = "",
    content_type: str = "",
    base_url: str = "",
    fetched_at: float = 0.0,
    max_entries: int = 500,
    fast: bool = True,
) -> ParsedFeed:
    """Parse one feed document into Articles, newest-first order preserved, at most max_entries.

    Entries with neither a title nor any text are skipped: there is nothing to classify or show.
    ``fast=False`` always uses feedparser (the reference the fast path is tested against).
    """
    if not body.strip():
        return ParsedFeed(is_feed=False, error="empty body")
    body, content_type, charset_note = repair_charset(body, content_type)
    headers = {"content-type": content_type} if content_type else {}
    if base_url:
        headers["content-location"] = base_url
    body, defused = defuse_doctype(body)
    fast_doc = None
    if fast and not defused:
        fast_doc = fast_feed(body, content_type=content_type, base_url=base_url)
    if fast_doc is not None:
        feed, entries, bozo = fast_doc
    else:
        doc = feedparser.parse(
            body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
        version = doc.get("version") or ""
        entries = doc.get("entries") or []
        if not version and not entries:
            reason = str(doc.get("bozo_exception") or "no RSS or Atom document found")
            return ParsedFeed(
                is_feed=False,
                error=f"not a feed: {reason}"[:300],
                feed_link=alternate_feed_link(body, base_url),
                defused=defused,
            )
        feed = doc.get("feed") or {}
        bozo = f"recovered from: {doc.get('bozo_exception')}" if doc.get("bozo") else ""
    feed_language = (language or feed.get("language") or "").split("-")[0].lower()
    links = Counter((e.get("link") or "").strip() for e in entries)
    guids = Counter((e.get("id") or "").strip() for e in entries)
    articles: list[Article] = []
    for entry in entries[:max_entries]:
        title = normalise_space(plain_text(entry.get("title") or ""))[:MAX_TITLE_CHARS]
        summary = _entry_text(entry)
        if not title and not summary:
            continue
        link = (entry.get("link") or "").strip()
        guid = (entry.get("id") or "").strip()
        # A link or GUID shared by several entries identifies none of them.
        articles.append(
            new_article(
                source,
                link,
                title,
                summary,
                guid=guid if guid and guids[guid] == 1 else "",
                language=(entry.get("language") or feed_language or "").lower(),
                published=_iso_utc(entry.get("published_parsed") or entry.get("updated_parsed")),
                fetched_at=fetched_at,
                url_identifies=bool(link) and links[link] == 1,
            )
        )
    error = bozo[:300]
    if charset_note:
        error = f"{charset_note}; {error}".rstrip("; ")[:300]
    if defused:
        error = ("unsafe DOCTYPE entities removed; " + error)[:300]
    published_times = [
        t
        for t in (_timestamp(e.get("published_parsed") or e.get("updated_parsed")) for e in entries)
        if t is not None
    ]
    hub = self_url = ""
    for link in feed.get("links") or []:
        rel = (link.get("rel") or "").lower()
        if rel == "hub" and not hub:
            hub = link.get("href") or ""
        elif rel == "self" and not self_url:
            self_url = link.get("href") or ""
    return ParsedFeed(
        articles=articles,
        is_feed=True,
        error=error,
        title=normalise_space(plain_text(feed.get("title") or "")),
        total_entries=len(entries),
        published_times=published_times,
        ttl=str(feed.get("ttl") or ""),
        update_period=str(feed.get("sy_updateperiod") or ""),
        update_frequency=str(feed.get("sy_updatefrequency") or ""),
        hub=hub,
        self_url=self_url,
        defused=defused,
        fast_path=fast_doc is not None,
    )
