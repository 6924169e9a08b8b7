"""The write side of the engine: every command that changes a case, each inside one CommandFrame.

Commands run inside the caller's transaction and never commit. Each reads the clock once (see
``frame``), locks or version-checks its case, and records exactly one history event. Modules:
``frame`` (the frame), ``steps`` (workflow changes shared with replay), ``snapshot``, ``live``
(the live-workflow cache), ``report`` (report checks), ``results`` (typed results), and the
commands in ``start``, ``tasks``, ``assign`` and ``cases``.
"""

from engine.commands.assign import assign
from engine.commands.cases import fire_timers, rate_case, supervise
from engine.commands.correct import correct_case
from engine.commands.followup import merge_case, reopen_case
from engine.commands.live import LIVE
from engine.commands.results import CaseResult, ClaimResult, RatingResult
from engine.commands.start import start_case
from engine.commands.tasks import claim, complete_task, form_options, release

__all__ = ["start_case", "assign", "correct_case", "claim", "release", "complete_task", "fire_timers", "supervise",
           "rate_case", "merge_case", "reopen_case", "form_options", "CaseResult", "ClaimResult", "RatingResult",
           "LIVE"]
