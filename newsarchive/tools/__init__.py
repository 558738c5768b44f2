"""Commands over an existing archive: reextract, verify, wacz, replay, demo."""
