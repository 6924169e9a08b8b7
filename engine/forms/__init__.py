"""Task forms: form-js files beside the BPMN, read into a typed spec and used to check submissions.

* :mod:`engine.forms.spec` — the typed model (``FormSpec``, ``FormField``, ``Choice``, ``HideIf``);
* :mod:`engine.forms.parse` — a ``.form`` file (form-js JSON) into a spec, refusing what we do not support;
* :mod:`engine.forms.schema` — form-js's published JSON schema, checked first;
* :mod:`engine.forms.validate` — a submission into clean, JSON-native process data.
"""

from engine.forms.parse import load_form_text
from engine.forms.spec import Choice, FormError, FormField, FormSpec, HideIf, InputField
from engine.forms.validate import ATTACHMENT_TOKEN_RE, validate

__all__ = [
    "ATTACHMENT_TOKEN_RE",
    "Choice",
    "FormError",
    "FormField",
    "FormSpec",
    "HideIf",
    "InputField",
    "load_form_text",
    "validate",
]
