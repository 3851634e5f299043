"""HTML descriptions (Moodle's usual format, some CASE publishers') as the Markdown the site renders.

Only what a framework description uses is kept: paragraphs, line breaks, lists, emphasis and links. Everything else
becomes its text, so nothing of the HTML survives to be trusted later; the Markdown is rendered and sanitised on the
way out anyway (`tracker.markdown`).
"""

from __future__ import annotations

import html.parser
import re

_BLOCKS = frozenset({"p", "div", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
_EMPHASIS = {"strong": "**", "b": "**", "em": "*", "i": "*"}
# Characters that would start Markdown syntax at the beginning of a line or inside text.
_ESCAPE = re.compile(r"([\\`*_\[\]<>])")


def html_to_markdown(value: str) -> str:
    """Convert an HTML fragment to Markdown: paragraphs blank-line separated, whitespace inside them collapsed."""
    parser = _MarkdownWriter()
    parser.feed(value)
    parser.close()
    return parser.markdown()


class _MarkdownWriter(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _EMPHASIS:
            self.parts.append(_EMPHASIS[tag])
        elif tag == "a":
            href = dict(attrs).get("href")
            self.href.append(href if href and href.startswith(("http://", "https://", "mailto:")) else None)
            if self.href[-1]:
                self.parts.append("[")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in _EMPHASIS:
            self.parts.append(_EMPHASIS[tag])
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href:
                self.parts.append(f"]({href})")

    def handle_data(self, data: str) -> None:
        # Line breaks inside HTML source are spaces; only tags break lines.
        self.parts.append(_ESCAPE.sub(r"\\\1", re.sub(r"\s+", " ", data)))

    def markdown(self) -> str:
        paragraphs = re.split(r"\n\s*\n", "".join(self.parts))
        cleaned = ("\n".join(" ".join(line.split()) for line in p.split("\n") if line.strip()) for p in paragraphs)
        return "\n\n".join(p for p in cleaned if p)
