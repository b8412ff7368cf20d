"""Data access: functions that take a Session and return models or plain data."""
