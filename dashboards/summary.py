"""The bulletin's plain-language summary: the hypervisor's figures in four sentences an
elected official can read aloud, in French and in English (lighting, water, open alerts, and
the platform's latest daily carbon balance, manufacturing included, with its range). Pure:
it reads the rows of the panels that carry a ``key``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboards.charts import number
from dashboards.spec import Dashboard
from vigie.contracts.alerts import KIND_TEXT, AlertKind

Rows = list[dict[str, Any]]


def _total(rows: Rows | None) -> float | None:
    """The sum of a panel's numbers; None when it has none."""
    values = [
        float(v)
        for r in rows or []
        for k, v in r.items()
        if k != "time" and isinstance(v, int | float) and not isinstance(v, bool)
    ]
    return sum(values) if values else None


def _change(now: float, before: float | None, lang: str) -> str:
    if not before:
        return ""
    pct = round((now - before) / before * 100)
    if lang == "fr":
        if pct == 0:
            return ", autant que les mêmes 24 heures de la semaine précédente"
        way = "de moins" if pct < 0 else "de plus"
        return f", {abs(pct)} % {way} que les mêmes 24 heures de la semaine précédente"
    if pct == 0:
        return ", as much as the same 24 hours a week earlier"
    way = "less" if pct < 0 else "more"
    return f", {abs(pct)} % {way} than the same 24 hours a week earlier"


# what was measured over the last 24 hours ({} is the figure), and what to say without it
SAID = {
    "lighting": {
        "fr": ("L'éclairage public a consommé {} kWh ces dernières 24 heures",
               "Aucune consommation d'éclairage public n'a été mesurée ces dernières 24 heures."),
        "en": ("Public lighting used {} kWh over the last 24 hours",
               "No public lighting energy was measured over the last 24 hours."),
    },
    "water": {
        "fr": ("Le réseau a distribué {} m³ d'eau ces dernières 24 heures",
               "Aucun volume d'eau distribué n'a été mesuré ces dernières 24 heures."),
        "en": ("The network distributed {} m³ of water over the last 24 hours",
               "No water distribution was measured over the last 24 hours."),
    },
}  # fmt: skip


def _measured(what: str, now: float | None, before: float | None, lang: str) -> str:
    sentence, nothing = SAID[what][lang]
    if now is None:
        return nothing
    return sentence.format(number(now, lang)) + f"{_change(now, before, lang)}."


def _cycled(now: float | None, year_ago: float | None, lang: str) -> list[str]:
    """Bicycles counted over the last 24 hours against the same weekday a year earlier; said
    only by a territory whose counters counted some."""
    if not now:
        return []
    said = {
        "fr": f"Les compteurs ont vu passer {number(now, lang)} vélos ces dernières 24 heures",
        "en": f"Counters saw {number(now, lang)} bicycles over the last 24 hours",
    }[lang]
    if year_ago:
        pct = round((now - year_ago) / year_ago * 100)
        said += {
            "fr": f", {abs(pct)} % {'de moins' if pct < 0 else 'de plus'} que le même jour "
            "de la semaine un an plus tôt",
            "en": f", {abs(pct)} % {'fewer' if pct < 0 else 'more'} than on the same weekday "
            "a year earlier",
        }[lang]
    return [said + "."]


def _alerts(rows: Rows | None, lang: str) -> str:
    by_kind: dict[str, int] = {}
    for r in rows or []:
        count = _total([{k: v for k, v in r.items() if k != "kind"}]) or 0
        if r.get("kind") in set(AlertKind) and count > 0:
            by_kind[str(r["kind"])] = by_kind.get(str(r["kind"]), 0) + round(count)
    total = sum(by_kind.values())
    if not total:
        return {
            "fr": "Aucune alerte n'est ouverte.",
            "en": "No alert is open.",
        }[lang]
    top = sorted(by_kind.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    names = KIND_TEXT[lang]
    listed = [f"{names[AlertKind(k)]} ({n})" for k, n in top]
    if lang == "fr":
        if total == 1:
            return f"Une alerte est ouverte : {listed[0]}."
        return f"{total} alertes sont ouvertes ; les plus nombreuses : {' et '.join(listed)}."
    if total == 1:
        return f"One alert is open: {listed[0]}."
    return f"{total} alerts are open; the most frequent: {' and '.join(listed)}."


BOUNDS = ("low", "middle", "high")  # the net balance panel's columns, kg CO2e


def _balance(rows: Rows | None, lang: str) -> str:
    """The latest day's net balance in kg CO2e (rows of low, middle, high per day)."""
    days = [r for r in rows or [] if all(isinstance(r.get(k), int | float) for k in BOUNDS)]
    if not days:
        return {
            "fr": "Aucun bilan carbone journalier n'a encore été calculé.",
            "en": "No daily carbon balance has been computed yet.",
        }[lang]
    low, mid, high = (float(days[-1][k]) for k in BOUNDS)
    size, a, b = number(abs(mid), lang), number(low, lang), number(high, lang)
    if lang == "fr":
        if mid >= 0:
            said = f"les économies permises par la plateforme dépassent son empreinte de {size}"
        else:
            said = f"l'empreinte de la plateforme dépasse les économies qu'elle permet de {size}"
        return f"Au dernier bilan journalier, fabrication comprise, {said} kg CO2e (de {a} à {b})."
    if mid >= 0:
        said = f"the savings the platform enabled outweigh its own footprint by {size}"
    else:
        said = f"the platform's own footprint outweighs the savings it enabled by {size}"
    return f"On the latest daily balance, manufacturing included, {said} kg CO2e ({a} to {b})."


def summary(
    dashboards: Sequence[Dashboard], results: Mapping[tuple[str, str], Rows]
) -> dict[str, list[str]]:
    """Four sentences per language (five where counters counted bicycles), or none when no
    dashboard carries the keyed panels."""
    keyed = {p.key: results.get((d.uid, p.title)) for d in dashboards for p in d.panels if p.key}
    if not keyed:
        return {}
    figures = {k: _total(rows) for k, rows in keyed.items() if k.endswith(("_24h", "_ago"))}
    return {
        lang: [
            _measured(what, figures.get(f"{what}_24h"), figures.get(f"{what}_week_ago"), lang)
            for what in ("lighting", "water")
        ]
        + _cycled(figures.get("bicycles_24h"), figures.get("bicycles_year_ago"), lang)
        + [
            _alerts(keyed.get("open_alerts"), lang),
            _balance(keyed.get("net_co2e"), lang),
        ]
        for lang in ("fr", "en")
    }
