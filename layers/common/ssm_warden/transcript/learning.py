"""Learning a session's prompt from its own lines (the ``Extractor``'s part that does it).

A prompt is learned from a doubled first line, a common shape confirmed by the session, the value
of a ``PS1=`` typed in it, or a prefix that keeps starting lines (then the lines it started before
are commands too, even in an earlier invocation: ``held``). After ``cd`` the prompt is followed
(one word made variable), nothing new learned. A new prompt that no shell start explains is learned
too, but flagged and its commands of low confidence.
"""

from __future__ import annotations

import re

from ssm_warden.shells import Shell
from ssm_warden.transcript import prompts, windows
from ssm_warden.transcript.batch import PROMPT_END
from ssm_warden.transcript.model import PROMPT_CHANGED, Command, Extracted, WatchState

MAX_PROMPTS = 3  # learned prompts kept (a nested shell adds one; exiting it goes back)
MAX_CANDIDATES = 8
MAX_HELD = 4  # lines kept that an unconfirmed prompt started
LEARN_EXPECTED = 2  # lines an unknown prompt must start when a new prompt is expected
LEARN_UNEXPECTED = 3  # ... and when nothing explains a new prompt
RETRO_INDEX = 100_000  # index offset of commands found once their prompt was learned

Hit = tuple[int, str, str, Shell]  # a prompt's length, how it was recognised, confidence, shell


