"""An evaluation table as an .xlsx workbook laid out the way a city office prints it: a title
row, the period and units, a header, one row per unit in rank order, a totals row (distinct
cases of the whole kind) and the time the table was made; landscape, fit to one page wide."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from engine.evaluation.compute import KindResult
from engine.evaluation.labels import KIND_LABELS, METRIC_LABELS, RATE_LABELS, WORDS, pick
from engine.evaluation.metrics import COLUMNS

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def header(result: KindResult, lang: str) -> list[str]:
    metrics, rates = COLUMNS[result.kind]
    return [pick(WORDS["rank"], lang), pick(KIND_LABELS[result.kind], lang), pick(WORDS["code"], lang),
            *[pick(METRIC_LABELS[m], lang) for m in metrics], *[pick(RATE_LABELS[r], lang) for r in rates],
            pick(WORDS["score"], lang), pick(WORDS["grade"], lang)]


def rows(result: KindResult, lang: str) -> list[list[object]]:
    """The body rows and, last, the totals row (as the pages show them)."""
    metrics, rates = COLUMNS[result.kind]
    out: list[list[object]] = []
    for u in result.units:
        out.append([u.rank, u.name, u.key, *[u.counts[m] for m in metrics], *[u.rates[r] for r in rates],
                    u.score, u.grade])
    t = result.total
    out.append([pick(WORDS["total"], lang), "", "", *[t.counts[m] for m in metrics], *[t.rates[r] for r in rates],
                None, None])
    return out


def workbook(results: list[KindResult], tz: str, made: datetime, lang: str = "zh") -> bytes:
    """One sheet per kind; the bytes of the .xlsx file."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for result in results:
        _sheet(wb, result, tz, made, lang)
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet(wb: Workbook, result: KindResult, tz: str, made: datetime, lang: str) -> None:
    ws = wb.create_sheet(pick(KIND_LABELS[result.kind], lang))
    head = header(result, lang)
    width = len(head)
    title = f"{pick(WORDS['title'], lang)}（{pick(KIND_LABELS[result.kind], lang)}）"
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    zone = ZoneInfo(tz)
    first = result.period.start.astimezone(zone).date()
    last = (result.period.end.astimezone(zone) - timedelta(days=1)).date()
    ws.append([f"{pick(WORDS['period'], lang)}：{result.period.label}（{first.isoformat()} – {last.isoformat()}）",
               *[""] * (width - 2), pick(WORDS["unit_note"], lang)])
    ws.append(head)
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows(result, lang):
        ws.append(row)
    last_row = ws.max_row
    for cell in ws[last_row]:
        cell.font = Font(bold=True)
    metrics, rates = COLUMNS[result.kind]
    first_rate = 4 + len(metrics)  # rank, name, code, counts…, then the rates and the score
    for r in ws.iter_rows(min_row=3, max_row=last_row, max_col=width):
        for cell in r:
            cell.border = _BOX
            if cell.row > 3 and first_rate <= cell.column < first_rate + len(rates) + 1:
                cell.number_format = "0.00"
    ws.append([f"{pick(WORDS['made'], lang)}：{made.astimezone(zone):%Y-%m-%d %H:%M}"])
    for i in range(1, width + 1):
        ws.column_dimensions[get_column_letter(i)].width = 22 if i == 2 else 11
    ws.freeze_panes = "D4"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


__all__ = ["header", "rows", "workbook"]
