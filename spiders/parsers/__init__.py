"""Page parsers, one module per portal: a response in, a record or a list of links out."""
