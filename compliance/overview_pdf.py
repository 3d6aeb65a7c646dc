"""Render the Security overview as a PDF (reportlab platypus).

The builder takes plain data, duck-typed, so it works equally with the seed
dataclasses in ``compliance.overview_content`` and with Django model instances:

- sections: objects with ``slug``, ``title``, ``body`` and ``order``
  (``body`` in the Markdown subset of :func:`compliance.overview_content.parse_body`);
- links: objects with ``name``, ``description``, ``url`` and ``order``;
- workspace: label -> value pairs describing one tenant's settings;
- language: "en", "ko" or "ja": picks the labels (``compliance.overview_versions``)
  and which fonts Hanja/Kanji get.

Fonts: Latin text is set in an embedded TrueType family (DejaVu, or the Vera
that ships with reportlab). Hangul and Japanese/Chinese runs, in any language's
document (a Korean client's name in the English PDF too), are set in reportlab's
built-in CID fonts for Adobe's Korean and Japanese character collections
(HYSMyeongJo/HYGothic, HeiseiMin/HeiseiKakuGo). They are not embedded: the viewer
supplies the glyphs (Acrobat, browsers and the macOS/Windows viewers all map
these standard names to installed CJK fonts), and text extraction returns the
real characters. Keeping Latin out of the CID fonts keeps its spacing exact in
viewers that substitute a different CJK font.

Every piece of text may come from a tenant, so all of it is escaped before it
reaches reportlab's Paragraph mini-markup, and only http(s)/mailto URLs become
clickable links.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from compliance.overview_content import BulletListBlock, Labels, parse_body
from compliance.overview_versions import DEFAULT_LANGUAGE, base_language, labels_for

__all__ = ["DEFAULT_TITLE", "WORKSPACE_HEADING", "build_overview_pdf"]

DEFAULT_TITLE = labels_for(DEFAULT_LANGUAGE).title
WORKSPACE_HEADING = labels_for(DEFAULT_LANGUAGE).workspace_heading

_INK = colors.HexColor("#1f2933")
_MUTED = colors.HexColor("#616e7c")
_ACCENT = colors.HexColor("#1d4ed8")
_RULE = colors.HexColor("#cbd2d9")
_HEADER_FILL = colors.HexColor("#e8eefc")
_STRIPE_FILL = colors.HexColor("#f5f7fa")

_SAFE_URL_SCHEMES = ("http://", "https://", "mailto:")
# Control characters would either break the PDF text or show as boxes; tabs and
# newlines are kept (a newline in a tenant value becomes a line break).
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class SectionLike(Protocol):
    slug: str
    title: str
    body: str
    order: int


class LinkLike(Protocol):
    name: str
    description: str
    url: str
    order: int


# --- fonts -----------------------------------------------------------------------

# DejaVu covers far more scripts than the PDF base fonts; Bitstream Vera ships with
# reportlab, so there is always a TrueType font to embed.
_DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
_VERA_DIR = Path(reportlab.__file__).parent / "fonts"
_FONT_CANDIDATES: tuple[tuple[Path, Path, Path, Path], ...] = (
    (
        _DEJAVU_DIR / "DejaVuSans.ttf",
        _DEJAVU_DIR / "DejaVuSans-Bold.ttf",
        _DEJAVU_DIR / "DejaVuSans-Oblique.ttf",
        _DEJAVU_DIR / "DejaVuSans-BoldOblique.ttf",
    ),
    (
        _VERA_DIR / "Vera.ttf",
        _VERA_DIR / "VeraBd.ttf",
        _VERA_DIR / "VeraIt.ttf",
        _VERA_DIR / "VeraBI.ttf",
    ),
)


@cache
def _font_family() -> tuple[str, str, str]:
    """Register the body font family once; return (regular, bold, italic) names."""
    for paths in _FONT_CANDIDATES:
        if not all(path.is_file() for path in paths):
            continue
        names = (
            "TuneAIBotOverview",
            "TuneAIBotOverview-Bold",
            "TuneAIBotOverview-Italic",
            "TuneAIBotOverview-BoldItalic",
        )
        try:
            for name, path in zip(names, paths, strict=True):
                pdfmetrics.registerFont(TTFont(name, str(path)))
        except (OSError, TTFError):  # unreadable or broken font file: try the next family
            continue
        pdfmetrics.registerFontFamily(
            names[0], normal=names[0], bold=names[1], italic=names[2], boldItalic=names[3]
        )
        return names[0], names[1], names[2]
    return "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"


# Korean: Myeongjo (serif) for text, Gothic (sans) for headings and labels; Japanese:
# Mincho and Kaku Gothic, the usual pairing of a business document.
_CID_FONTS: dict[str, tuple[str, str]] = {
    "ko": ("HYSMyeongJo-Medium", "HYGothic-Medium"),
    "ja": ("HeiseiMin-W3", "HeiseiKakuGo-W5"),
}
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]+")
# Han, kana, CJK punctuation, full-width forms.
_JAPANESE = re.compile(
    "[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+"
)


@cache
def _cid_font(name: str) -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(name))
    return name


class _Fonts:
    """The fonts of one document.

    Latin text (and everything else outside Hangul and Japanese/Chinese script) is
    set in the embedded TrueType family, so its spacing is exact in every viewer.
    Runs of Hangul and of Japanese/Chinese characters are set in the CID fonts of
    the document's language: for a Korean document Hangul and Hanja in the Korean
    fonts; otherwise kana and kanji in the Japanese fonts and Hangul in the Korean
    ones. Text runs use the serif (Myeongjo / Mincho), headings and labels the
    Gothic.
    """

    def __init__(self, language: str) -> None:
        self.regular, self.bold, _italic = _font_family()
        self.symbol = self.regular  # bullets
        korean, japanese = _CID_FONTS["ko"], _CID_FONTS["ja"]
        han = korean if language == "ko" else japanese
        self._scripts: list[tuple[re.Pattern[str], tuple[str, str]]] = [
            (_HANGUL, korean), (_JAPANESE, han)]
        self._pattern = re.compile("|".join(
            f"(?P<s{i}>{pattern.pattern})" for i, (pattern, _f) in enumerate(self._scripts)))

    def runs(self, text: str, *, strong: bool = False) -> list[tuple[str, str]]:
        """(text, font name) pieces of ``text``, in order."""
        latin = self.bold if strong else self.regular
        pieces: list[tuple[str, str]] = []
        position = 0
        for match in self._pattern.finditer(text):
            if match.start() > position:
                pieces.append((text[position:match.start()], latin))
            text_font, strong_font = self._scripts[int(match.lastgroup[1:])][1]  # type: ignore[index]
            pieces.append((match.group(), _cid_font(strong_font if strong else text_font)))
            position = match.end()
        if position < len(text):
            pieces.append((text[position:], latin))
        return pieces

    def markup(self, text: str, *, strong: bool = False) -> str:
        """Escaped Paragraph markup, each CJK run in a font tag for its font."""
        latin = self.bold if strong else self.regular
        return "".join(escape(piece) if font == latin else
                       f'<font name="{font}">{escape(piece)}</font>'
                       for piece, font in self.runs(text, strong=strong))

    def draw(self, canvas: Any, x: float, y: float, text: str, *, size: float,
             right: bool = False) -> None:
        """Draw one line of mixed-script text on a canvas (the page footer)."""
        pieces = self.runs(text)
        if right:
            x -= sum(pdfmetrics.stringWidth(piece, font, size) for piece, font in pieces)
        for piece, font in pieces:
            canvas.setFont(font, size)
            canvas.drawString(x, y, piece)
            x += pdfmetrics.stringWidth(piece, font, size)


# --- text helpers ----------------------------------------------------------------


def _clean(value: Any) -> str:
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub("", text).replace("\t", " ")


def _markup(value: Any, fonts: _Fonts, *, strong: bool = False) -> str:
    """Text -> Paragraph markup that shows exactly the text, never interprets it."""
    return fonts.markup(_clean(value), strong=strong).replace("\n", "<br/>")


def _safe_url(url: Any) -> str | None:
    cleaned = _clean(url).strip()
    if any(ch.isspace() for ch in cleaned):
        return None
    return cleaned if cleaned.lower().startswith(_SAFE_URL_SCHEMES) else None


def _link_markup(text: Any, url: Any, *, color: str, fonts: _Fonts,
                 strong: bool = False) -> str:
    safe = _safe_url(url)
    if safe is None:
        return _markup(text, fonts, strong=strong)
    href = escape(safe, {'"': "&quot;"})
    return f'<a href="{href}" color="{color}">{_markup(text, fonts, strong=strong)}</a>'


def _ordered(items: Iterable[Any]) -> list[Any]:
    # Stable: items with equal order keep the caller's order.
    return sorted(items, key=lambda item: getattr(item, "order", 0) or 0)


# --- layout ----------------------------------------------------------------------


class _Styles:
    def __init__(self, language: str, labels: Labels) -> None:
        self.labels = labels
        self.fonts = _Fonts(language)
        regular, bold = self.fonts.regular, self.fonts.bold
        # Japanese has no spaces to break lines at: break between any characters
        # (reportlab's CJK wrapping keeps closing punctuation off a line's start).
        wrap = "CJK" if language == "ja" else None
        self.title = ParagraphStyle(
            "OverviewTitle",
            fontName=bold,
            fontSize=22,
            leading=27,
            textColor=_INK,
            spaceAfter=4,
        )
        self.meta = ParagraphStyle(
            "OverviewMeta", fontName=regular, fontSize=9.5, leading=13, textColor=_MUTED
        )
        self.heading = ParagraphStyle(
            "OverviewHeading",
            fontName=bold,
            fontSize=14,
            leading=18,
            textColor=_ACCENT,
            spaceBefore=14,
            spaceAfter=6,
            keepWithNext=1,
        )
        self.body = ParagraphStyle(
            "OverviewBody",
            fontName=regular,
            fontSize=10.5,
            leading=15,
            textColor=_INK,
            alignment=TA_LEFT,
            spaceAfter=6,
        )
        self.bullet = ParagraphStyle("OverviewBullet", parent=self.body, spaceAfter=3)
        self.cell = ParagraphStyle(
            "OverviewCell", fontName=regular, fontSize=9.5, leading=13, textColor=_INK
        )
        self.cell_bold = ParagraphStyle("OverviewCellBold", parent=self.cell, fontName=bold)
        self.cell_note = ParagraphStyle(
            "OverviewCellNote", parent=self.cell, fontSize=8, leading=11, textColor=_MUTED
        )
        if wrap:
            for style in (self.title, self.meta, self.heading, self.body, self.bullet,
                          self.cell, self.cell_bold, self.cell_note):
                style.wordWrap = wrap


def _heading(text: str, styles: _Styles) -> Paragraph:
    paragraph = Paragraph(_markup(text, styles.fonts, strong=True), styles.heading)
    paragraph.outline_title = _clean(text)  # type: ignore[attr-defined]
    return paragraph


def _section_flowables(section: Any, styles: _Styles) -> list[Flowable]:
    flowables: list[Flowable] = [_heading(getattr(section, "title", ""), styles)]
    for block in parse_body(_clean(getattr(section, "body", ""))):
        if isinstance(block, BulletListBlock):
            flowables.append(
                ListFlowable(
                    [
                        ListItem(Paragraph(_markup(item, styles.fonts), styles.bullet),
                                 leftIndent=14)
                        for item in block.items
                    ],
                    bulletType="bullet",
                    start="\u2022",
                    bulletFontName=styles.fonts.symbol,
                    bulletFontSize=11,
                    bulletOffsetY=-1,
                    bulletColor=_ACCENT,
                    leftIndent=14,
                    spaceAfter=6,
                )
            )
        else:
            flowables.append(Paragraph(_markup(block.text, styles.fonts), styles.body))
    return flowables


def _table_style(*, header: bool) -> TableStyle:
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, _RULE),
        ("BOX", (0, 0), (-1, -1), 0.5, _RULE),
    ]
    first_body_row = 1 if header else 0
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), _HEADER_FILL))
    commands.append(("ROWBACKGROUNDS", (0, first_body_row), (-1, -1), [colors.white, _STRIPE_FILL]))
    return TableStyle(commands)


def _links_flowables(links: Iterable[Any], styles: _Styles, width: float) -> list[Flowable]:
    labels = styles.labels
    rows: list[list[Flowable]] = [
        [Paragraph(_markup(labels.link_name, styles.fonts, strong=True), styles.cell_bold),
         Paragraph(_markup(labels.link_description, styles.fonts, strong=True),
                   styles.cell_bold)]
    ]
    accent = _ACCENT.hexval().replace("0x", "#")
    for link in _ordered(links):
        url = getattr(link, "url", "")
        name = _link_markup(getattr(link, "name", ""), url, color=accent, fonts=styles.fonts,
                            strong=True)
        # The address is printed too, so a paper copy still says where to look.
        address = _link_markup(url, url, color=accent, fonts=styles.fonts)
        rows.append(
            [
                Paragraph(name, styles.cell_bold),
                [
                    Paragraph(_markup(getattr(link, "description", ""), styles.fonts),
                              styles.cell),
                    Paragraph(address, styles.cell_note),
                ],
            ]
        )
    if len(rows) == 1:
        return []
    table = Table(rows, colWidths=[width * 0.3, width * 0.7], repeatRows=1)
    table.setStyle(_table_style(header=True))
    return [_heading(labels.references, styles), table]


def _workspace_flowables(
    workspace: Mapping[str, Any],
    workspace_name: str | None,
    styles: _Styles,
    width: float,
) -> list[Flowable]:
    labels = styles.labels
    name = _clean(workspace_name).strip() if workspace_name else ""
    heading = (labels.workspace_heading_named.format(name=name) if name
               else labels.workspace_heading)
    intro = Paragraph(_markup(labels.workspace_intro, styles.fonts), styles.body)
    flowables: list[Flowable] = [_heading(heading, styles), intro]
    rows = [
        [Paragraph(_markup(label, styles.fonts, strong=True), styles.cell_bold),
         Paragraph(_markup(value, styles.fonts), styles.cell)]
        for label, value in workspace.items()
    ]
    if rows:
        table = Table(rows, colWidths=[width * 0.38, width * 0.62])
        table.setStyle(_table_style(header=False))
        flowables.append(table)
    else:
        flowables.append(Paragraph(_markup(labels.workspace_empty, styles.fonts), styles.body))
    # Short enough to read as one block: move it to the next page rather than split it
    # (KeepTogether still splits it when it is longer than a page).
    return [KeepTogether(flowables)]


class _OverviewDocument(SimpleDocTemplate):
    """Adds PDF bookmarks for headings and a footer on every page."""

    def __init__(self, buffer: io.BytesIO, *, footer_text: str, fonts: _Fonts,
                 page_label: str, **kw: Any):
        super().__init__(buffer, **kw)
        self._footer_text = footer_text
        self._fonts = fonts
        self._page_label = page_label
        self._bookmarks = 0

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 - reportlab hook
        outline_title = getattr(flowable, "outline_title", None)
        if outline_title is None:
            return
        self._bookmarks += 1
        key = f"section-{self._bookmarks}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(outline_title or "-", key, level=0, closed=False)

    def draw_footer(self, canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(_MUTED)
        canvas.setStrokeColor(_RULE)
        y = self.bottomMargin - 8 * mm
        canvas.line(self.leftMargin, y + 4 * mm, self.pagesize[0] - self.rightMargin, y + 4 * mm)
        self._fonts.draw(canvas, self.leftMargin, y, self._footer_text, size=8)
        self._fonts.draw(canvas, self.pagesize[0] - self.rightMargin, y,
                         self._page_label.format(number=doc.page), size=8, right=True)
        canvas.restoreState()


def build_overview_pdf(
    *,
    sections: Iterable[SectionLike],
    links: Iterable[LinkLike],
    last_reviewed: date | None,
    workspace: Mapping[str, str] | None = None,
    workspace_name: str | None = None,
    title: str | None = None,
    language: str = DEFAULT_LANGUAGE,
    note: str | None = None,
) -> bytes:
    """Return the Security overview as PDF bytes.

    Sections and links are sorted by ``order``. When ``workspace`` is given (even if
    empty) a final "Your workspace's settings" section lists its label/value pairs,
    headed with ``workspace_name`` when that is provided; without it, the document
    is the same for every client.

    ``language`` picks the labels and fonts (an unknown one gets English labels);
    the content is used as given. Under the title, a line names the version and
    its last-reviewed date, followed by ``note`` when given (e.g. "not yet available
    in Korean; this is the English version").
    """
    language = base_language(language)
    labels = labels_for(language)
    styles = _Styles(language, labels)
    clean_title = _clean(title).strip() if title else ""
    clean_title = clean_title or labels.title
    buffer = io.BytesIO()
    doc = _OverviewDocument(
        buffer,
        footer_text=clean_title,
        fonts=styles.fonts,
        page_label=labels.page,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=22 * mm,
        title=clean_title,
        author="TuneAIBot",
        subject=labels.subject,
        lang=language or DEFAULT_LANGUAGE,
        creator="TuneAIBot",
    )
    width = doc.width

    story: list[Flowable] = [
        Paragraph(_markup(clean_title, styles.fonts, strong=True), styles.title)]
    version = labels.version
    if last_reviewed is not None:
        version = f"{version} · {labels.reviewed(last_reviewed)}"
    story.append(Paragraph(_markup(version, styles.fonts), styles.meta))
    if note:
        story.append(Paragraph(_markup(note, styles.fonts), styles.meta))
    story.append(Spacer(1, 6 * mm))

    for section in _ordered(sections):
        flowables = _section_flowables(section, styles)
        # Keep a heading with its first block so no heading is stranded at a page end.
        story.append(KeepTogether(flowables[:2]))
        story.extend(flowables[2:])

    story.extend(_links_flowables(links, styles, width))

    if workspace is not None:
        story.extend(_workspace_flowables(workspace, workspace_name, styles, width))

    doc.build(story, onFirstPage=doc.draw_footer, onLaterPages=doc.draw_footer)
    return buffer.getvalue()
