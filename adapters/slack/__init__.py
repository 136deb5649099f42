"""Slack: slack-bolt's AsyncApp in Socket Mode or HTTP mode (see SETUP.md)."""
