"""Where a crawl's data goes and stays: MongoDB (`mongo`), the durable writer and its spill files (`durable`),
the raw WARC archive (`archive`), files created safely (`files`).
"""
