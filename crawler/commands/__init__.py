"""The project's `scrapy` commands (COMMANDS_MODULE): `crawl` that exits with how the run ended."""
