"""The citycase web app (Flask). ``create_app`` is defined in ``web.app``."""


def create_app(config=None):
    from web.app import create_app as _create

    return _create(config)
