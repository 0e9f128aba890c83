"""Development tools: evaluation, fitting. They use the bot package as users get it."""
