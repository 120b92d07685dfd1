"""The spiders, one module per portal, and what they share."""
