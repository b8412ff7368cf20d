"""Serve the scripts and stylesheets of Folium maps from our own static folder.

Folium and branca link Leaflet, its plugins, Bootstrap and Font Awesome from public CDNs.
Wangge also runs on intranets without Internet access, so every such URL maps to a copy that
``scripts/provision-assets.sh`` installs into ``static/vendor/`` (the npm packages pinned in
``package.json``, the files listed in ``static/vendor.json``). A URL without a local copy is
an error rather than a silent CDN request: supporting a new plugin means adding its package
and its files there and its URLs here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser

import folium
from branca.element import Element, Figure, Link

LOCAL_ASSETS: dict[str, str] = {
    # folium.Map
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "vendor/leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "vendor/leaflet/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "vendor/jquery/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "vendor/bootstrap/js/bootstrap.bundle.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "vendor/bootstrap/css/bootstrap.min.css"
    ),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "vendor/glyphicons/css/glyphicons.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "vendor/fontawesome/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "vendor/awesome-markers/leaflet.awesome-markers.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "vendor/awesome-markers/leaflet.awesome-markers.css"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        "vendor/folium/leaflet.awesome.rotate.css"
    ),
    # branca colormaps (legends)
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": "vendor/d3/d3.min.js",
    # plugins.HeatMap
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": (
        "vendor/folium/leaflet_heat.min.js"
    ),
    # plugins.HeatMapWithTime
    "https://cdn.jsdelivr.net/npm/iso8601-js-period@0.2.1/iso8601.min.js": (
        "vendor/iso8601-js-period/iso8601.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet-timedimension@1.1.1/dist/leaflet.timedimension.min.js": (
        "vendor/leaflet-timedimension/leaflet.timedimension.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet-timedimension@1.1.1/dist/leaflet.timedimension.control.css": (
        "vendor/leaflet-timedimension/leaflet.timedimension.control.css"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/pa7_hm.min.js": (
        "vendor/folium/pa7_hm.min.js"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/pa7_leaflet_hm.min.js": (
        "vendor/folium/pa7_leaflet_hm.min.js"
    ),
    # plugins.MarkerCluster, plugins.FastMarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "vendor/markercluster/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "vendor/markercluster/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "vendor/markercluster/MarkerCluster.Default.css"
    ),
    # plugins.Draw
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js": (
        "vendor/leaflet-draw/leaflet.draw.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css": (
        "vendor/leaflet-draw/leaflet.draw.css"
    ),
    # plugins.GeoMan (folium asks for @latest; package.json pins it)
    "https://unpkg.com/@geoman-io/leaflet-geoman-free@latest/dist/leaflet-geoman.js": (
        "vendor/leaflet-geoman/leaflet-geoman.min.js"
    ),
    "https://unpkg.com/@geoman-io/leaflet-geoman-free@latest/dist/leaflet-geoman.css": (
        "vendor/leaflet-geoman/leaflet-geoman.css"
    ),
    # plugins.Fullscreen
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
        "vendor/leaflet.fullscreen/Control.FullScreen.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
        "vendor/leaflet.fullscreen/Control.FullScreen.css"
    ),
    # plugins.LocateControl
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-locatecontrol/0.66.2/L.Control.Locate.min.js": (
        "vendor/leaflet.locatecontrol/L.Control.Locate.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-locatecontrol/0.66.2/L.Control.Locate.min.css": (
        "vendor/leaflet.locatecontrol/L.Control.Locate.min.css"
    ),
    # plugins.VectorGridProtobuf (folium asks for @latest; package.json pins it)
    "https://unpkg.com/leaflet.vectorgrid@latest/dist/Leaflet.VectorGrid.bundled.js": (
        "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"
    ),
}


class ExternalAssetError(RuntimeError):
    """A map would load a script or stylesheet from outside Wangge."""


def _is_external(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def _localizer(static_url: Callable[[str], str]) -> Callable[[str, str], str]:
    """Return ``local(url, owner)``: the local URL for a CDN URL, an error for an unknown one."""

    def local(url: str, owner: str) -> str:
        if not _is_external(url):
            return url
        try:
            return static_url(LOCAL_ASSETS[url])
        except KeyError:
            raise ExternalAssetError(
                f"{owner} links {url}, which has no local copy: add its npm package to "
                "package.json and static/vendor.json and the URL to LOCAL_ASSETS in "
                "app/web/assets.py"
            ) from None

    return local


def _walk(element: Element) -> Iterator[Element]:
    yield element
    if isinstance(element, Figure):
        for part in (element.header, element.html, element.script):
            yield from _walk(part)
    for child in element._children.values():
        yield from _walk(child)


class _SelfHostedHeader(Element):
    """A Figure header that localizes every link when the page is rendered.

    Some elements add their links to the header only while rendering (branca's colormaps
    add d3 that way), and elements may be added after :func:`self_host` ran; this catches
    both.
    """

    def __init__(self, header: Element, local: Callable[[str, str], str]):
        super().__init__()
        self._name = header._name
        self._id = header._id
        self._children = header._children
        self._parent = header._parent
        self._local = local

    def render(self, **kwargs) -> str:
        for name, child in self._children.items():
            if isinstance(child, Link):
                child.url = self._local(child.url, f"the page header ({name})")
        return super().render(**kwargs)


def self_host(m: folium.Map, static_url: Callable[[str], str]) -> None:
    """Make a map load its scripts and stylesheets from ``static/`` instead of CDNs.

    Rewrites ``default_js`` / ``default_css`` of the map and of every element in its page
    (plugins, layers, branca elements) and every link already in the page header, and
    guards the header so that links added later are rewritten too when the page renders.

    Parameters
    ----------
    m : folium.Map
        The map; its figure is changed in place.
    static_url : callable
        Turns a path under ``static/`` into a URL, e.g.
        ``lambda path: url_for("static", filename=path)``.

    Raises
    ------
    ExternalAssetError
        If an element links a URL that has no local copy in :data:`LOCAL_ASSETS`; raised
        here for what the map holds now, or while rendering for what is added later.
    """
    local = _localizer(static_url)
    root = m.get_root()
    for element in _walk(root):
        owner = type(element).__name__
        for attribute in ("default_js", "default_css"):
            links = getattr(element, attribute, None)
            if links:
                # a new list on the instance: the class attribute is shared by every map
                setattr(
                    element,
                    attribute,
                    [(name, local(url, owner)) for name, url in links],
                )
        if isinstance(element, Link):
            element.url = local(element.url, owner)
    if isinstance(root, Figure) and not isinstance(root.header, _SelfHostedHeader):
        root.header = _SelfHostedHeader(root.header, local)


class _ExternalLinks(HTMLParser):
    _css_url = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "embed"):
            self._add(attributes.get("src"))
        elif tag == "link":
            self._add(attributes.get("href"))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            for match in self._css_url.finditer(data):
                self._add(match.group(1) or match.group(2))

    def _add(self, url: str | None) -> None:
        if url and _is_external(url) and url not in self.urls:
            self.urls.append(url)


def external_urls(html: str) -> list[str]:
    """List the external URLs a page would load scripts, styles or frames from.

    Looks at ``<script src>``, ``<link href>``, ``<img>``/``<iframe>`` sources and ``url()``
    or ``@import`` in ``<style>`` blocks. URLs inside inline scripts, such as the basemap
    tile template, are data rather than links and are not listed.

    Examples
    --------
    >>> external_urls('<script src="https://cdn.example/x.js"></script><script src="/static/y.js"></script>')
    ['https://cdn.example/x.js']
    >>> external_urls("")
    []
    """
    parser = _ExternalLinks()
    parser.feed(html)
    parser.close()
    return parser.urls