class PromptLearning:
    _s: WatchState
    result: Extracted
    _at: int
    _event_first: bool
    _compiled_key: tuple[str, ...]
    _compiled: list[re.Pattern[str]]

    def _match_current(self, text: str) -> tuple[int, int] | None:
        """(length, index in ``prompts``) of the learned prompt ``text`` starts with."""
        key = tuple(self._s.prompts)
        if key != self._compiled_key:
            self._compiled_key, self._compiled = key, [prompts.compiled(p) for p in key]
        for k, pattern in enumerate(self._compiled):
            m = pattern.match(text)
            if m is not None and (m.end() < len(text) or text.strip() == m.group().strip()):
                return m.end(), k
        return None

    def _prompt(self, text: str, ready: bool) -> Hit | None:
        """The prompt ``text`` starts with: (length, how, confidence, shell), or None (output)."""
        s = self._s
        if s.program and s.program in prompts.PROGRAMS:
            m = prompts.compiled(prompts.PROGRAMS[s.program]).match(text)
            if m is not None:
                return m.end(), s.program, "medium", "posix"
        found = self._match_current(text)
        if found is not None:
            length, k = found
            if k:  # back in an outer shell: its prompt, and its kind of shell, are current again
                shells = _aligned(s.shells, len(s.prompts))
                s.prompts.insert(0, s.prompts.pop(k))
                shells.insert(0, shells.pop(k))
                s.shells, s.shell = shells, shells[0]
            if s.program:
                s.program = None  # the shell's prompt is back
            if s.expect_prompt and s.shell == "posix":
                # a shell just started shows a prompt already known (``bash``, ``script``, tmux's
                # inner shell): nothing new to learn, and a file it shows next is output
                s.expect_prompt = 0
            if s.shell != "posix":
                # a Windows prompt seen again: the location did not change (``cd .``, a failed
                # ``cd``) or the new shell's prompt is known; nothing to learn from the output after
                s.expect_prompt = s.follow_cd = 0
            return length, s.how or "prompt", self._trust(s.prompts[0]), s.shell
        if s.expect_prompt or not s.prompts:
            return self._learn_expected(text, ready)
        if s.follow_cd:
            found_cd = self._follow_cd(text)
            if found_cd is not None:
                return found_cd
        if self._event_first or ready:
            if s.shell != "posix" and windows.prints_text(s.last_command):
                return None  # a Windows prompt changes by a command only: a file's lines after ``type``
            return self._learn_unexpected(text)
        return None

    def _follow_cd(self, text: str) -> Hit | None:
        s = self._s
        s.follow_cd -= 1
        if s.shell != "posix":
            return self._follow_location(text)
        widened = prompts.widen(s.prompts[0], s.sample, text) if s.sample and s.prompts else None
        if widened is None:
            return None
        s.prompts[0] = widened
        m = prompts.compiled(widened).match(text)
        if m is None:
            return None
        s.sample = text[: m.end()][:120]
        return m.end(), s.how or "prompt", self._trust(widened), s.shell

    def _follow_location(self, text: str) -> Hit | None:
        """A Windows prompt after a location change: the next prompt of the same shell's form is
        the current prompt now, in place of the old one (which no longer starts input lines)."""
        s = self._s
        prompt = windows.known_prompt(text, s.shell)
        if prompt is None:
            return None
        s.prompts[0] = windows.shape(prompt)
        s.sample = prompt[:120]
        s.follow_cd = 0
        return len(prompt), s.how or "prompt", self._trust(s.prompts[0]), s.shell

    def _learn_expected(self, text: str, ready: bool) -> Hit | None:
        s = self._s
        if s.sample and s.prompts and s.shell == "posix":
            widened = prompts.widen(s.prompts[0], s.sample, text)
            if widened is not None:
                s.prompts[0] = widened
                m = prompts.compiled(widened).match(text)
                if m is not None:
                    s.sample = text[: m.end()][:120]
                    s.expect_prompt = 0
                    return m.end(), s.how or "prompt", self._trust(widened), s.shell
        double = prompts.doubled(text)
        if double is not None:
            self._learn(double, "doubled first prompt", "posix")
            return len(double), s.how, "high", s.shell
        guess = prompts.first_guess(text)
        if guess is not None:
            prompt, shell = guess
            bare = prompt in prompts.BARE
            if bare and not prompts.plausible_command(text[len(prompt) :]):
                return None
            self._learn(prompt, "first-guess prompt", shell)
            return len(prompt), s.how, "medium" if bare and not ready else "high", shell
        return self._count_candidates(text, LEARN_EXPECTED, expected=True)

    def _learn_unexpected(self, text: str) -> Hit | None:
        if PROMPT_END.search(text, 0, 100) is None:
            return None  # no prompt-ending character: not a prompt line (the cheap test first)
        return self._count_candidates(text, LEARN_UNEXPECTED, expected=False)

    def _count_candidates(self, text: str, needed: int, *, expected: bool) -> Hit | None:
        s = self._s
        options = prompts.candidates(text)
        guess = prompts.first_guess(text)
        if guess is not None and guess[0] not in options:
            options.append(guess[0])
        best: str | None = None
        for prompt in options:
            shape = _shape(prompt, guess[1] if guess is not None and guess[0] == prompt else "posix")
            count = s.candidates.get(shape, 0) + 1
            s.candidates[shape] = count
            if count < needed and len(s.held) < MAX_HELD:
                event_id, number = self.result.locate(self._at)
                s.held.append((shape, event_id, number, text[len(prompt) :].strip()[:300]))
            if count >= needed and best is None and _could_be_prompt(prompt, text, expected=expected):
                best = prompt
        if len(s.candidates) > MAX_CANDIDATES:
            for weakest in sorted(s.candidates, key=lambda k: s.candidates[k])[
                : len(s.candidates) - MAX_CANDIDATES
            ]:
                del s.candidates[weakest]
        if best is None:
            return None
        if not expected:
            if PROMPT_CHANGED not in s.flags:
                s.flags.append(PROMPT_CHANGED)
            if PROMPT_CHANGED not in self.result.flags:
                self.result.flags.append(PROMPT_CHANGED)
        shell: Shell = guess[1] if guess is not None and guess[0] == best else "posix"
        self._learn(best, "repeated prompt" if expected else "prompt changed unexplained", shell)
        self._confirm(_shape(best, shell), "high" if expected else "low")
        if not expected:
            s.untrusted = [s.prompts[0], *s.untrusted][:MAX_PROMPTS]
        return len(best), s.how, "high" if expected else "low", shell

    def _confirm(self, shape: str, confidence: str) -> None:
        """A prompt just learned by repetition: the earlier lines it started (in this invocation or
        an earlier one) were command lines, reported apart from the commands found in order."""
        result = self.result
        here = dict(zip(result.event_ids, result.event_starts, strict=True))
        current = result.locate(self._at)
        for held_shape, event_id, number, command in self._s.held:
            if held_shape != shape or (event_id, number) == current:
                continue
            if not command or not (prompts.plausible_command(command) or windows.plausible_command(command)):
                continue
            if event_id in here:
                result.lines[here[event_id] + number] = ""  # no longer output
            result.commands.append(
                Command(
                    command,
                    event_id,
                    RETRO_INDEX + number,
                    "repeated prompt, found once learned",
                    confidence,
                    self._s.shell,
                )
            )
        self._s.held = []

    def _trust(self, shape: str) -> str:
        return "low" if shape in self._s.untrusted else "high"

    def _learn(self, prompt: str, how: str, shell: Shell, shape: str | None = None) -> None:
        s = self._s
        shape = shape or _shape(prompt, shell)
        shells = _aligned(s.shells, len(s.prompts))
        kept = [(p, sh) for p, sh in zip(s.prompts, shells, strict=True) if p != shape]
        pairs = [(shape, shell), *kept][:MAX_PROMPTS]
        s.prompts = [p for p, _ in pairs]
        s.shells = [sh for _, sh in pairs]
        s.sample = prompt[:120]
        s.how, s.shell = how, shell
        if not how.startswith(("repeated", "prompt changed")):
            s.held = []
        s.expect_prompt = 0
        s.candidates.clear()


