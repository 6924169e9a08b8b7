"""Validation problems and migration reasons as the designer reads them: each engine code with its
parameters through gettext (the engine keeps English only for the CLI and logs)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from engine.designer.migration import MoveBlock, MoveProblem
from engine.designer.validation import Problem, ProblemCode

PROBLEM_TEXT = {
    ProblemCode.NO_BPMN: _l("The set has no .bpmn file."),
    ProblemCode.BAD_NAME: _l("File names must be name.bpmn, name.dmn or forms/name.form."),
    ProblemCode.TOO_LARGE: _l("The file is larger than %(limit)s bytes."),
    ProblemCode.DOCTYPE: _l("The file declares a DOCTYPE or entities (an XML external entity attack is possible); "
                            "refused."),
    ProblemCode.NOT_XML: _l("The file is not well-formed XML: %(detail)s"),
    ProblemCode.SCHEMA: _l("Line %(line)s does not follow the BPMN schema: %(detail)s"),
    ProblemCode.UNSAFE: _l("The expression tries something not allowed (refused as unsafe): %(detail)s"),
    ProblemCode.BAD_EXPRESSION: _l("The expression is not valid: %(detail)s"),
    ProblemCode.UNKNOWN_LANE: _l("This user task is in lane “%(lane)s”; a user task must be in one of the lanes "
                                 "%(lanes)s."),
    ProblemCode.NO_FORM: _l("This user task needs a formKey property naming a form file of the set (it has "
                            "“%(key)s”)."),
    ProblemCode.BAD_FORM: _l("The form is not valid: %(detail)s"),
    ProblemCode.UNKNOWN_HANDLER: _l("This service task calls “%(operator)s”, which is not a registered handler."),
    ProblemCode.OUTPUT_NAME: _l("This decision table output needs a name."),
    ProblemCode.RULE_SHAPE: _l("This rule has %(inputs)s input and %(outputs)s output cells; the table has "
                               "%(table_inputs)s inputs and %(table_outputs)s outputs."),
    ProblemCode.OUTPUT_TYPE: _l("%(value)s is not a valid %(type)s for output “%(output)s”."),
    ProblemCode.NON_POSITIVE: _l("The time limit %(output)s must be positive (it is %(value)s)."),
    ProblemCode.BAD_UNIT: _l("%(output)s must be one of %(units)s (it is “%(value)s”)."),
    ProblemCode.UNKNOWN_DEPARTMENT: _l("Department “%(department)s” does not exist."),
    ProblemCode.UNKNOWN_CLASS: _l("Problem class “%(code)s” does not exist."),
    ProblemCode.UNREACHABLE: _l("No path leads to this element from a start event."),
    ProblemCode.PARSE: _l("The process engine refused the process: %(detail)s"),
}

MOVE_TEXT = {
    MoveBlock.ALREADY_THERE: _l("already on this version"),
    MoveBlock.OTHER_PROCESS: _l("runs process “%(process)s”, not “%(target)s”"),
    MoveBlock.SUBPROCESS_REMOVED: _l("subprocess “%(element)s” does not exist in the new version"),
    MoveBlock.REMOVED: _l("%(element)s: removed in the new version"),
    MoveBlock.RETYPED: _l("%(element)s: its type changed from %(before)s to %(after)s"),
    MoveBlock.LANE_MOVED: _l("%(element)s: moved from lane “%(before)s” to “%(after)s”"),
    MoveBlock.PREDECESSOR: _l("%(element)s: no longer follows %(predecessor)s"),
    MoveBlock.BOUNDARY_ADDED: _l("%(element)s: boundary event(s) %(events)s were added while its task is open and "
                                 "would never fire; move the case once the task is done"),
}


def problem_text(problem: Problem) -> str:
    return str(PROBLEM_TEXT[problem.code]) % problem.params if problem.params else str(PROBLEM_TEXT[problem.code])


def move_text(reason: MoveProblem) -> str:
    return str(MOVE_TEXT[reason.code]) % reason.params if reason.params else str(MOVE_TEXT[reason.code])


def problem_dict(problem: Problem) -> dict[str, object]:
    """For the editor's script: the engine's fields with the message in the designer's language."""
    return {**problem.as_dict(), "message": problem_text(problem)}
