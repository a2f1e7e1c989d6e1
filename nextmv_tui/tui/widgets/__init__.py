"""Widgets of the monitor's main screen."""
