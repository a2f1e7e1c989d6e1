"""Modal screens of the monitor: submit, confirm cancel, help, save output, jump."""

from nextmv_tui.tui.screens.confirm_cancel import ConfirmCancelScreen
from nextmv_tui.tui.screens.help import HelpScreen
from nextmv_tui.tui.screens.jump import JumpScreen
from nextmv_tui.tui.screens.save_output import SaveOutputScreen
from nextmv_tui.tui.screens.submit import SubmitScreen

__all__ = [
    "ConfirmCancelScreen",
    "HelpScreen",
    "JumpScreen",
    "SaveOutputScreen",
    "SubmitScreen",
]
