"""Business rules. No Flask request objects here: views, API, CLI and jobs call these."""