def _shape(prompt: str, shell: Shell) -> str:
    """The shape a prompt is learned as: a Windows prompt literal, a POSIX one with its variable
    parts (numbers, paths) and an optional git segment."""
    if shell != "posix":
        return windows.shape(prompt)
    return prompts.shape_of(prompt) + _vcs(prompt)


def _aligned(shells: list[Shell], n: int) -> list[Shell]:
    """One shell per learned prompt (a state stored before shells were kept: posix)."""
    return [*shells[:n], *(["posix"] * (n - len(shells)))]  # type: ignore[list-item]


def _could_be_prompt(prompt: str, line: str, *, expected: bool) -> bool:
    """Whether a repeated prefix may be the prompt: not one that runs on past a prompt character
    into the command (``λ ls ``), followed by what may be a command; when nothing explains a new
    prompt, only one ending with a usual prompt character."""
    words = prompt.split()
    if not expected and (prompt in prompts.BARE or not _literal(prompts.shape_of(prompt))):
        return False  # ``> `` or a prompt of variable parts only: too common in output
    if (
        len(words) >= 2
        and words[-1].isalpha()
        and words[-1].islower()
        and words[-2][-1:] in "$#%>\u276fλ»\u203a→\ufffd"
    ):
        return False
    typed = line[len(prompt) :]
    plausible = windows.plausible_command if windows.is_prompt(prompt) else prompts.plausible_command
    if not plausible(typed):
        return False
    if words[-1][-1:] not in prompts.PROMPT_ENDS + ")]":
        return False
    return expected or words[-1][-1:] in prompts.PROMPT_ENDS


def _literal(shape: str) -> bool:
    """Whether a shape keeps at least two literal characters besides spaces (an anchor)."""
    plain = re.sub(r"\\[ds]\+|\[\^[^\]]*\][*+]|\\ufffd\+|\\(.)", r"\1", shape)
    return sum(1 for c in plain if not c.isspace()) >= 2


def _vcs(prompt: str) -> str:
    """An optional git segment after a theme prompt that ends with a word (``➜  repo git:(main)``)."""
    tail = prompt.rstrip()[-1:]
    if not tail or tail in "$#%>:":
        return ""
    return r"(?:(?:git|hg):\([^()\s]*\) (?:✗ |\ufffd+ )?)?"
