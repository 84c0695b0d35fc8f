"""Everything that draws: consoles, tables, streaming Markdown, error lines."""
