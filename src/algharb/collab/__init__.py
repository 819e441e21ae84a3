"""Logit-fusion decoding with small MT experts: Collab-MT's Table 6 and proxy-tuning, as a workflow section."""
