"""Device admin pages at /admin/devices (admin role): list, register (the key shown once), rotate a
key, deactivate; ``layer`` gives the map layer of devices' last states (the field map draws it)."""

from flask import Blueprint

bp = Blueprint("devices", __name__, url_prefix="/admin/devices")

from web.devices import views  # noqa: E402,F401
