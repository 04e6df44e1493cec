"""The command palette's commands in the order the app gives them (its own actions first, then
Textual's theme, keys and quit), instead of Textual's alphabetical order."""

from __future__ import annotations

from textual.command import DiscoveryHit, Hits
from textual.system_commands import SystemCommandsProvider


class MintCommands(SystemCommandsProvider):
    async def discover(self) -> Hits:
        for name, help_text, callback, discover in self.app.get_system_commands(self.screen):
            if discover:
                yield DiscoveryHit(name, callback, help=help_text)
