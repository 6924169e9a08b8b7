"""Process designers' engine side: version lifecycle (four eyes), validation, diff, migration.

Nothing here imports Flask or the web package; the CLI (cli/definitions.py) and the designer
pages (web/designer/) call these modules.
"""
