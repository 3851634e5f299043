"""HTML descriptions (Moodle's usual format, some CASE publishers') as the Markdown the site renders.

Only what a framework description uses is kept: paragraphs, line breaks, lists, emphasis and links. Everything else
becomes its text, so nothing of the HTML survives to be trusted later; the Markdown is rendered and sanitised on the
way out anyway (`tracker.markdown`).
"""

from __future__ import annotations

import html.parser
import re

_BLOCKS = frozenset({"p", "div", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
_HIDDEN = frozenset({"script", "style"})
_EMPHASIS = {"strong": "**", "b": "**", "em": "*", "i": "*"}
# Characters that would start Markdown syntax at the beginning of a line or inside text.
_HARD_BREAK = "\\"
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
        self.hidden = 0  # inside <script> or <style>: their text is not the description's

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "br":
            # A hard line break in CommonMark: a backslash ending the line (trailing spaces would be stripped).
            self.parts.append(_HARD_BREAK + "\n")
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
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in _EMPHASIS:
            self.parts.append(_EMPHASIS[tag])
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href:
                self.parts.append(f"]({href})")

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        # Line breaks inside HTML source are spaces; only tags break lines.
        self.parts.append(_ESCAPE.sub(r"\\\1", re.sub(r"\s+", " ", data)))

    def markdown(self) -> str:
        paragraphs = re.split(r"\n\s*\n", "".join(self.parts))
        return "\n\n".join(p for p in map(_paragraph, paragraphs) if p)


def _paragraph(text: str) -> str:
    """One paragraph: spaces collapsed per line, empty lines gone, no hard break at its end (it would show)."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    lines = [line for line in lines if line and line != _HARD_BREAK]
    if lines and lines[-1].endswith(_HARD_BREAK) and not lines[-1].endswith("\\" + _HARD_BREAK):
        lines[-1] = lines[-1][: -len(_HARD_BREAK)].rstrip()
    return "\n".join(lines)
