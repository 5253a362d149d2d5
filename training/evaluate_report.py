"""The evaluation report as readable Markdown tables (the README and docs/evaluation.md hold them)."""

from __future__ import annotations

from typing import Any

from training.metrics import METRICS

METRIC_LABELS = {
    "pitch_class_entropy": "PC entropy",
    "scale_consistency": "scale cons.",
    "groove_consistency": "groove cons.",
    "note_density": "notes/s",
    "pitch_range": "pitch range",
}


def format_report(report: dict[str, Any]) -> str:
    """Every table the report has data for, separated by blank lines."""
    sections = [_likelihood_table(report), _music_tables(report), _originality_table(report)]
    return "\n\n".join(s for s in sections if s)


def _f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _likelihood_table(report: dict[str, Any]) -> str:
    models = {n: m for n, m in report["models"].items() if "per_genre" in m}
    if not models:
        return ""
    names = list(models)
    genres = list(next(iter(models.values()))["per_genre"])
    s = report["settings"]
    head = f"Test-split likelihood: {s['windows_per_genre']} windows of {s['seq_len']} tokens per genre (seed {s['seed']}), the same for every model."
    cols = " | ".join(f"{n} bits/note" for n in names) + " | " + " | ".join(f"{n} bits/token" for n in names)
    lines = [head, "", f"| genre | {cols} | notes |", "|---|" + "---:|" * (2 * len(names) + 1)]
    for g in [*genres, None]:
        rows = [models[n] if g is None else models[n]["per_genre"][g] for n in names]
        label = "**all**" if g is None else g
        cells = [_f(r["bits_per_note"]) for r in rows] + [_f(r["bits_per_token"]) for r in rows]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {rows[0]['notes']:,} |")
    if len(names) >= 2:
        a, b = models[names[0]]["bits_per_note"], models[names[1]]["bits_per_note"]
        lines.append("")
        gain = 100 * (b - a) / b
        lines.append(
            f"{names[0]} needs {abs(gain):.1f} % {'fewer' if gain >= 0 else 'more'} bits per note than {names[1]} (overall)."
        )
    return "\n".join(lines) + _kinds_table(models)


def _kinds_table(models: dict[str, Any]) -> str:
    """Where the bits per note go, by token kind (overall), for every model side by side."""
    kinds = sorted({k for m in models.values() for k in m.get("bits_per_note_by_kind", {})})
    if not kinds:
        return ""
    names = list(models)
    lines = [
        "",
        "",
        "Bits per note by token kind (overall; each column adds up to the model's bits per note).",
        "",
        "| token kind | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for k in kinds:
        cells = [_f(models[n].get("bits_per_note_by_kind", {}).get(k)) for n in names]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    repeats = {n: models[n]["repeated_notes"] for n in names if "repeated_notes" in models[n]}
    if repeats:
        share = next(iter(repeats.values()))["share"]
        lines += [
            "",
            f"Pitch bits of the {100 * share:.1f} % of notes that repeat the window's earlier material (the three "
            "pitches before them came earlier, followed by the same pitch) vs the other notes: "
            + "; ".join(
                f"{n} {_f(r['pitch_bits'])} vs {_f(r['pitch_bits_other'])}" for n, r in repeats.items()
            )
            + ".",
        ]
    return "\n".join(lines)


def _music_tables(report: dict[str, Any]) -> str:
    out = []
    for name, m in report["models"].items():
        if "music" not in m:
            continue
        s = report["settings"]
        head = (
            f"Music metrics, {name}: {s['samples_per_genre']} sampled pieces of {s['seconds']:g} s per genre vs up to "
            f"{s['real_per_genre']} held-out real excerpts of the same length. Cells: generated mean / real mean (overlapped area)."
        )
        lines = [
            head,
            "",
            "| genre | " + " | ".join(METRIC_LABELS[k] for k in METRICS) + " |",
            "|---|" + "---:|" * len(METRICS),
        ]
        for genre, metrics in m["music"].items():
            cells = [_cell(metrics[k]) for k in METRICS]
            lines.append(f"| {genre} | " + " | ".join(cells) + " |")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _cell(c: dict[str, float | None]) -> str:
    return f"{_f(c['generated_mean'], 2)} / {_f(c['real_mean'], 2)} ({_f(c['overlap'], 2)})"


def _n(notes: float | None, floor: int) -> str:
    """A run length in notes; below the index's floor only "shorter than the floor" is certain."""
    return "–" if notes is None else f"<{floor}" if notes < floor else f"{notes:.0f}"


def _originality_table(report: dict[str, Any]) -> str:
    rows = [(n, m["originality"]) for n, m in report["models"].items() if "originality" in m]
    if "real_test_pieces" in report:
        rows.append(("held-out real pieces", report["real_test_pieces"]["originality"]))
    if not rows:
        return ""
    floor = rows[0][1]["floor_notes"]
    lines = [
        f"Originality: longest run of top-line notes (intervals + onsets) found in a training piece; runs of {floor}+ notes "
        "always found with their exact length.",
        "",
        "| pieces of | n | median notes | p90 notes | max notes | median bars | max bars | <1 | 1-2 | 2-4 | 4-8 | >=8 bars |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, o in rows:
        h = list(o["bars_histogram"].values())
        nd, bd = o["notes"], o["bars"]
        lines.append(
            f"| {name} | {o['pieces']} | {_n(nd['median'], floor)} | {_n(nd['p90'], floor)} | {_n(nd['max'], floor)} | "
            f"{_f(bd['median'], 1)} | {_f(bd['max'], 1)} | " + " | ".join(str(c) for c in h) + " |"
        )
    for name, o in rows:
        for f in o["flagged"]:
            lines.append(
                f"- {name}: {f['genre']} `{f['piece']}` copies {f['notes']} notes ({f['bars']} bars) of `{f['train_piece']}`"
            )
    return "\n".join(lines)
