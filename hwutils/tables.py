"""Tables for the notebook and the report: rows, results with their yardsticks and final metrics, as HTML and plain text."""

from __future__ import annotations

from hwutils.results import Result, format_number, kind_of, readable_name


def markdown_table(rows: list[dict], columns: dict[str, str]) -> str:
    """A Markdown table of ``rows`` with ``columns`` (``{key: heading}``);
    backslashes, ``|`` and line breaks in cells are escaped so a label (a
    writer name, a word read) cannot break it."""

    def cell(value) -> str:
        text = "" if value is None else str(value)
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or " "

    lines = ["| " + " | ".join(columns.values()) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(k)) for k in columns) + " |" for r in rows]
    return "\n".join(lines)


def _esc(text) -> str:
    import html

    return html.escape(str(text), quote=True)


class HTMLTable:
    """Something a notebook displays as an HTML table (and as plain text
    elsewhere), never as an object repr."""

    def __init__(self, html_text: str, text: str, rows: list[dict] | None = None):
        self._html, self._text = html_text, text
        self.rows = rows  # the rows shown, when made by rows_table

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._text

    __str__ = __repr__


def rows_table(rows: list[dict], title: str = "", formats: dict | None = None) -> HTMLTable:
    """Rows of dicts (one column per key of the first row) as a table for
    the notebook; ``formats`` maps a column to a format string for its float
    cells (``{"log10 LR": "{:+.2f}"}``; others ``{:.3g}``); ``title`` is its caption."""
    formats = formats or {}
    keys = list(rows[0]) if rows else []

    def cell(key, value) -> str:
        if isinstance(value, float):
            return formats.get(key, "{:.3g}").format(value)
        return "" if value is None else str(value)

    head = "".join(f"<th>{_esc(k)}</th>" for k in keys)
    body = "".join(
        "<tr>" + "".join(f"<td>{_esc(cell(k, r.get(k)))}</td>" for k in keys) + "</tr>" for r in rows
    )
    caption = f"<caption style='text-align:left'><b>{_esc(title)}</b></caption>" if title else ""
    html_text = f'{TABLE_STYLE}<table class="hw-table">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    lines = ([title] if title else []) + [" | ".join(keys)]
    lines += [" | ".join(cell(k, r.get(k)) for k in keys) for r in rows]
    return HTMLTable(html_text, "\n".join(lines), rows)


TABLE_STYLE = (
    "<style>.hw-table{border-collapse:collapse;font-size:13px;margin:6px 0}"
    ".hw-table th,.hw-table td{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}"
    ".hw-table td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".hw-table tr.group th{background:#f3f3f3;font-weight:600}"
    ".hw-table .miss{color:#a40000;font-weight:600}.hw-table .tie{color:#7a5200;font-weight:600}</style>"
)


VERDICT_MARKS = {
    "NOT better": '<span class="miss">does not beat its yardstick</span>',
    "tie": '<span class="tie">ties its yardstick (does not beat it)</span>',
}
VERDICT_NOTES = {"NOT better": "; does not beat it", "tie": "; ties it"}  # the plain-text table's words


def result_rows(results) -> list[dict]:
    """Rows of a results table (formatted strings) from Result objects or their dicts."""
    rows = []
    for r in results:
        r = r if isinstance(r, Result) else Result.from_dict(r)
        verdict = r.verdict
        rows.append(
            {
                "group": r.group,
                "result": r.name,
                "value": format_number(r.value, r.kind),
                "yardstick": r.yardstick,
                "yardstick value": format_number(r.yardstick_value, r.kind) if r.yardstick else "",
                "verdict": verdict,
                "note": r.note,
            }
        )
    return rows


def results_html(results, table_class: str = "hw-table hw-results") -> str:
    """The results as an HTML table (grouped; a result that does not beat its
    yardstick is marked in words)."""
    out = [
        f'<table class="{table_class}"><thead><tr><th>result</th><th>value</th>'
        "<th>yardstick</th><th></th><th></th></tr></thead><tbody>"
    ]
    group = None
    for row in result_rows(results):
        if row["group"] and row["group"] != group:
            group = row["group"]
            out.append(f'<tr class="group"><th colspan="5">{_esc(group)}</th></tr>')
        verdict = row["verdict"]
        mark = VERDICT_MARKS.get(verdict, "")
        yard = f"{_esc(row['yardstick'])}: {_esc(row['yardstick value'])}" if row["yardstick"] else ""
        out.append(
            f'<tr><td>{_esc(row["result"])}</td><td class="num">{_esc(row["value"])}</td>'
            f"<td>{yard}</td><td>{mark}</td><td>{_esc(row['note'])}</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def results_table(results) -> HTMLTable:
    """The results with their yardsticks, for the narrative (displays as a table)."""
    rows = result_rows(results)
    text = "\n".join(
        f"{r['result']}: {r['value']}"
        + (
            f" ({r['yardstick']}: {r['yardstick value']}{VERDICT_NOTES.get(r['verdict'], '')})"
            if r["yardstick"]
            else ""
        )
        for r in rows
    )
    return HTMLTable(TABLE_STYLE + results_html(results), text)


def metrics_table(
    metrics: dict, groups: dict[str, list[str]] | None = None, names: dict[str, str] | None = None
) -> HTMLTable:
    """The final metrics as a table grouped by topic, formatted for people
    (percentages with one decimal, seconds, integers). Keys not named in
    ``groups`` go under "other"; keys starting with ``_`` and nested values
    are left out (they stay in metrics.json)."""
    names = names or {}
    scalar = {
        k: v
        for k, v in metrics.items()
        if not str(k).startswith("_") and (isinstance(v, (int, float, str)) or v is None)
    }
    placed: list[tuple[str, list[str]]] = []
    used: set[str] = set()
    for group, keys in (groups or {}).items():
        keys = [k for k in keys if k in scalar]
        used.update(keys)
        if keys:
            placed.append((group, keys))
    rest = [k for k in scalar if k not in used]
    if rest:
        placed.append(("other" if placed else "", rest))
    html_rows, text_rows = [], []
    for group, keys in placed:
        if group:
            html_rows.append(f'<tr class="group"><th colspan="2">{_esc(group)}</th></tr>')
            text_rows.append(f"[{group}]")
        for k in keys:
            v = scalar[k]
            shown = v if isinstance(v, str) else format_number(v, kind_of(k, v))
            label = names.get(k, readable_name(k))
            html_rows.append(f'<tr><td>{_esc(label)}</td><td class="num">{_esc(shown)}</td></tr>')
            text_rows.append(f"  {label}: {shown}")
    html_text = (
        TABLE_STYLE + '<table class="hw-table hw-metrics"><tbody>' + "".join(html_rows) + "</tbody></table>"
    )
    return HTMLTable(html_text, "\n".join(text_rows))
