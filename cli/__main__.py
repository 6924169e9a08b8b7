"""``python -m cli …`` runs the same CLI as the ``citycase`` console script."""

from cli import main

main()
