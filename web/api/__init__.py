"""The machine interfaces: the staff JSON API (/api/v1) and Open311 GeoReport v2 (/open311/v2).

Both API blueprints are exempt from CSRF form tokens: the JSON API accepts only application/json
bodies (which a foreign page cannot send with a visitor's cookie) and Open311 authenticates writes
by API key, not by cookie. ``admin_bp`` (/admin/apikeys, the admin page for API keys) keeps CSRF
protection.
"""

from web.api import exchange as _exchange  # noqa: F401,E402  (attaches /exchange/12345/orders to api_bp)
from web.api import intake as _intake  # noqa: F401,E402  (attaches /intake/observations to api_bp)
from web.api.admin_keys import admin_bp
from web.api.json_api import api_bp
from web.api.open311 import open311_bp
from web.extensions import csrf
from web.patrol import api as _patrol_api  # noqa: F401,E402  (attaches /patrol/positions to api_bp)

csrf.exempt(api_bp)
csrf.exempt(open311_bp)

__all__ = ["api_bp", "open311_bp", "admin_bp"]
