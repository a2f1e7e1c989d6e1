"""Screens of the monitor: the main screen and its modals (submit, confirm cancel, help, save
output, jump).

Nothing is imported here: importing ``screens.main`` at launch must not pull the modals in
(the submit dialog imports the HTTP client, httpx and its TLS setup, which the first paint
does not need; each modal is imported where it is opened)."""
