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
"""

from __future__ import annotations

import json

from ssm_warden_local.transcript_eval import Score, summary


def _row(kind: str, name: str, score: Score) -> dict[str, object]:
    return {
        "figure": f"transcripts_{kind}",
        kind: name,
        "ran": score.ran,
        "found": round(score.recall, 3),
        "judged": score.judged,
        "never_ran": len(score.never_ran),
        "output_taken": len(score.output_taken),
        "missed": score.missed[:5],
    }


def main() -> None:
    result = summary()
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
