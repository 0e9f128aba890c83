"""statement-bot: answers questions about a policy statement, quoting the paragraph (¶N)."""

__version__ = "0.1.0"
