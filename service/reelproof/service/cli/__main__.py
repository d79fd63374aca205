"""``python -m reelproof.service.cli`` runs the CLI (used by tests, or with no script on PATH)."""

from reelproof.service.cli import main

main()
