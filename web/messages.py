"""What the pages say when something is refused: every message in the user's language.

The engine words its errors for developers and logs (English, or "中文 / English" pairs for form
fields, or short fixed phrases per report field). A page never shows those as they are:

* :func:`field_message` — one field's message in the UI language (a pair is split; a known
  phrase is translated; a photo's refusal code becomes a sentence for the user);
* :func:`error_message` — the sentence an error page shows: the page's own (already translated)
  message for :class:`Shown` errors, else a translated sentence for the error's kind;
* :class:`Shown` — the mark of an error raised by a page with a message written for its user.
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.errors import CityCaseError, Conflict, Forbidden, NotFound, ValidationError

_PAIR = " / "


def is_english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


# engine.commands.report's fixed phrases and engine.geo's location phrases, for reporters.
_PHRASES = {
    "unknown field": _l("This field is not part of the form."),
    "not one of the allowed values": _l("Choose one of the listed values."),
    "too long": _l("The text is too long."),
    "wrong type": _l("Please check this value."),
    "a location (lon and lat) or a component_id is required": _l(
        "Give the place: use your position, tap the map or type the coordinates."),
    "unknown problem class": _l("Choose what kind of problem it is."),
    "only a supervisor can report a problem as fixed on the spot": _l("Only a supervisor can report a problem "
                                                                      "as fixed on the spot."),
    "outside the city": _l("This place is outside the city's area. Check the position on the map."),
    "no grid": _l("The city's map is not set up yet. Please try again later."),
    "not a number": _l("Please enter a number."),
    "unchanged": _l("Nothing was changed: choose a new class, urgency or place."),
    "required": _l("This field is required."),
    "must be between -180 and 180": _l("The longitude must be between -180 and 180."),
    "must be between -90 and 90": _l("The latitude must be between -90 and 90."),
}
# web.cases.attachments' refusal codes (ValidationError.fields["file"]).
_UPLOAD = {
    "not_an_image": _l("This file is not a photo we can read. Please send a JPEG, PNG or WebP photo."),
    "too_large": _l("The photo is too large. Please send a smaller one."),
    "empty": _l("The file is empty. Please choose the photo again."),
}


class Shown:
    """Mixin for errors raised by pages with a message already written for the user."""


class PageNotFound(Shown, NotFound):
    pass


class PageForbidden(Shown, Forbidden):
    pass


class PageConflict(Shown, Conflict):
    pass


def field_message(message: str) -> str:
    """One field's message in the UI language."""
    if _PAIR in message:
        zh, en = message.split(_PAIR, 1)
        return en if is_english() else zh
    if message in _PHRASES:
        return str(_PHRASES[message])
    if message.startswith("outside") or message.startswith("point ("):
        return str(_PHRASES["outside the city"])
    return message if is_english() else _("Please check this value.")


def field_messages(fields: dict[str, str]) -> dict[str, str]:
    return {key: field_message(value) for key, value in fields.items()}


def upload_message(exc: ValidationError) -> str:
    """Why a photo was refused, for the person who sent it."""
    code = (exc.fields or {}).get("file", "")
    return str(_UPLOAD.get(code, _UPLOAD["not_an_image"]))


def error_message(exc: CityCaseError) -> str:
    """The sentence an error page shows for ``exc``."""
    if isinstance(exc, Shown):
        return str(exc)
    if isinstance(exc, Forbidden):
        return _("You may not open this: it belongs to another role, department or area.")
    if isinstance(exc, NotFound):
        return _("The page or record does not exist.")
    if isinstance(exc, Conflict):
        return _("Someone was faster: the case has already been handled by someone else.")
    if isinstance(exc, ValidationError):
        if _PAIR in str(exc):
            return field_message(str(exc))
        return _("What was sent could not be accepted. Please check it and try again.")
    return _("Something went wrong. Please try again.")
