"""reelproof.eval."""
