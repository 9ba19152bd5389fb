"""The shared story as Markdown, as HTML (the timeline page and the PDF), and as a PDF.

The charts are small SVGs drawn here from the story's own figures: plot twists
per month, and per chapter the commitments kept and broken, the plot twists
and the tensions. The PDF is WeasyPrint's rendering of the same HTML with a
print stylesheet (A4, page numbers); WeasyPrint is imported only when a PDF is
asked for.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import jinja2

from coauthor.reports.formatting import format_date
from coauthor.services.story import Chapter, EntryKind, Story

TEMPLATES = Path(__file__).parent / "templates"
INK = "#1f2a30"
SOFT = "#5b6b73"
ACCENT = "#2f7f7f"
WARN = "#b86a12"
LINE = "#d8dee2"


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: list[int]


def _legend(series: Sequence[Series], y: int) -> str:
    parts, x = [], 0
    for item in series:
        parts.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{item.colour}"/>'
            f'<text x="{x + 14}" y="{y}" font-size="11" fill="{SOFT}">{escape(item.name)}</text>'
        )
        x += 24 + 7 * len(item.name)
    return "".join(parts)


def column_chart(
    labels: Sequence[str], series: Sequence[Series], title: str, width: int = 640
) -> str:
    """Grouped columns, one group per label, with a legend; an accessible SVG."""
    height, top, bottom, left = 220, 28, 40, 28
    plot_h = height - top - bottom
    peak = max([v for s in series for v in s.values] + [1])
    group_w = (width - left) / max(len(labels), 1)
    bar_w = max(min(group_w * 0.8 / max(len(series), 1), 28), 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="story-chart">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="{LINE}"/>',
        f'<text x="0" y="{top + 4}" font-size="10" fill="{SOFT}">{peak}</text>',
        f'<text x="0" y="{top + plot_h}" font-size="10" fill="{SOFT}">0</text>',
    ]
    every = max(1, len(labels) // 12)
    for index, label in enumerate(labels):
        x0 = left + index * group_w + (group_w - bar_w * len(series)) / 2
        for offset, item in enumerate(series):
            value = item.values[index]
            h = plot_h * value / peak
            x = x0 + offset * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{item.colour}"><title>{escape(label)}: {value} '
                f"{escape(item.name.lower())}</title></rect>"
            )
        if index % every == 0:
            parts.append(
                f'<text x="{left + index * group_w + group_w / 2:.1f}" y="{top + plot_h + 14}" '
                f'font-size="10" text-anchor="middle" fill="{SOFT}">{escape(label)}</text>'
            )
    parts.append(f'<g transform="translate({left},{height - 8})">{_legend(series, 0)}</g>')
    parts.append("</svg>")
    return "".join(parts)


def _short_month(key: str) -> str:
    year, month = key.split("-")
    return f"{calendar.month_abbr[int(month)]} {year[2:]}"


def twists_chart(story: Story) -> str:
    per_month = story.metrics.per_month
    if not per_month:
        return ""
    labels = [_short_month(key) for key in per_month]
    series = [Series("Plot twists", ACCENT, list(per_month.values()))]
    return column_chart(labels, series, "Plot twists raised per month")


def _short_chapter(chapter: Chapter) -> str:
    return chapter.title.split(":")[0].split(" (")[0]


def chapters_chart(story: Story) -> str:
    if not story.chapters:
        return ""
    labels = [_short_chapter(c) for c in story.chapters]

    def counts(kind: EntryKind) -> list[int]:
        return [c.count(kind) for c in story.chapters]

    series = [
        Series("Commitments kept", ACCENT, counts(EntryKind.KEPT)),
        Series("Broken", WARN, counts(EntryKind.BROKEN)),
        Series("Plot twists", "#6b8fb5", counts(EntryKind.PLOT_TWIST)),
        Series("Tensions", "#9b6bb5", counts(EntryKind.TENSION)),
    ]
    return column_chart(labels, series, "What each chapter holds")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} hours" if value < 48 else f"{value / 24:.1f} days"


def glance(story: Story) -> list[tuple[str, str]]:
    """The figures at the head of the story, as (what, value)."""
    f = story.metrics
    spread = "—" if f.partner_spread is None else f"{f.partner_spread:.2f}"
    return [
        ("Plot twists raised", str(f.plot_twists)),
        ("… with a response", f"{f.with_response} ({_percent(f.share_with_response)})"),
        ("Median time to the first response", _hours(f.median_hours_to_first_response)),
        ("Spread of who raises them (0 one partner – 1 all alike)", spread),
        ("Tensions named", str(f.tensions)),
        ("… engaged and resolved", str(f.tensions_engaged_and_resolved)),
        ("… open for more than 30 days", str(len(f.tensions_open_past_limit))),
        ("Experiments run", str(f.experiments_run)),
        ("… ended with a learning", str(f.experiments_ended_with_learning)),
        ("Commitments kept", str(story.kept)),
        ("Commitments broken (reneged)", str(story.broken)),
    ]


def to_markdown(story: Story) -> str:
    """The story as Markdown: title, figures, the charter, then each chapter's entries."""
    a = story.alliance
    lines = [f"# The story of {a.name}", ""]
    if a.purpose:
        lines += [f"> {line}" if line.strip() else ">" for line in a.purpose.splitlines()]
        lines.append("")
    lines += [
        f"Composed on {format_date(story.composed_at.date())}, in chapters by "
        f"{story.chaptering.value}.",
        "",
        "## At a glance",
        "",
        "| | |",
        "| --- | --- |",
    ]
    lines += [f"| {what} | {value} |" for what, value in glance(story)]
    lines.append("")
    if story.charter:
        lines += ["## The charter", ""] + [f"- {clause}" for clause in story.charter] + [""]
    for chapter in story.chapters:
        lines += [f"## {chapter.title}", ""]
        for entry in chapter.entries:
            lines.append(
                f"### {entry.label}: {entry.title} ({format_date(entry.at.date())})".replace(
                    "\n", " "
                )
            )
            lines.append("")
            lines += [f"- {detail}" for detail in entry.details]
            if entry.details:
                lines.append("")
    if not story.chapters:
        lines += ["Nothing has been recorded yet.", ""]
    return "\n".join(lines)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = format_date
    return env


def to_html(story: Story) -> str:
    """A standalone HTML document of the story, styled for print (the PDF's source)."""
    template = _environment().get_template("story.html")
    return template.render(
        story=story,
        glance=glance(story),
        twists_chart=twists_chart(story),
        chapters_chart=chapters_chart(story),
    )


def pdf_document(story: Story) -> Any:
    """WeasyPrint's laid-out document (its ``pages``; ``write_pdf()`` gives the bytes)."""
    from weasyprint import HTML

    return HTML(string=to_html(story)).render()


def to_pdf(story: Story) -> bytes:
    return pdf_document(story).write_pdf()
