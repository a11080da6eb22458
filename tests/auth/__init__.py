"""Token verification: dev tokens and Firebase ID tokens."""
