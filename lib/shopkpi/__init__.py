"""shopkpi: analysis workspace for TikTok Shop brands and their agencies.

Kept import-light on purpose: Voila pages import ``shopkpi.app.dashboard`` on every view.
"""

__version__ = "0.1.0"
