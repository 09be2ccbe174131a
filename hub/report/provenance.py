"""How a reader proves the report: the audit commands behind its figures, and the ledger head it was read at."""

from __future__ import annotations

from hub.report.figures import Figures
from hub.report.headline import FLOWS
from hub.report.language import TEXT, Lang


def audit_command(f: Figures, **filters: str) -> str:
    """The `hub audit list` command that lists the records behind a figure of this period."""
    opts = "".join(f" --{k} {v}" for k, v in filters.items())
    return f"hub audit list --from {f.period.first} --to {f.period.last}{opts}"


def checks(f: Figures, lang: Lang) -> list[str]:
    """One line per way to check the report, with the exact commands."""
    words = TEXT[lang]
    out = [words["check_verify"]]
    for kind, (_, _, nouns_en, nouns_fr) in FLOWS.items():
        command = audit_command(f, kind=kind, decision="delivered")
        out.append(words["check_list"].format(command=command, what=(nouns_en if lang == "en" else nouns_fr)[1]))
    out.append(words["check_list"].format(command=audit_command(f), what=words["all_records"]))
    out.append(words["head"].format(seq=f.head[0], hash=f.head[1]))
    return out
