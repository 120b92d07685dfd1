"""What analysts get: the exports (`export`) and the HTML report (`report`)."""
