"""Users, roles and API tokens of the web platform (issue #5)."""
