"""What every congso page shares: the words (vi, en), the layout, the stylesheet, and the
session and CSRF helpers. No service logic lives here."""
