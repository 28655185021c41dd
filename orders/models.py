"""Orders, payments and webhook events. Models arrive with the orders issue."""
