"""Command extraction on recorded real shell sessions: found, judged without having run, output.

Run ``python -m bench transcripts``. Prints JSON lines.

The recordings (``tests/unit/transcript/recordings``, made by ``python -m
ssm_warden_local.recorder``) are real bash, bash-as-sh, dash and zsh sessions with the prompts of
Amazon Linux, Ubuntu, a time prompt, a λ prompt, oh-my-zsh and starship-like themes, typed with
Ctrl-C, double Tab, long lines past the width, Ctrl-A inserts, bracketed pastes, history expansion,
here-documents, ``PS2=''`` and ``cat``/``printf`` of prompt-like text; what each shell really ran
comes from the shell itself (history, ``preexec``, ``strace`` of dash's reads). Each is measured in
every input form (streamed events through the agent model one PutLogEvents call per invocation,
the S3 ``script`` transcript, non-streamed CloudWatch events), and by group of shell and prompt
(generalisation: a group's prompt is never a first guess of another's).

Figures: ``found`` (share of the commands that ran), ``never_ran`` (commands judged that no shell
ran), ``output_taken`` (of those, lines that were screen output). Targets: found >= 0.95,
never_ran = 0, output_taken = 0.

The program sessions (group ``programs``: ``vim``'s ``:!``, ``less``'s ``!``, ``python3``'s
``os.system``, ``sqlite3``'s ``.shell``, a real ``tmux`` server with two windows, ``script``'s
inner shell; truth from ``strace`` of what those programs ran and read, and the inner shells'
history) are reported apart (``transcripts_programs_*``), with ``unwatchable_flagged``: the
``unwatchable:<program>` flags raised of those the sessions must raise.
"""

from __future__ import annotations

import json

from ssm_warden_local.transcript_eval import Score, summary


def _flagged(score: Score) -> str:
    return f"{score.flags_expected - len(score.flags_missing)}/{score.flags_expected}"


def _row(kind: str, name: str, score: Score, prefix: str = "transcripts") -> dict[str, object]:
    return {
        "figure": f"{prefix}_{kind}",
        kind: name,
        "ran": score.ran,
        "found": round(score.recall, 3),
        "judged": score.judged,
        "never_ran": len(score.never_ran),
        "output_taken": len(score.output_taken),
        "missed": score.missed[:5],
        **({"unwatchable_flagged": _flagged(score)} if score.flags_expected else {}),
    }


def main() -> None:
    result = summary(programs=False)
    total = Score()
    for form, score in result["by_form"].items():
        total.add(score)
        print(json.dumps(_row("form", form, score), ensure_ascii=False))
    for group, score in sorted(result["by_group"].items()):
        print(json.dumps(_row("group", group, score), ensure_ascii=False))
    print(
        json.dumps(
            {**_row("form", "all", total), "target_found": 0.95, "target_never_ran": 0}, ensure_ascii=False
        )
    )
    programs = summary(programs=True)
    for form, score in programs["by_form"].items():
        print(json.dumps(_row("form", form, score, "transcripts_programs"), ensure_ascii=False))
    for name, form, score in programs["rows"]:
        row = _row("session", name, score, "transcripts_programs")
        print(json.dumps({**row, "form": form, "never_ran_texts": score.never_ran[:3]}, ensure_ascii=False))
