"""Notifications to people (issue 15): who a message concerns, their channels, in-page notices."""
