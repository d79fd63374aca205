"""reelproof.provenance."""
