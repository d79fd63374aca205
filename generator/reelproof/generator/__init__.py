"""reelproof.generator."""
